// `crossroot create` and `crossroot roots`, end to end with real mmdebstrap,
// QEMU and the Debian archive (no mocks). Slow parts share the machine-level
// cache of test/support/cached-roots.ts (apt packages and snapshots), so a second
// run of the suite takes seconds here; a cold run bootstraps an arm64 minbase
// root twice (once cold, once --fresh against the filled package cache).
// Needs: mmdebstrap, qemu-user-static, util-linux (unshare, setpriv), xz-utils, zstd, bzip2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, lstatSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { cliCommand, runCli, runCliJson } from './support/cli.ts';
import { TEST_CACHE } from './support/cached-roots.ts';
import { runProcess } from '../src/runner/process/process.ts';
import { resolveHostPathInRoot } from '../src/runner/fs/root-fs.ts';
import { withFileSource } from '../src/runner/fs/file-source.ts';
import { parseElf } from '../src/core/elf/elf.ts';
import { archOfElf } from '../src/core/arch/arch.ts';
import { parseMarker } from '../src/core/create/create-plan.ts';
import type { CreateResult } from '../src/runner/create/create.ts';

const work = mkdtempSync('/var/tmp/crossroot-create-test-');
const env = { CROSSROOT_CACHE: TEST_CACHE };
const repo = new URL('..', import.meta.url).pathname;

/** runCliJson that must succeed. */
async function cliJson<T>(argv: readonly string[], options: { env: Record<string, string> }): Promise<{ code: number; stderr: string; json: T }> {
  const run = await runCliJson<T>(argv, options);
  assert.equal(run.code, 0, `crossroot ${argv.join(' ')}: ${run.stderr}`);
  return run;
}

function mountsMentioning(text: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((line) => line.includes(text));
}

function binfmtState(): string {
  const lines = mountsMentioning('binfmt_misc').join('\n');
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc/sys/fs/binfmt_misc').sort();
  } catch { /* not mounted: stays so */ }
  return `${lines}|${entries.join(',')}`;
}

/** Processes whose command line mentions `text` (other than us). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text)) pids.push(Number(name));
    } catch { /* gone */ }
  }
  return pids;
}

let binfmtBefore = '';
before(() => {
  binfmtBefore = binfmtState();
  mkdirSync(TEST_CACHE, { recursive: true });
});

after(() => {
  assert.equal(binfmtState(), binfmtBefore, 'host binfmt_misc registrations changed');
  assert.deepEqual(mountsMentioning(work), [], 'mounts left under the work directory');
  assert.deepEqual(processesMentioning(work), [], 'processes left behind');
  rmSync(work, { recursive: true, force: true });
});

function shArch(root: string): string | null {
  const sh = resolveHostPathInRoot(root, '/bin/sh').hostPath;
  const elf = withFileSource(sh, (source) => parseElf(source));
  return archOfElf({ class: elf.class, endian: elf.endian, machine: elf.machine, flags: elf.flags })?.name ?? null;
}

