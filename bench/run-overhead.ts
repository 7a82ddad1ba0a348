// Startup overhead of `crossroot run ROOT -- /bin/true` beside its peers, and
// what it adds over the floor of any Node CLI that enters a root: one
// `node -e 0` plus a bare `unshare --mount chroot ROOT /bin/true` (issue 10's
// budget: 25 ms). On a small arm64 root (emulated) and an amd64 root (native),
// N runs of each row, interleaved (one run of every row, then the next round),
// so that a load that comes and goes weighs on all rows alike; the load
// average before and after is printed with the figures.
//   crossroot run (shipped)  dist/cli/crossroot.cjs, the package's bin: the bundled CLI with its code cache
//   crossroot run (modules)  dist/cli/bin.js, the same code as separate ES modules (tsc's output), for comparison
//   chroot                   chroot ROOT /bin/true           (no namespaces, no API filesystems)
//   unshare+chroot           unshare --mount chroot ROOT /bin/true
//   arch-chroot              arch-chroot ROOT /bin/true      (mounts proc, sys, dev, ... in the host namespace)
//   proot                    proot [-q qemu-aarch64-static] -r ROOT /bin/true
//   qemu -L                  qemu-aarch64-static -L ROOT ROOT/bin/true (the bare emulator, arm64 only)
//   references               node -e 0 and crossroot --version (shipped): the startup floor of a node CLI
// chroot, unshare+chroot and arch-chroot run foreign binaries only through a
// HOST binfmt_misc entry; crossroot never registers one on the host, so on a
// host without an aarch64 entry those rows say n/a for arm64.
// Usage: node --import tsx bench/run-overhead.ts [RUNS]
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../src/runner/process/process.ts';
import { LOADER_NAME, writeBundle, writeCodeCache } from '../src/cli/write-bundle.ts';
import { makeTestRoot } from '../test/support/package-roots.ts';

const runs = Number(process.argv[2] ?? 20);
const project = fileURLToPath(new URL('..', import.meta.url));
const distHome = join(project, '.cache/bench-run-overhead');

/** Builds crossroot as `npm run build` does into .cache (a dist of its own, so the bench never races a build of dist/). */
async function buildDist(): Promise<{ shipped: string; modules: string }> {
  rmSync(distHome, { recursive: true, force: true });
  mkdirSync(distHome, { recursive: true });
  copyFileSync(join(project, 'package.json'), join(distHome, 'package.json'));
  symlinkSync(join(project, 'node_modules'), join(distHome, 'node_modules'));
  const build = await runProcess([process.execPath, join(project, 'node_modules/typescript/bin/tsc'), '-p', join(project, 'tsconfig.build.json'), '--outDir', join(distHome, 'dist')]);
  if (build.exitCode !== 0) throw new Error(`build: ${build.stdout}${build.stderr}`);
  const helperDir = join(distHome, 'dist/runner/enter');
  const helper = await runProcess(['cc', '-O2', '-Wall', '-Wextra', '-o', join(helperDir, 'crossroot-enter'), join(project, 'src/runner/enter/crossroot-enter.c')]);
  if (helper.exitCode !== 0) throw new Error(`build the run helper: ${helper.stderr}`);
  await writeBundle(join(project, 'src'), join(distHome, 'dist'));
  await writeCodeCache(join(distHome, 'dist'));
  return { shipped: join(distHome, 'dist/cli', LOADER_NAME), modules: join(distHome, 'dist/cli/bin.js') };
}

function hostHandles(magicMachine: string): boolean {
  const dir = '/proc/sys/fs/binfmt_misc';
  try {
    return readdirSync(dir).some((name) => {
      if (name === 'register' || name === 'status') return false;
      const text = readFileSync(join(dir, name), 'utf8');
      return text.startsWith('enabled') && text.includes(magicMachine);
    });
  } catch {
    return false;
  }
}

interface Row { readonly name: string; readonly argv: readonly string[] | null; readonly note?: string }

interface Figures { readonly median: number; readonly mean: number; readonly min: number; readonly failures: number }

/** Runs every row `runs` times, round by round (after one warm-up round for the page cache). */
async function measureInterleaved(rows: readonly (Row & { readonly argv: readonly string[] })[]): Promise<Map<string, Figures>> {
  const times = new Map<string, number[]>(rows.map((row) => [row.name, []]));
  const failures = new Map<string, number>(rows.map((row) => [row.name, 0]));
  for (const row of rows) await runProcess(row.argv, { timeoutMs: 60_000 });
  for (let i = 0; i < runs; i++) {
    for (const row of rows) {
      const start = performance.now();
      const result = await runProcess(row.argv, { timeoutMs: 60_000 });
      times.get(row.name)?.push(performance.now() - start);
      if (result.exitCode !== 0) failures.set(row.name, (failures.get(row.name) ?? 0) + 1);
    }
  }
  return new Map(rows.map((row) => {
    const sorted = [...times.get(row.name) ?? []].sort((a, b) => a - b);
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    return [row.name, { median: sorted[Math.floor(sorted.length / 2)] ?? 0, mean, min: sorted[0] ?? 0, failures: failures.get(row.name) ?? 0 }];
  }));
}

