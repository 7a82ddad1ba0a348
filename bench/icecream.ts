// Icecream benchmark, on one machine, with real `crossroot run --accelerate`
// in the default (trixie) arm64 test root and a real cluster (Debian's
// icecc-scheduler and two iceccd helpers in network namespaces, over veth;
// test/support/icecream-cluster.ts):
//   1. per-job overhead of a remote compile against a local accelerated one:
//      the same small C and C++ compiles, one after the other, both ways;
//   2. the shares of a local accelerated build (the test's project: sqlite3 +
//      shell + a C++ self-test + 8 C++ units) that stay local with icecream,
//      preprocessing (`-E`) and linking, measured per job; and from them the
//      expected speed-up with 2, 4, 8 and 16 helpers of this machine's speed
//      (Amdahl: local part + (compile + overhead) / helpers).
// Run alone with `node --import tsx bench/icecream.ts`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../src/runner/process/process.ts';
import { ensureTestRoot } from '../test/support/cached-roots.ts';
import { populateProject } from '../test/support/sqlite-sources.ts';
import { startCluster } from '../test/support/icecream-cluster.ts';

const CLI = fileURLToPath(new URL('../src/cli/bin.ts', import.meta.url));
const REPEAT = 5;
const FLAGS = '-O1 -g';
const root = await ensureTestRoot('arm64', { toolchain: true });
const work = mkdtempSync(join(tmpdir(), 'crossroot-icecream-bench-'));
await populateProject(work);
const units = Array.from({ length: 8 }, (_, i) => `unit${String(i)}.cpp`);
for (const [i, name] of units.entries()) {
  writeFileSync(join(work, name), `#include <map>\n#include <sstream>\n#include <string>\nstd::string u${String(i)}(int n) { std::map<std::string, int> m; for (int k = 0; k < n; ++k) m[std::to_string(k)] = k; std::ostringstream o; o << m.size(); return o.str(); }\n${i === 0 ? 'int main() { return u0(3).size() == 1 ? 0 : 1; }\n' : ''}`);
}
/** `t CMD...` prints the milliseconds CMD took (inside the root: dash + coreutils date). */
const TIMER = 't() { s=$(date +%s%N); "$@" >/dev/null 2>&1 || exit 1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }';

const cluster = await startCluster({ helpers: 2, jobs: 2, subnet: 240 });
async function inRoot(script: string, icecream: boolean): Promise<string> {
  const result = await runProcess(cluster.inClient([process.execPath, '--import', 'tsx', CLI, 'run', root, '--accelerate',
    ...(icecream ? ['--icecream', cluster.scheduler] : []), '--bind', `${work}:/tmp`, '--workdir', '/tmp', '--', 'sh', '-c', `${TIMER}; ${script}`]),
  { timeoutMs: 60 * 60 * 1000 });
  if (result.exitCode !== 0) throw new Error(`exit ${String(result.exitCode)}: ${result.stderr.slice(-800)}`);
  if (/fell back|unreachable|did not reach/.test(result.stderr)) throw new Error(`the cluster did not serve every job: ${result.stderr}`);
  return result.stdout;
}
const numbers = (text: string): number[] => text.trim().split('\n').map(Number);
const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const row = (label: string, value: string): void => { process.stdout.write(`${label.padEnd(58)} ${value}\n`); };

try {
  process.stdout.write(`load average before: ${loadavg().map((value) => value.toFixed(2)).join(' ')}\n`);
  // 1. Per-job overhead, C and C++ (the first of each is a warm-up: the helpers unpack the tarball once).
  const perJob = async (icecream: boolean, source: string, compiler: string): Promise<number> =>
    median(numbers(await inRoot(`for i in 0 ${Array.from({ length: REPEAT }, (_, i) => String(i + 1)).join(' ')}; do t ${compiler} ${FLAGS} -c ${source} -o job.o; done`, icecream)).slice(1));
  const jobs: [string, string][] = [['minishell.c', 'gcc'], ['unit1.cpp', 'g++']];
  const overheads: number[] = [];
  for (const [source, compiler] of jobs) {
    const local = await perJob(false, source, compiler);
    const remote = await perJob(true, source, compiler);
    overheads.push(remote - local);
    row(`${compiler} ${FLAGS} -c ${source}: local accelerated / remote (median of ${String(REPEAT)})`, `${String(local)} ms / ${String(remote)} ms (+${String(remote - local)} ms)`);
  }
  const overhead = Math.max(0, median(overheads));
  // 2. Shares of a local accelerated build: preprocessing and compiling per job, and the links.
  const sources = [['sqlite3.c', 'gcc', '-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION'], ['minishell.c', 'gcc', ''], ['selftest.cpp', 'g++', ''],
    ...units.map((unit) => [unit, 'g++', ''])];
  const pre = numbers(await inRoot(sources.map(([file, cc, defs]) => `t ${cc ?? ''} ${FLAGS} ${defs ?? ''} -E ${file ?? ''} -o pre.i`).join('; '), false));
  const compile = numbers(await inRoot(sources.map(([file, cc, defs]) => `t ${cc ?? ''} ${FLAGS} ${defs ?? ''} -c ${file ?? ''} -o ${(file ?? '').replace(/\.c(pp)?$/, '.o')}`).join('; '), false));
  const link = numbers(await inRoot(['t gcc -o minishell sqlite3.o minishell.o -lm', 't g++ -o selftest selftest.o sqlite3.o -lm',
    `t g++ -o units ${units.map((unit) => unit.replace('.cpp', '.o')).join(' ')}`].join('; '), false));
  const local = sum(compile) + sum(link);
  const serial = sum(pre) + sum(link);
  const remote = sum(compile) - sum(pre) + overhead * sources.length;
  row('local accelerated build, one job at a time', `${(local / 1000).toFixed(1)} s (compile ${(sum(compile) / 1000).toFixed(1)} s, link ${(sum(link) / 1000).toFixed(1)} s)`);
  row('stays local with icecream: preprocessing + linking', `${(serial / 1000).toFixed(1)} s (${(100 * serial / local).toFixed(0)}%)`);
  const estimates = [2, 4, 8, 16].map((helpers) => `${String(helpers)}: ${(local / (serial + remote / helpers)).toFixed(1)}x`);
  row(`expected speed-up (Amdahl, +${String(overhead)} ms per job) with N helpers`, estimates.join(', '));
  process.stdout.write(`load average after: ${loadavg().map((value) => value.toFixed(2)).join(' ')}\n`);
  process.stdout.write(`scheduler log: ${readFileSync(cluster.schedulerLog, 'utf8').split('\n').filter((line) => / END \d+ status=0 /.test(line)).length} remote jobs\n`);
} finally {
  await cluster.stop();
  rmSync(work, { recursive: true, force: true });
}