test('create arm64 minbase: marker, aarch64 /bin/sh, second create from the cache', { timeout: 40 * 60_000 }, async () => {
  const first = join(work, 'first');
  const one = await cliJson<CreateResult>(['create', first, '--arch', 'arm64'], { env });
  assert.equal(one.code, 0, one.stderr);
  console.log(`# create arm64 minbase (first in this run): ${one.json.seconds.toFixed(1)} s, snapshot ${String(one.json.cache.snapshot)}, downloaded ${one.json.cache.downloaded}`);
  const marker = parseMarker(readFileSync(join(first, '.crossroot/root.json'), 'utf8'));
  assert.equal(marker?.arch, 'aarch64');
  assert.equal(marker?.suite, 'trixie', 'the default suite is Debian stable');
  assert.equal(marker?.tool, 'mmdebstrap');
  assert.equal(shArch(first), 'aarch64');
  assert.ok(existsSync(join(first, 'etc/apt/sources.list')), 'apt has its sources');
  assert.ok(!existsSync(join(first, 'usr/bin/qemu-aarch64-static')), 'no emulator copied into the root');
  assert.ok(!existsSync(join(first, 'etc/dpkg/dpkg.cfg.d/99mmdebstrap')), 'bootstrap-only dpkg options removed');
  for (const file of ['etc/hosts', 'etc/resolv.conf']) assert.ok(lstatSync(join(first, file)).isFile(), `${file} is there for a run to mount over`);
  assert.deepEqual(readdirSync(work).filter((name) => name.includes('crossroot-partial')), []);

  const second = join(work, 'second');
  const two = await cliJson<CreateResult>(['create', second, '--arch', 'arm64'], { env });
  assert.equal(two.code, 0, two.stderr);
  console.log(`# create arm64 minbase (warm, snapshot): ${two.json.seconds.toFixed(1)} s`);
  assert.equal(two.json.cache.snapshot, true);
  assert.equal(two.json.cache.downloaded, 0);
  assert.equal(shArch(second), 'aarch64');

  // --fresh bootstraps again: every package comes from the shared apt cache.
  const third = join(work, 'third');
  const three = await cliJson<CreateResult>(['create', third, '--arch', 'arm64', '--fresh'], { env });
  assert.equal(three.code, 0, three.stderr);
  console.log(`# create arm64 minbase (--fresh, package cache warm): ${three.json.seconds.toFixed(1)} s`);
  assert.equal(three.json.cache.snapshot, false);
  assert.equal(three.json.cache.downloaded, 0, 'nothing fetched from the mirror');
  assert.equal(three.json.cache.hit, true);
  assert.ok(three.json.cache.packages >= 80);
  assert.equal(shArch(third), 'aarch64');

  // An existing root is refused without --force, replaced with it.
  const again = await runCli(['create', second, '--arch', 'arm64'], { env });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already there/);
  for (const dir of [first, second, third]) rmSync(dir, { recursive: true, force: true });
});

test('a bad --include fails with exit 1, a clear message and nothing at DIR', { timeout: 10 * 60_000 }, async () => {
  const dir = join(work, 'bad');
  const run = await runCli(['create', dir, '--arch', 'arm64', '--include', 'nosuchpackage'], { env });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /^crossroot: create root .*'nosuchpackage' is not in the archive/m);
  assert.match(run.stderr, /^hint: /m);
  assert.equal(existsSync(dir), false);
  assert.deepEqual(readdirSync(work).filter((name) => name.startsWith('bad')), []);
});

