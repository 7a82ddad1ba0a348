// A cold create of the default root (arm64 trixie minbase + build-essential:
// what `crossroot run --arch arm64` makes on first use), side by side in one
// run, every package from one filled package cache (no downloads timed):
//   crossroot create --fresh --no-twins   every program emulated
//   crossroot create --fresh              twins after the essential phase
//   mmdebstrap alone                      the same mmdebstrap command crossroot runs,
//                                         in the same private namespace, without hooks
// The twins come from the suite's amd64 tools root (created first if missing:
// the first `crossroot run --accelerate` makes one too). Rounds alternate the
// three so that load drifts hit each alike.
//
//   node --import tsx bench/create-twins.ts [--arch A] [--suite S] [--include P,...] [--rounds N] [--cache DIR]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { createRoot } from '../src/runner/create/create.ts';
import { runInBuildNamespace } from '../src/runner/create/build-namespace.ts';
import { ensureTwinsToolsRoot, existingToolsRoot } from '../src/runner/accelerate/accelerate.ts';
import { DEFAULT_MIRROR, aptCacheDir, planBootstrap, resolveTargetArch } from '../src/core/create/create-plan.ts';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] ?? fallback : fallback;
}

const arch = option('--arch', 'arm64');
const suite = option('--suite', 'trixie');
const includes = option('--include', 'build-essential').split(',').filter((name) => name !== '');
const rounds = Number(option('--rounds', '1'));
const target = resolveTargetArch(arch);
const work = mkdtempSync('/var/tmp/crossroot-bench-create-twins-');
// --cache DIR: a package cache that holds the packages already (the tests' one does), so no filling create is needed.
const given = option('--cache', '');
const cache = given === '' ? join(work, 'cache') : given;
const times: Record<string, number[]> = { emulated: [], twins: [], mmdebstrap: [] };
const load = (): string => loadavg().map((value) => value.toFixed(1)).join(' ');

async function timed(name: string, work: () => Promise<string>): Promise<void> {
  const started = performance.now();
  const note = await work();
  const seconds = (performance.now() - started) / 1000;
  times[name]?.push(seconds);
  process.stderr.write(`${name}: ${seconds.toFixed(1)} s ${note} (load ${load()})\n`);
}

async function crossrootCreate(dir: string, twins: boolean): Promise<string> {
  const result = await createRoot({ dir, arch, suite, includes, cacheRoot: cache, fresh: true, twins });
  rmSync(dir, { recursive: true, force: true });
  return `(${String(result.twins?.substituted ?? 0)} twins${result.twins?.refused == null ? '' : `: ${result.twins.refused}`}; ${String(result.cache.downloaded)} downloaded)`;
}

async function mmdebstrapAlone(dir: string): Promise<string> {
  mkdirSync(join(dir, 'var/cache/apt/archives/partial'), { recursive: true });
  const plan = planBootstrap({ tool: 'mmdebstrap', target, suite, variant: 'minbase', includes, mirror: DEFAULT_MIRROR, dir, emulate: true, keepLists: true });
  const run = await runInBuildNamespace({
    register: plan.register,
    binds: [{ source: aptCacheDir(cache, suite, target.debianArch), target: join(dir, plan.cacheMountPoint) }],
    commands: plan.commands,
  });
  rmSync(dir, { recursive: true, force: true });
  if (!run.ok) throw new Error(run.output.split('\n').slice(-3).join(' | '));
  return '';
}

try {
  const toolsRoot = existingToolsRoot(suite) ?? await ensureTwinsToolsRoot(suite);
  process.stderr.write(`tools root: ${toolsRoot}\n`);
  if (given === '') {
    process.stderr.write('filling the package cache (not timed)\n');
    await crossrootCreate(join(work, 'fill'), true);
  }
  for (let round = 0; round < rounds; round += 1) {
    await timed('emulated', () => crossrootCreate(join(work, 'emulated'), false));
    await timed('twins', () => crossrootCreate(join(work, 'twins'), true));
    await timed('mmdebstrap', () => mmdebstrapAlone(join(work, 'mm')));
  }
  const median = (values: readonly number[]): number => {
    const sorted = [...values].sort((x, y) => x - y);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  };
  const [emulated, twins, mm] = [median(times['emulated'] ?? []), median(times['twins'] ?? []), median(times['mmdebstrap'] ?? [])];
  process.stdout.write(`\ncold create of ${target.debianArch} ${suite} minbase + ${includes.join(',')} (seconds, median of ${String(rounds)}, package cache filled)\n`);
  process.stdout.write(`  crossroot create --no-twins   ${emulated.toFixed(1).padStart(7)}\n`);
  process.stdout.write(`  crossroot create (twins)      ${twins.toFixed(1).padStart(7)}\n`);
  process.stdout.write(`  mmdebstrap alone              ${mm.toFixed(1).padStart(7)}\n`);
  process.stdout.write(`  twins / --no-twins:           ${(twins / emulated).toFixed(2)}x\n`);
  process.stdout.write(`  twins / mmdebstrap alone:     ${(twins / mm).toFixed(2)}x\n`);
  process.stdout.write(`  --no-twins / mmdebstrap alone: ${(emulated / mm).toFixed(2)}x\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
