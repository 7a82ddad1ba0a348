// `crossroot scan` finds exactly the ELF files scanelf (pax-utils) finds, on
// the host's trees and on the cached Debian packages of nine architectures;
// and on a crafted tree it skips symlinks and special files without hanging.
// Needs scanelf: .ci/run installs pax-utils.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, runCliJson } from './support/cli.ts';
import { runProcess } from '../src/runner/process/process.ts';
import type { ScanResult } from '../src/runner/inspect/scan.ts';
import { DEBIAN_PACKAGES_CACHE, ensureDebianPackages } from './support/debian-packages.ts';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'crossroot-scan-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** scanelf's list of ELF files: recursive, symlinks not scanned (-y), one path per line. */
async function scanelfPaths(dirs: string[]): Promise<string[]> {
  const result = await runProcess(['scanelf', '-R', '-y', '-B', '-F', '%F', ...dirs], { timeoutMs: 120_000 });
  assert.equal(result.exitCode, 0, `scanelf failed (install pax-utils): ${result.stderr}`);
  return result.stdout.split('\n').filter((line) => line !== '').sort();
}

async function scanPaths(dirs: string[]): Promise<{ result: ScanResult; paths: string[] }> {
  const run = await runCliJson<ScanResult>(['scan', ...dirs]);
  assert.equal(run.code, 0, run.stderr);
  return { result: run.json, paths: run.json.files.map((file) => file.path).sort() };
}

function assertSameSet(ours: string[], theirs: string[], label: string): void {
  const mine = new Set(ours);
  const other = new Set(theirs);
  const onlyOurs = ours.filter((path) => !other.has(path));
  const onlyScanelf = theirs.filter((path) => !mine.has(path));
  assert.deepEqual({ onlyOurs, onlyScanelf }, { onlyOurs: [], onlyScanelf: [] }, label);
}

test('scan finds the same ELF files as scanelf in /usr/bin and /usr/lib/x86_64-linux-gnu', async () => {
  const trees = ['/usr/bin', '/usr/lib/x86_64-linux-gnu'].filter((tree) => existsSync(tree));
  const [{ result, paths }, theirs] = await Promise.all([scanPaths(trees), scanelfPaths(trees)]);
  assert.ok(paths.length > 100, `${paths.length} ELF files`);
  assertSameSet(paths, theirs, trees.join(' '));
  assert.equal(result.total.elf, paths.length);
  assert.ok((result.byArch['x86_64'] ?? 0) > 100);
  const ls = result.files.find((file) => file.path === '/usr/bin/ls');
  assert.deepEqual(ls && { arch: ls.arch, debianArch: ls.debianArch, type: ls.type, static: ls.static, interpreter: ls.interpreter },
    { arch: 'x86_64', debianArch: 'amd64', type: 'DYN', static: false, interpreter: '/lib64/ld-linux-x86-64.so.2' });
});

const PACKAGES = DEBIAN_PACKAGES_CACHE;
const DEBIAN_ARCHES = ['amd64', 'arm64', 'armhf', 'armel', 'i386', 'ppc64el', 's390x', 'mips64el', 'mipsel'];

test('scan agrees with scanelf on the Debian packages of nine architectures, and names each one', { timeout: 900_000 }, async () => {
  await ensureDebianPackages();
  let compared = 0;
  for (const debian of DEBIAN_ARCHES) {
    const root = join(PACKAGES, debian, 'root');
    const [{ result, paths }, theirs] = await Promise.all([scanPaths([root]), scanelfPaths([root])]);
    assertSameSet(paths, theirs, debian);
    assert.deepEqual(result.byDebianArch, { [debian]: paths.length }, debian);
    compared += paths.length;
  }
  assert.ok(compared > 1000, `${compared} files compared`);
});

