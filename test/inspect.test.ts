// `crossroot inspect` as a user runs it: real host binaries (checked against
// readelf), scripts, other files, missing and truncated files, and --root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, runCliJson } from './support/cli.ts';
import { runProcess } from '../src/runner/process/process.ts';
import type { InspectRecord } from '../src/runner/inspect/inspect.ts';
import { DEBIAN_PACKAGES_CACHE, ensureDebianPackages } from './support/debian-packages.ts';

const LS = '/bin/ls';
const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'crossroot-inspect-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function readelf(args: string[]): Promise<string> {
  const result = await runProcess(['readelf', ...args]);
  assert.equal(result.exitCode, 0, result.stderr);
  return result.stdout;
}

async function inspectOne(path: string, extra: string[] = []): Promise<{ code: number; record: InspectRecord; stderr: string }> {
  const run = await runCliJson<InspectRecord[]>(['inspect', path, ...extra]);
  assert.equal(run.json.length, 1);
  const record = run.json[0];
  assert.ok(record !== undefined);
  return { code: run.code, record, stderr: run.stderr };
}

test('inspect /bin/ls: a dynamic x86-64 PIE, fields as readelf shows them', async () => {
  const { code, record } = await inspectOne(LS);
  assert.equal(record.path, LS);
  assert.equal(record.kind, 'elf');
  assert.equal(record.arch, 'x86_64');
  assert.equal(record.debianArch, 'amd64');
  const elf = record.elf;
  assert.ok(elf !== undefined);
  assert.equal(elf.class, 64);
  assert.equal(elf.endian, 'little');
  assert.equal(elf.machine, 62);
  assert.equal(elf.type, 'DYN');
  assert.equal(elf.pie, true);
  assert.equal(elf.static, false);
  assert.equal(elf.interpreter, '/lib64/ld-linux-x86-64.so.2');
  assert.equal(elf.soname, null);
  const dynamic = await readelf(['-d', '-W', LS]);
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  assert.deepEqual(elf.needed, needed);
  const notes = await readelf(['-n', '-W', LS]);
  assert.equal(elf.buildId, /Build ID: ([0-9a-f]+)/.exec(notes)?.[1] ?? null);
  const header = await readelf(['-h', '-W', LS]);
  assert.equal(elf.flags, Number(/Flags:\s+(0x[0-9a-f]+)/.exec(header)?.[1]));
  assert.deepEqual(elf.problems, []);
  assert.equal(code, 0);
});

test('inspect libc.so.6: a shared object with a SONAME, not a PIE', async () => {
  const { code, record } = await inspectOne(LIBC);
  assert.equal(record.kind, 'elf');
  assert.equal(record.arch, 'x86_64');
  assert.equal(record.elf?.type, 'DYN');
  assert.equal(record.elf?.soname, 'libc.so.6');
  assert.equal(record.elf?.pie, false);
  assert.equal(code, 0);
});

test('inspect a script, a text file and a broken #! line', async () => {
  const script = join(dir, 'script.sh');
  writeFileSync(script, '#!/bin/sh -e\necho hi\n');
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'just text\n');
  const blank = join(dir, 'blank.sh');
  writeFileSync(blank, '#!   \n');
  const run = await runCliJson<InspectRecord[]>(['inspect', script, text, blank]);
  assert.equal(run.code, 0, run.stderr);
  const [s, t, b] = run.json;
  assert.equal(s?.kind, 'script');
  assert.deepEqual({ interpreter: s?.script?.interpreter, argument: s?.script?.argument }, { interpreter: '/bin/sh', argument: '-e' });
  assert.equal(s?.arch, null);
  assert.equal(t?.kind, 'other');
  assert.equal(t?.arch, null);
  assert.equal(t?.debianArch, null);
  assert.equal(t?.elf, undefined);
  assert.equal(b?.kind, 'script');
  assert.equal(b?.script?.interpreter, null);
  assert.equal(b?.script?.errno, 'ENOEXEC');
});

test('a missing path fails with exit 1 while the other paths are still reported', async () => {
  const missing = join(dir, 'does-not-exist');
  const run = await runCliJson<InspectRecord[]>(['inspect', missing, LS]);
  assert.equal(run.code, 1);
  assert.equal(run.json.length, 2);
  assert.equal(run.json[0]?.error?.code, 'NOT_FOUND');
  assert.equal(run.json[0]?.kind, null);
  assert.equal(run.json[1]?.kind, 'elf');
  assert.match(run.stderr, /^crossroot: .*does-not-exist/m);
  const human = await runCli(['inspect', missing]);
  assert.equal(human.code, 1);
  assert.equal(human.stderr.split('\n').filter(Boolean).length, 1, 'one error line');
});

test('a directory is not a file: NOT_A_FILE, exit 1', async () => {
  const { code, record } = await inspectOne(dir);
  assert.equal(code, 1);
  assert.equal(record.error?.code, 'NOT_A_FILE');
});

test('truncated ELF files: a clear error, exit 1, quickly', async () => {
  const original = readFileSync(LS);
  for (const [length, expected] of [[10, 'ELF_TRUNCATED'], [40, 'ELF_TRUNCATED'], [100, 'ELF_TRUNCATED'], [1000, 'ELF_TRUNCATED']] as const) {
    const path = join(dir, `truncated-${length}`);
    writeFileSync(path, original.subarray(0, length));
    const started = performance.now();
    const { code, record, stderr } = await inspectOne(path);
    assert.ok(performance.now() - started < 1000);
    assert.equal(code, 1, `length ${length}`);
    assert.equal(record.kind, 'elf');
    assert.equal(record.error?.code, expected, `length ${length}: ${JSON.stringify(record.error)}`);
    assert.match(stderr, /^crossroot: .*truncated-/m);
  }
  // Cut after the program headers: the header still names the architecture.
  const { record } = await inspectOne(join(dir, 'truncated-1000'));
  assert.equal(record.arch, 'x86_64');
});

