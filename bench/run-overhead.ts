// Startup overhead of `crossroot run ROOT -- /bin/true` beside its peers (and
// what it adds over `node -e ''` + a bare unshare+chroot, the floor of a Node CLI), on a
// small arm64 root (emulated) and an amd64 root (native), N runs each, one
// tool after the other:
//   crossroot run       node dist/cli/bin.js (compiled, as installed) and via tsx
//   chroot              chroot ROOT /bin/true           (no namespaces, no API filesystems)
//   unshare+chroot      unshare --mount chroot ROOT /bin/true
//   arch-chroot         arch-chroot ROOT /bin/true      (mounts proc, sys, dev, ... in the host namespace)
//   proot               proot [-q qemu-aarch64-static] -r ROOT /bin/true
//   qemu -L             qemu-aarch64-static -L ROOT ROOT/bin/true (the bare emulator, arm64 only)
//   references          node -e '' and crossroot --version: the startup floor of a node CLI
// chroot, unshare+chroot and arch-chroot run foreign binaries only through a
// HOST binfmt_misc entry; crossroot never registers one on the host, so on a
// host without an aarch64 entry those rows say n/a for arm64.
// Usage: node --import tsx bench/run-overhead.ts [RUNS]
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../src/runner/process/process.ts';
import { makeTestRoot } from '../test/support/package-roots.ts';

const runs = Number(process.argv[2] ?? 20);
const project = fileURLToPath(new URL('..', import.meta.url));
const distHome = join(project, '.cache/bench-run-overhead');

/** Compiles crossroot into .cache (a dist of its own, so the bench never races a build of dist/). */
async function buildDist(): Promise<string> {
  rmSync(distHome, { recursive: true, force: true });
  mkdirSync(distHome, { recursive: true });
  copyFileSync(join(project, 'package.json'), join(distHome, 'package.json'));
  symlinkSync(join(project, 'node_modules'), join(distHome, 'node_modules'));
  const build = await runProcess([process.execPath, join(project, 'node_modules/typescript/bin/tsc'), '-p', join(project, 'tsconfig.build.json'), '--outDir', join(distHome, 'dist')]);
  if (build.exitCode !== 0) throw new Error(`build: ${build.stdout}${build.stderr}`);
  const helperDir = join(distHome, 'dist/runner/enter');
  const helper = await runProcess(['cc', '-O2', '-Wall', '-Wextra', '-o', join(helperDir, 'crossroot-enter'), join(project, 'src/runner/enter/crossroot-enter.c')]);
  if (helper.exitCode !== 0) throw new Error(`build the run helper: ${helper.stderr}`);
  return join(distHome, 'dist/cli/bin.js');
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

async function measure(argv: readonly string[]): Promise<{ median: number; mean: number; failures: number }> {
  const times: number[] = [];
  let failures = 0;
  await runProcess(argv, { timeoutMs: 60_000 }); // warm the page cache
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const result = await runProcess(argv, { timeoutMs: 60_000 });
    times.push(performance.now() - start);
    if (result.exitCode !== 0) failures += 1;
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)] ?? 0, mean: times.reduce((a, b) => a + b, 0) / times.length, failures };
}

const bin = await buildDist();
const tsxBin = [process.execPath, '--import', import.meta.resolve('tsx'), join(project, 'src/cli/bin.ts')];
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
process.stdout.write(`run overhead: ${runs} runs each, median and mean wall time in ms (load average ${load})\n`);

for (const arch of ['arm64', 'amd64'] as const) {
  const root = await makeTestRoot(arch);
  try {
    const dir = root.dir;
    for (const sub of ['proc', 'sys', 'dev', 'run']) mkdirSync(join(dir, sub), { recursive: true });
    const foreign = arch === 'arm64';
    const hostOk = !foreign || hostHandles('0200b700'); // e_machine 183 (aarch64) in the magic
    const na = 'n/a: no host binfmt_misc entry for aarch64 (crossroot never adds one to the host)';
    const rows: Row[] = [
      { name: 'crossroot run (dist)', argv: [process.execPath, bin, 'run', dir, '--', '/bin/true'] },
      { name: 'crossroot run (tsx)', argv: [...tsxBin, 'run', dir, '--', '/bin/true'] },
      { name: 'chroot', argv: hostOk ? ['chroot', dir, '/bin/true'] : null, note: na },
      { name: 'unshare --mount + chroot', argv: hostOk ? ['unshare', '--mount', 'chroot', dir, '/bin/true'] : null, note: na },
      { name: 'arch-chroot', argv: hostOk && existsSync('/usr/bin/arch-chroot') ? ['arch-chroot', dir, '/bin/true'] : null, note: hostOk ? 'n/a: arch-chroot not installed' : na },
      { name: foreign ? 'proot -q qemu-aarch64-static' : 'proot', argv: existsSync('/usr/bin/proot') ? ['proot', ...(foreign ? ['-q', 'qemu-aarch64-static'] : []), '-r', dir, '/bin/true'] : null, note: 'n/a: proot not installed' },
      ...(foreign ? [{ name: 'qemu-aarch64-static -L (bare emulator)', argv: ['qemu-aarch64-static', '-L', dir, join(dir, 'bin/true')] }] : []),
      // The floor of any node CLI: crossroot run starts node once, then its native helper.
      { name: "reference: node -e '' (one node start)", argv: [process.execPath, '-e', ''] },
      { name: 'reference: crossroot --version (dist)', argv: [process.execPath, bin, '--version'] },
    ];
    process.stdout.write(`\n${arch} root (${foreign ? 'emulated' : 'native'}):\n`);
    const results = new Map<string, number>();
    for (const row of rows) {
      if (row.argv === null) {
        process.stdout.write(`  ${row.name.padEnd(40)} ${row.note ?? 'n/a'}\n`);
        continue;
      }
      const { median, mean, failures } = await measure(row.argv);
      results.set(row.name, median);
      process.stdout.write(`  ${row.name.padEnd(40)} median ${median.toFixed(1).padStart(7)}  mean ${mean.toFixed(1).padStart(7)}${failures > 0 ? `  (${failures} failed runs)` : ''}\n`);
    }
    const ours = results.get('crossroot run (dist)');
    const node = results.get("reference: node -e '' (one node start)");
    const bare = results.get('unshare --mount + chroot');
    if (ours !== undefined && node !== undefined) {
      // What crossroot adds over the floor: one node start plus a bare namespace + chroot (issue 10's budget: 25 ms).
      const floor = node + (bare ?? 0);
      process.stdout.write(`  overhead of crossroot (dist) over node -e '' ${bare === undefined ? '(no unshare+chroot row)' : '+ unshare+chroot'}: ${(ours - floor).toFixed(1)} ms\n`);
    }
    if (ours !== undefined) {
      for (const peer of ['arch-chroot', 'unshare --mount + chroot', foreign ? 'proot -q qemu-aarch64-static' : 'proot']) {
        const theirs = results.get(peer);
        if (theirs !== undefined) process.stdout.write(`  ratio crossroot (dist) / ${peer}: ${(ours / theirs).toFixed(2)}x\n`);
      }
    }
  } finally {
    root.remove();
  }
}
