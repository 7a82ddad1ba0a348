// Time to create an arm64 bookworm minbase root, side by side in one run:
//   crossroot create, cold (empty cache), warm (snapshot of the identical earlier
//   create) and warm --fresh (bootstrap again, every package from the cache);
//   mmdebstrap run directly; debootstrap --foreign + --second-stage.
// The host has no binfmt registration, so mmdebstrap and debootstrap's second
// stage run in the same private namespace crossroot uses (a user namespace with
// its own binfmt_misc instance holding an F entry for qemu-aarch64-static):
// what a user of those tools would otherwise get from a host registration.
//
//   node --import tsx bench/create.ts [--suite S] [--arch A]
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRoot } from '../src/runner/create/create.ts';
import { runInBuildNamespace } from '../src/runner/create/build-namespace.ts';
import { DEFAULT_MIRROR, privateRegisterString, resolveTargetArch, staticEmulatorPath } from '../src/core/create/create-plan.ts';
import { runProcess } from '../src/runner/process/process.ts';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] ?? fallback : fallback;
}

const suite = option('--suite', 'bookworm');
const arch = option('--arch', 'arm64');
const target = resolveTargetArch(arch);
const register = privateRegisterString(target.arch, staticEmulatorPath(target.arch));
const work = mkdtempSync('/var/tmp/crossroot-bench-create-');
const cache = join(work, 'cache');
const rows: { name: string; seconds: number | null; note: string }[] = [];

async function timed(name: string, work: () => Promise<string>): Promise<number | null> {
  const started = performance.now();
  try {
    const note = await work();
    const seconds = (performance.now() - started) / 1000;
    rows.push({ name, seconds, note });
    process.stderr.write(`${name}: ${seconds.toFixed(1)} s ${note}\n`);
    return seconds;
  } catch (error) {
    rows.push({ name, seconds: null, note: `failed: ${error instanceof Error ? error.message : String(error)}` });
    process.stderr.write(`${name}: failed: ${String(error)}\n`);
    return null;
  }
}

try {
  const cold = await timed('crossroot create (cold: empty cache)', async () => {
    const result = await createRoot({ dir: join(work, 'cr-cold'), arch, suite, cacheRoot: cache });
    return `(${result.cache.downloaded} packages downloaded)`;
  });
  const warm = await timed('crossroot create (warm: snapshot)', async () => {
    const result = await createRoot({ dir: join(work, 'cr-warm'), arch, suite, cacheRoot: cache });
    return `(snapshot ${String(result.cache.snapshot)})`;
  });
  const fresh = await timed('crossroot create --fresh (warm package cache)', async () => {
    const result = await createRoot({ dir: join(work, 'cr-fresh'), arch, suite, cacheRoot: cache, fresh: true });
    return `(${result.cache.downloaded} downloaded)`;
  });
  for (const dir of ['cr-cold', 'cr-warm', 'cr-fresh']) rmSync(join(work, dir), { recursive: true, force: true });
  const mmdebstrap = await timed('mmdebstrap --mode=root --variant=minbase (direct)', async () => {
    const run = await runInBuildNamespace({
      register, binds: [],
      commands: [['mmdebstrap', '--mode=root', '--variant=minbase', `--architectures=${target.debianArch}`, '--skip=check/qemu', suite, join(work, 'mm'), DEFAULT_MIRROR]],
    });
    if (!run.ok) throw new Error(run.output.split('\n').slice(-3).join(' | '));
    return '';
  });
  rmSync(join(work, 'mm'), { recursive: true, force: true });
  const debootstrap = await timed('debootstrap --foreign + --second-stage', async () => {
    const dir = join(work, 'db');
    // First stage as the host's root: downloads and unpacks, needs no emulation, may mknod.
    const first = await runProcess(['debootstrap', '--foreign', `--arch=${target.debianArch}`, '--variant=minbase', suite, dir, DEFAULT_MIRROR]);
    if (first.exitCode !== 0) throw new Error(`first stage: ${first.stderr.split('\n').slice(-3).join(' | ')}`);
    const second = await runInBuildNamespace({ register, binds: [], commands: [['chroot', dir, '/debootstrap/debootstrap', '--second-stage']] });
    if (!second.ok) throw new Error(`second stage: ${second.output.split('\n').slice(-3).join(' | ')}`);
    return '';
  });
  rmSync(join(work, 'db'), { recursive: true, force: true });

  const ratio = (a: number | null, b: number | null): string => (a === null || b === null ? 'n/a' : `${(a / b).toFixed(2)}x`);
  process.stdout.write(`\ncreate an ${target.debianArch} ${suite} minbase root (seconds, one run each)\n`);
  for (const row of rows) process.stdout.write(`  ${row.name.padEnd(52)} ${row.seconds === null ? '   n/a' : row.seconds.toFixed(1).padStart(6)}  ${row.note}\n`);
  process.stdout.write(`  mmdebstrap direct / crossroot warm (snapshot):      ${ratio(mmdebstrap, warm)}\n`);
  process.stdout.write(`  mmdebstrap direct / crossroot --fresh (pkg cache):  ${ratio(mmdebstrap, fresh)}\n`);
  process.stdout.write(`  debootstrap / mmdebstrap direct:                    ${ratio(debootstrap, mmdebstrap)}\n`);
  process.stdout.write(`  crossroot cold / mmdebstrap direct:                 ${ratio(cold, mmdebstrap)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