test('SIGKILL of crossroot mid-bootstrap leaves no mount, no process, no finished-looking root', { timeout: 10 * 60_000 }, async () => {
  const dir = join(work, 'killed');
  let pid = 0;
  let seen = '';
  let killed = false;
  const run = runProcess(cliCommand(['create', dir, '--arch', 'arm64', '--fresh']), {
    cwd: repo,
    env: { ...process.env, ...env },
    onSpawn: (child) => { pid = child; },
    onOutput: (_stream, chunk) => {
      seen += chunk;
      // Mid-bootstrap: the foreign maintainer scripts run under emulation now.
      if (!killed && /installing essential packages/.test(seen)) {
        killed = true;
        process.kill(pid, 'SIGKILL');
      }
    },
    timeoutMs: 8 * 60_000,
  });
  const result = await run;
  assert.equal(result.signal, 'SIGKILL', seen);
  assert.ok(killed, 'the bootstrap reached the essential stage');
  // The namespace's processes die with it (pdeathsig chain); give the kernel a moment.
  const deadline = Date.now() + 20_000;
  while (processesMentioning(`${dir}.crossroot-partial`).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(processesMentioning(`${dir}.crossroot-partial`), []);
  assert.deepEqual(mountsMentioning(dir), []);
  assert.equal(existsSync(dir), false, 'nothing at DIR');
  const partials = readdirSync(work).filter((name) => name.startsWith('killed.crossroot-partial-'));
  for (const partial of partials) assert.equal(existsSync(join(work, partial, '.crossroot/root.json')), false);
  // The next create of the same DIR removes the dead partial tree.
  const next = await runCli(['create', dir, '--arch', 'arm64'], { env });
  assert.equal(next.code, 0, next.stderr);
  assert.deepEqual(readdirSync(work).filter((name) => name.startsWith('killed.crossroot-partial-')), []);
  rmSync(dir, { recursive: true, force: true });
});

// --- --from-tar ---------------------------------------------------------------

/** One ustar header + data, built by hand so hostile names survive (tar tools sanitize them). */
function tarEntry(name: string, options: { type?: string; linkname?: string; data?: string; mode?: number } = {}): Buffer {
  const header = Buffer.alloc(512);
  const data = Buffer.from(options.data ?? '');
  const field = (offset: number, length: number, value: string): void => { header.write(value, offset, length, 'latin1'); };
  const octal = (offset: number, length: number, value: number): void => field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  field(0, 100, name);
  octal(100, 8, options.mode ?? 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, (options.type ?? '0') === '0' ? data.length : 0);
  octal(136, 12, 1_700_000_000);
  field(156, 1, options.type ?? '0');
  field(157, 100, options.linkname ?? '');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  return Buffer.concat([header, padded]);
}

function tarball(entries: Buffer[]): Buffer {
  return Buffer.concat([...entries, Buffer.alloc(1024)]);
}

function treeListing(dir: string): string {
  const out: string[] = [];
  const walk = (path: string): void => {
    for (const name of readdirSync(path).sort()) {
      const full = join(path, name);
      const stat = statSync(full, { throwIfNoEntry: false });
      out.push(`${full}:${stat?.size ?? -1}:${stat?.mtimeMs ?? -1}`);
      if (stat?.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out.join('\n');
}

test('--from-tar: gz, xz, zst and plain roots import with modes kept; arch from /bin/sh', { timeout: 5 * 60_000 }, async () => {
  const src = join(work, 'tiny-src');
  mkdirSync(join(src, 'bin'), { recursive: true });
  mkdirSync(join(src, 'etc'), { recursive: true });
  cpSync('/bin/dash', join(src, 'bin/sh'));
  writeFileSync(join(src, 'bin/setuid-tool'), 'x');
  chmodSync(join(src, 'bin/setuid-tool'), 0o4755);
  writeFileSync(join(src, 'etc/os-release'), 'ID=debian\nVERSION_CODENAME=bookworm\n');
  symlinkSync('/etc/os-release', join(src, 'etc/abs-link'));
  const plain = join(work, 'tiny.tar');
  assert.equal((await runProcess(['tar', '-C', src, '-cf', plain, '.'])).exitCode, 0);
  const files: Record<string, string> = { plain };
  for (const [kind, tool] of [['gz', 'gzip'], ['xz', 'xz'], ['zst', 'zstd']] as const) {
    files[kind] = `${plain}.${kind}`;
    const made = await runProcess([tool, '-k', '-q', plain]);
    assert.equal(made.exitCode, 0, made.stderr);
  }
  for (const [kind, file] of Object.entries(files)) {
    const dir = join(work, `tiny-${kind}`);
    const run = await cliJson<CreateResult>(['create', dir, '--from-tar', file], { env });
    assert.equal(run.code, 0, `${kind}: ${run.stderr}`);
    assert.equal(run.json.tool, 'tar');
    assert.equal(run.json.debianArch, 'amd64');
    assert.equal(run.json.suite, 'bookworm');
    assert.equal(statSync(join(dir, 'bin/setuid-tool')).mode & 0o7777, 0o4755, `${kind}: setuid bit kept`);
    assert.ok(existsSync(join(dir, '.crossroot/root.json')));
    rmSync(dir, { recursive: true, force: true });
  }
  const wrong = await runCli(['create', join(work, 'tiny-wrong'), '--arch', 'arm64', '--from-tar', plain], { env });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /not 'arm64'/);
  assert.equal(existsSync(join(work, 'tiny-wrong')), false);
});

test('--from-tar: a hostile tarball writes nothing outside DIR and leaves nothing at DIR', { timeout: 5 * 60_000 }, async () => {
  const decoy = join(work, 'decoy');
  mkdirSync(decoy);
  writeFileSync(join(decoy, 'target'), 'host file');
  const parentBefore = readdirSync(work).sort();
  const decoyBefore = treeListing(decoy);
  const cases: Record<string, Buffer[]> = {
    dotdot: [tarEntry('bin/', { type: '5', mode: 0o755 }), tarEntry('../evil', { data: 'x' })],
    deep: [tarEntry('a/../../decoy/evil', { data: 'x' })],
    absolute: [tarEntry(`${decoy}/abs-evil`, { data: 'x' })],
    symlink: [tarEntry('link', { type: '2', linkname: decoy }), tarEntry('link/file', { data: 'x' })],
    symlinkDir: [tarEntry('up', { type: '2', linkname: '..' }), tarEntry('up/decoy/evil2', { data: 'x' })],
    hardlinkAbs: [tarEntry('hl', { type: '1', linkname: join(decoy, 'target') })],
    hardlinkUp: [tarEntry('hl2', { type: '1', linkname: '../decoy/target' })],
  };
  for (const [name, entries] of Object.entries(cases)) {
    const file = join(work, `hostile-${name}.tar`);
    writeFileSync(file, tarball(entries));
    const dir = join(work, `hostile-${name}`);
    const run = await runCli(['create', dir, '--from-tar', file], { env });
    assert.equal(run.code, 1, `${name}: ${run.stdout}${run.stderr}`);
    assert.match(run.stderr, /^crossroot: import /m, name);
    assert.equal(existsSync(dir), false, `${name}: nothing at DIR`);
    rmSync(file);
  }
  assert.equal(treeListing(decoy), decoyBefore, 'decoy directory unchanged');
  assert.equal(readFileSync(join(decoy, 'target'), 'utf8'), 'host file');
  assert.deepEqual(readdirSync(work).sort(), parentBefore, 'nothing new next to DIR');
  assert.equal(existsSync('/etc/evil'), false);
});

// --- roots ----------------------------------------------------------------------

test('roots list/path/rm: refuses while in use, never follows symlinks out', { timeout: 5 * 60_000 }, async () => {
  const home = join(work, 'home');
  const rootsEnv = { ...env, CROSSROOT_HOME: home };
  const src = join(work, 'mini');
  mkdirSync(join(src, 'bin'), { recursive: true });
  cpSync('/bin/dash', join(src, 'bin/sh'));
  const file = join(work, 'mini.tar');
  assert.equal((await runProcess(['tar', '-C', src, '-cf', file, '.'])).exitCode, 0);
  const path = await runCli(['roots', 'path', 'x86_64'], { env: rootsEnv });
  assert.equal(path.stdout.trim(), join(home, 'roots/amd64'));
  const made = await runCli(['create', path.stdout.trim(), '--from-tar', file], { env: rootsEnv });
  assert.equal(made.code, 0, made.stderr);
  const decoy = join(work, 'rm-decoy');
  mkdirSync(decoy);
  writeFileSync(join(decoy, 'keep'), 'keep');
  symlinkSync(decoy, join(path.stdout.trim(), 'escape'));
  const listed = JSON.parse((await runCli(['roots', 'list', '--json'], { env: rootsEnv })).stdout) as { debianArch: string; dir: string }[];
  assert.deepEqual(listed.map((root) => [root.debianArch, root.dir]), [['amd64', join(home, 'roots/amd64')]]);
  // A process with its cwd inside makes the root busy.
  let sleeper = 0;
  const sleeping = runProcess(['sleep', '30'], { cwd: join(path.stdout.trim(), 'bin'), onSpawn: (pid) => { sleeper = pid; } });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const busy = await runCli(['roots', 'rm', 'amd64'], { env: rootsEnv });
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /in use/);
  process.kill(sleeper, 'SIGKILL');
  await sleeping;
  const removed = await runCli(['roots', 'rm', 'amd64'], { env: rootsEnv });
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(existsSync(join(home, 'roots/amd64')), false);
  assert.equal(readFileSync(join(decoy, 'keep'), 'utf8'), 'keep', 'symlink target untouched');
  const notRoot = await runCli(['roots', 'rm', 'arm64'], { env: rootsEnv });
  assert.equal(notRoot.code, 1);
});
