// Acceleration benchmark, side by side in one run, in the trixie arm64 root:
//   1. `gcc -O1 -c sqlite3.c` emulated, accelerated, and with the tools root's
//      same-version cross compiler run natively outside the root (--sysroot);
//   2. `make -j2` of a real project (sqlite3 + a C shell + a C++ self-test)
//      emulated vs accelerated.
// Goals (issue 5): accelerated >= 6x faster than emulated and within 1.2x of
// the native cross compiler for the single compile. Run alone with
// `node --import tsx bench/accelerate.ts`.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planRootAcceleration } from '../src/runner/accelerate.ts';
import { runInRoot } from '../test/support/accel-harness.ts';
import { ensureAccelRoot } from '../test/support/accel-roots.ts';

const root = await ensureAccelRoot('trixie');
const facts = await planRootAcceleration(root);
if (facts.plan.refused !== null || facts.toolsRoot === null) throw new Error(`not accelerated: ${facts.plan.refused ?? 'no tools root'}`);
const major = facts.plan.gccMajors.at(-1) ?? '';
const triplet = facts.plan.triplet ?? '';

const work = mkdtempSync(join(tmpdir(), 'crossroot-accel-bench-'));
const project = fileURLToPath(new URL('../test/fixtures/accel-project/', import.meta.url));
const sqlite = fileURLToPath(new URL('../.cache/accel-sqlite/package/deps/sqlite3/', import.meta.url));
cpSync(project, work, { recursive: true });
try {
  for (const name of ['sqlite3.c', 'sqlite3.h']) cpSync(join(sqlite, name), join(work, name));
} catch {
  throw new Error('sqlite3 sources missing: run the acceleration test once (it fetches them with npm pack)');
}
const bind = [{ source: work, target: '/tmp' }];
const rows: [string, number][] = [];
async function time(label: string, run: Promise<{ exitCode: number | null; seconds: number; stderr: string }>): Promise<number> {
  const result = await run;
  if (result.exitCode !== 0) throw new Error(`${label}: exit ${String(result.exitCode)}: ${result.stderr.slice(-500)}`);
  rows.push([label, result.seconds]);
  process.stdout.write(`${label.padEnd(58)} ${result.seconds.toFixed(1).padStart(7)} s\n`);
  return result.seconds;
}

try {
  const emulated = await time('gcc -O1 -c sqlite3.c, emulated', runInRoot(root, ['sh', '-c', 'cd /tmp && gcc -O1 -c sqlite3.c -o emu.o'], { binds: bind }));
  const accelerated = await time('gcc -O1 -c sqlite3.c, accelerated', runInRoot(root, ['sh', '-c', 'cd /tmp && gcc -O1 -c sqlite3.c -o acc.o'], { mounts: facts.plan.mounts, binds: bind }));
  // The same cross compiler, run natively in the tools root, with the arm64 root as sysroot.
  const native = await time(`${triplet}-gcc-${major} -O1 -c sqlite3.c, native, outside the root`, runInRoot(facts.toolsRoot,
    ['sh', '-c', `cd /tmp && ${triplet}-gcc-${major} --sysroot=/mnt -O1 -c sqlite3.c -o native.o`],
    { binds: [...bind, { source: root, target: '/mnt' }] }));
  const identical = Buffer.compare(readFileSync(join(work, 'emu.o')), readFileSync(join(work, 'acc.o'))) === 0;
  const makeEmulated = await time('make -j2 (sqlite3 + shell + C++ self-test), emulated', runInRoot(root, ['sh', '-c', 'cd /tmp && make clean >/dev/null && make -j2 >/dev/null'], { binds: bind }));
  const makeAccelerated = await time('make -j2 (sqlite3 + shell + C++ self-test), accelerated', runInRoot(root, ['sh', '-c', 'cd /tmp && make clean >/dev/null && make -j2 >/dev/null && make check >/dev/null'], { mounts: facts.plan.mounts, binds: bind }));
  const speedup = emulated / accelerated;
  const overNative = accelerated / native;
  process.stdout.write(`\nsingle compile: accelerated ${speedup.toFixed(1)}x faster than emulated (goal >= 6x), `
    + `${overNative.toFixed(2)}x the native cross compiler (goal <= 1.2x); objects ${identical ? 'byte-identical' : 'DIFFERENT'}\n`);
  process.stdout.write(`make -j2: accelerated ${(makeEmulated / makeAccelerated).toFixed(1)}x faster than emulated\n`);
  process.exitCode = speedup >= 6 && overNative <= 1.2 && identical ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