const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const { shipped, modules } = await buildDist();
process.stdout.write(`run overhead: ${runs} interleaved runs of each row, wall time in ms; load average before: ${loadAverage()}\n`);

for (const arch of ['arm64', 'amd64'] as const) {
  const root = await makeTestRoot(arch);
  try {
    const dir = root.dir;
    for (const sub of ['proc', 'sys', 'dev', 'run']) mkdirSync(join(dir, sub), { recursive: true });
    const foreign = arch === 'arm64';
    const hostOk = !foreign || hostHandles('0200b700'); // e_machine 183 (aarch64) in the magic
    const na = 'n/a: no host binfmt_misc entry for aarch64 (crossroot never adds one to the host)';
    const proot = foreign ? 'proot -q qemu-aarch64-static' : 'proot';
    const rows: Row[] = [
      { name: 'crossroot run (shipped)', argv: [process.execPath, shipped, 'run', dir, '--', '/bin/true'] },
      { name: 'crossroot run (modules)', argv: [process.execPath, modules, 'run', dir, '--', '/bin/true'] },
      { name: 'chroot', argv: hostOk ? ['chroot', dir, '/bin/true'] : null, note: na },
      { name: 'unshare --mount + chroot', argv: hostOk ? ['unshare', '--mount', 'chroot', dir, '/bin/true'] : null, note: na },
      { name: 'arch-chroot', argv: hostOk && existsSync('/usr/bin/arch-chroot') ? ['arch-chroot', dir, '/bin/true'] : null, note: hostOk ? 'n/a: arch-chroot not installed' : na },
      { name: proot, argv: existsSync('/usr/bin/proot') ? ['proot', ...(foreign ? ['-q', 'qemu-aarch64-static'] : []), '-r', dir, '/bin/true'] : null, note: 'n/a: proot not installed' },
      ...(foreign ? [{ name: 'qemu-aarch64-static -L (bare emulator)', argv: ['qemu-aarch64-static', '-L', dir, join(dir, 'bin/true')] }] : []),
      // The floor of any node CLI: crossroot run starts node once, then its native helper.
      { name: 'reference: node -e 0 (one node start)', argv: [process.execPath, '-e', '0'] },
      { name: 'reference: crossroot --version (shipped)', argv: [process.execPath, shipped, '--version'] },
    ];
    process.stdout.write(`\n${arch} root (${foreign ? 'emulated' : 'native'}):\n`);
    const measured = rows.flatMap((row) => row.argv === null ? [] : [{ ...row, argv: row.argv }]);
    const results = await measureInterleaved(measured);
    for (const row of rows) {
      const figures = results.get(row.name);
      if (figures === undefined) {
        process.stdout.write(`  ${row.name.padEnd(42)} ${row.note ?? 'n/a'}\n`);
        continue;
      }
      const { median, mean, min, failures } = figures;
      process.stdout.write(`  ${row.name.padEnd(42)} median ${median.toFixed(1).padStart(7)}  mean ${mean.toFixed(1).padStart(7)}  min ${min.toFixed(1).padStart(7)}${failures > 0 ? `  (${failures} failed runs)` : ''}\n`);
    }
    const median = (name: string): number | undefined => results.get(name)?.median;
    const node = median('reference: node -e 0 (one node start)');
    // The bare way to run the root's /bin/true: a namespace + chroot, or (no host binfmt entry) the emulator alone.
    const [bareName, bare] = ['unshare --mount + chroot', 'qemu-aarch64-static -L (bare emulator)']
      .map((name) => [name, median(name)] as const).find(([, time]) => time !== undefined) ?? ['nothing', undefined];
    for (const ours of ['crossroot run (shipped)', 'crossroot run (modules)']) {
      const time = median(ours);
      if (time === undefined || node === undefined) continue;
      // What crossroot adds over the floor: one node start plus the bare run (issue 10's budget: 25 ms).
      const floor = node + (bare ?? 0);
      process.stdout.write(`  ${ours}: overhead over node -e 0 + ${bareName}: ${(time - floor).toFixed(1)} ms (x${(time / floor).toFixed(2)} of the floor, medians)\n`);
    }
    const time = median('crossroot run (shipped)');
    for (const peer of ['arch-chroot', 'unshare --mount + chroot', proot]) {
      const theirs = median(peer);
      if (time !== undefined && theirs !== undefined) process.stdout.write(`  ratio crossroot run (shipped) / ${peer}: ${(time / theirs).toFixed(2)}x\n`);
    }
  } finally {
    root.remove();
  }
}
process.stdout.write(`\nload average after: ${loadAverage()}\n`);