test('a crafted tree: symlinks and FIFOs are never opened, broken ELF files are reported, not fatal', async () => {
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'sub/deeper'), { recursive: true });
  copyFileSync('/bin/ls', join(tree, 'sub/deeper/ls'));
  symlinkSync('deeper/ls', join(tree, 'sub/ls-link'));
  symlinkSync('/usr/bin', join(tree, 'usr-bin-link'));
  writeFileSync(join(tree, 'text'), 'hello\n');
  writeFileSync(join(tree, 'empty'), '');
  writeFileSync(join(tree, 'magic-only'), '\x7fELF');
  writeFileSync(join(tree, 'bad-class'), Buffer.from('7f454c46090101000000000000000000', 'hex'));
  writeFileSync(join(tree, 'cut.so'), readFileSync('/bin/ls').subarray(0, 200));
  const mkfifo = await runProcess(['mkfifo', join(tree, 'fifo')]);
  assert.equal(mkfifo.exitCode, 0, mkfifo.stderr);

  const started = performance.now();
  const run = await runCliJson<ScanResult>(['scan', tree]);
  assert.ok(performance.now() - started < 10_000, 'no hang on the FIFO');
  assert.equal(run.code, 0, run.stderr);
  const byPath = new Map(run.json.files.map((file) => [file.path.slice(tree.length + 1), file]));
  assert.deepEqual([...byPath.keys()].sort(), ['bad-class', 'cut.so', 'magic-only', 'sub/deeper/ls']);
  assert.equal(byPath.get('sub/deeper/ls')?.arch, 'x86_64');
  assert.equal(byPath.get('magic-only')?.error?.code, 'ELF_TRUNCATED');
  assert.equal(byPath.get('bad-class')?.error?.code, 'ELF_MALFORMED');
  assert.equal(byPath.get('cut.so')?.arch, 'x86_64', 'a header is enough to name the architecture');
  assert.equal(run.json.total.files, 6, 'regular files only: no symlink, no FIFO');
  assert.deepEqual(run.json.byArch, { x86_64: 2, unknown: 2 });
});

test('missing trees are reported with exit 1; the rest is still scanned', async () => {
  const run = await runCliJson<ScanResult>(['scan', join(dir, 'missing'), '/usr/bin']);
  assert.equal(run.code, 1);
  assert.equal(run.json.errors[0]?.code, 'NOT_FOUND');
  assert.ok(run.json.total.elf > 0);
});

test('human output: a table of counts by architecture', async () => {
  const run = await runCli(['scan', '/usr/bin']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^ARCH\s+DEBIAN\s+ELF FILES$/m);
  assert.match(run.stdout, /^x86_64\s+amd64\s+\d+$/m);
  assert.match(run.stdout, /ELF files among \d+ regular files/);
});

test('pseudo filesystems are not entered', { skip: existsSync('/proc/self') ? false : 'no /proc' }, async () => {
  const started = performance.now();
  const run = await runCliJson<ScanResult>(['scan', '/proc']);
  assert.ok(performance.now() - started < 5000);
  assert.deepEqual(run.json.skipped, [{ path: '/proc', filesystem: 'proc' }]);
  assert.equal(run.json.total.files, 0);
});

test('pseudo filesystems mounted inside a scanned tree are skipped, as the device check did', { skip: existsSync('/proc/self/mountinfo') ? false : 'no /proc' }, async () => {
  // Pseudo filesystems mounted right below /dev (devpts on /dev/pts, mqueue on /dev/mqueue), per the kernel.
  const pseudo = new Set(['devpts', 'mqueue', 'sysfs', 'proc', 'debugfs', 'tracefs', 'securityfs', 'cgroup', 'cgroup2', 'bpf', 'binfmt_misc', 'configfs', 'fusectl']);
  const expected = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((line) => ({ point: line.split(' ')[4] ?? '', type: line.split(' - ')[1]?.split(' ')[0] ?? '' }))
    .filter(({ point, type }) => /^\/dev\/[^/]+$/.test(point) && pseudo.has(type))
    .map(({ point, type }) => ({ path: point, filesystem: type }));
  const run = await runCliJson<ScanResult>(['scan', '/dev']);
  const skipped = [...run.json.skipped].sort((a, b) => (a.path < b.path ? -1 : 1));
  assert.deepEqual(skipped, [...new Map(expected.map((entry) => [entry.path, entry])).values()].sort((a, b) => (a.path < b.path ? -1 : 1)));
});