test('human output: one line per file, errors on stderr', async () => {
  const run = await runCli(['inspect', LS, LIBC]);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? '', /^\/bin\/ls: ELF 64-bit LSB DYN \(PIE\), .*x86_64 \(amd64\).*interpreter \/lib64\/ld-linux-x86-64\.so\.2/);
});

test('--root resolves paths and symlinks inside the root, never on the host', async () => {
  const root = join(dir, 'root');
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'sbin'), { recursive: true });
  copyFileSync(LS, join(root, 'usr/bin/prog'));
  symlinkSync('usr/bin', join(root, 'bin'));
  symlinkSync('/usr/bin/prog', join(root, 'sbin/absolute'));
  symlinkSync('../../../../../../../usr/bin/prog', join(root, 'sbin/dotdot'));
  // Both exist on the host, neither inside the root.
  symlinkSync('/bin/ls', join(root, 'sbin/host-ls'));
  symlinkSync('../../../../../../../bin/ls', join(root, 'sbin/host-ls-dotdot'));
  assert.ok(existsSync(LS));

  const run = await runCliJson<InspectRecord[]>(['inspect', '--root', root,
    '/bin/prog', '/sbin/absolute', 'sbin/dotdot', '/sbin/host-ls', '/sbin/host-ls-dotdot', '/../../bin/ls']);
  const [viaBin, absolute, dotdot, hostLs, hostLsDotdot, climb] = run.json;
  for (const record of [viaBin, absolute, dotdot]) {
    assert.equal(record?.kind, 'elf', JSON.stringify(record));
    assert.equal(record?.resolvedPath, '/usr/bin/prog');
    assert.equal(record?.arch, 'x86_64');
  }
  for (const record of [hostLs, hostLsDotdot, climb]) {
    assert.equal(record?.error?.code, 'NOT_FOUND', JSON.stringify(record));
    assert.equal(record?.resolvedPath, '/usr/bin/ls'); // the root's own /bin -> usr/bin link
  }
  assert.equal(run.code, 1);

  const missingRoot = await runCli(['inspect', '--root', join(dir, 'no-root'), '/bin/ls']);
  assert.equal(missingRoot.code, 1);
  assert.match(missingRoot.stderr, /^crossroot: open root/m);
});

test('a symlink loop inside the root: SYMLINK_LOOP, exit 1', async () => {
  const root = join(dir, 'loop-root');
  mkdirSync(root);
  symlinkSync('/b', join(root, 'a'));
  symlinkSync('/a', join(root, 'b'));
  const { code, record } = await inspectOne('/a', ['--root', root]);
  assert.equal(code, 1);
  assert.equal(record.error?.code, 'SYMLINK_LOOP');
});

const PACKAGES = DEBIAN_PACKAGES_CACHE;
const EXPECTED_ARCH: Record<string, string> = {
  amd64: 'x86_64', arm64: 'aarch64', armhf: 'arm', armel: 'arm', i386: 'i386',
  ppc64el: 'ppc64le', s390x: 's390x', mips64el: 'mips64el', mipsel: 'mipsel',
};

test('busybox of every cached Debian architecture: arch and debianArch (armhf vs armel by e_flags)', { timeout: 900_000 }, async () => {
  await ensureDebianPackages();
  for (const [debian, arch] of Object.entries(EXPECTED_ARCH)) {
    const path = join(PACKAGES, debian, 'root/bin/busybox');
    const { code, record } = await inspectOne(path);
    assert.equal(code, 0, JSON.stringify(record.error));
    assert.equal(record.arch, arch, debian);
    assert.equal(record.debianArch, debian, debian);
    assert.equal(record.elf?.static, true, debian);
  }
});

test('human output says what file(1) says: OS ABI and ARM float ABI in words, x32, truncated with where, CRLF visible', async () => {
  const { buildElf } = await import('./support/elf-builder.ts');
  const armhf = join(dir, 'armhf');
  writeFileSync(armhf, buildElf({ bits: 32, endian: 'little', machine: 40, flags: 0x05000400, osabi: 3 }));
  const x32 = join(dir, 'x32');
  writeFileSync(x32, buildElf({ bits: 32, endian: 'little', machine: 62 }));
  const short = join(dir, 'short-header');
  writeFileSync(short, readFileSync(LS).subarray(0, 40));
  const crlf = join(dir, 'crlf.sh');
  writeFileSync(crlf, '#!/bin/sh\r\necho hi\r\n');
  const run = await runCli(['inspect', armhf, x32, short, crlf]);
  const [armLine, x32Line, shortLine, crlfLine] = run.stdout.trim().split('\n');
  assert.match(armLine ?? '', /ARM, arm \(armhf\), GNU\/Linux, EABI5 hard-float/);
  assert.match(x32Line ?? '', /X86-64 x32, x32, no QEMU target, SYSV/);
  assert.match(shortLine ?? '', /: ELF, truncated: read ELF header: file ends at byte '40', the header needs '64'$/);
  assert.match(crlfLine ?? '', /interpreter \/bin\/sh\\r \(CRLF line ending/);
  const json = await runCliJson<InspectRecord[]>(['inspect', x32]);
  assert.equal(json.json[0]?.debianArch, 'x32');
  assert.equal(json.json[0]?.elf?.abi, 'x32');
});
