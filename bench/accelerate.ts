// Acceleration benchmark, side by side in one run, with real `crossroot run`
// in the default (trixie) arm64 test root:
//   1. `gcc -O1 -c sqlite3.c` emulated, `run --accelerate`, and the tools
//      root's same-version cross compiler run natively outside the root
//      (`crossroot run TOOLS_ROOT`, amd64, with the arm64 root as --sysroot);
//   2. `make -j2` of a real project (sqlite3 + a C shell + a C++ self-test)
//      emulated vs accelerated.
// Each time is the wall time of the whole `crossroot run` (setup included).
// Goals (issue 5): accelerated >= 6x faster than emulated and within 1.2x of
// the native cross compiler for the single compile. Run alone with
// `node --import tsx bench/accelerate.ts`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planRootAcceleration } from '../src/runner/accelerate/accelerate.ts';
import { runProcess } from '../src/runner/process/process.ts';
import { ensureTestRoot } from '../test/support/cached-roots.ts';
import { populateProject } from '../test/support/sqlite-sources.ts';

const CLI = fileURLToPath(new URL('../src/cli/bin.ts', import.meta.url));
const root = await ensureTestRoot('arm64', { toolchain: true });
const facts = await planRootAcceleration(root);
if (facts.plan.refused !== null || facts.toolsRoot === null) throw new Error(`not accelerated: ${facts.plan.refused ?? 'no tools root'}`);
const major = facts.plan.gccMajors.at(-1) ?? '';
const triplet = facts.plan.triplet ?? '';

const work = mkdtempSync(join(tmpdir(), 'crossroot-accel-bench-'));
await populateProject(work);

async function time(label: string, argv: readonly string[]): Promise<number> {
  const started = performance.now();
  const result = await runProcess([process.execPath, '--import', 'tsx', CLI, 'run', ...argv], { timeoutMs: 60 * 60 * 1000 });
  const seconds = (performance.now() - started) / 1000;
  if (result.exitCode !== 0) throw new Error(`${label}: exit ${String(result.exitCode)}: ${result.stderr.slice(-800)}`);
  process.stdout.write(`${label.padEnd(62)} ${seconds.toFixed(1).padStart(7)} s\n`);
  return seconds;
}
const inRoot = (accelerate: boolean, script: string): string[] =>
  [root, ...(accelerate ? ['--accelerate'] : []), '--bind', `${work}:/tmp`, '--workdir', '/tmp', '--', 'sh', '-c', script];

try {
  process.stdout.write(`load average before: ${loadavg().map((value) => value.toFixed(2)).join(' ')}\n`);
  const emulated = await time('gcc -O1 -c sqlite3.c, emulated', inRoot(false, 'gcc -O1 -c sqlite3.c -o emu.o'));
  const accelerated = await time('gcc -O1 -c sqlite3.c, run --accelerate', inRoot(true, 'gcc -O1 -c sqlite3.c -o acc.o'));
  // The same cross compiler, run natively in the amd64 tools root, with the arm64 root as sysroot.
  const native = await time(`${triplet}-gcc-${major} -O1 -c sqlite3.c, native, outside the root`, [facts.toolsRoot,
    '--bind', `${work}:/tmp`, '--bind', `${root}:/mnt:ro`, '--workdir', '/tmp', '--',
    `${triplet}-gcc-${major}`, '--sysroot=/mnt', '-O1', '-c', 'sqlite3.c', '-o', 'native.o']);
  const identical = Buffer.compare(readFileSync(join(work, 'emu.o')), readFileSync(join(work, 'acc.o'))) === 0;
  const makeEmulated = await time('make -j2 (sqlite3 + shell + C++ self-test), emulated', inRoot(false, 'make clean >/dev/null && make -j2 >/dev/null'));
  const makeAccelerated = await time('make -j2 (sqlite3 + shell + C++ self-test), accelerated', inRoot(true, 'make clean >/dev/null && make -j2 >/dev/null && make check >/dev/null'));
  const speedup = emulated / accelerated;
  const overNative = accelerated / native;
  process.stdout.write(`\nsingle compile: accelerated ${speedup.toFixed(1)}x faster than emulated (goal >= 6x), `
    + `${overNative.toFixed(2)}x the native cross compiler (goal <= 1.2x); objects ${identical ? 'byte-identical' : 'DIFFERENT'}\n`);
  process.stdout.write(`make -j2: accelerated ${(makeEmulated / makeAccelerated).toFixed(1)}x faster than emulated\n`);
  process.stdout.write(`load average after: ${loadavg().map((value) => value.toFixed(2)).join(' ')}\n`);
  process.exitCode = speedup >= 6 && overNative <= 1.2 && identical ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
