import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RUN_MOUNT_POINT_FILES,
  INITIAL_PROGRESS, advanceProgress, aptCacheDir, defaultSuiteFor, binfmtEntryName, canonicalSuite, checkSuite, failureReason,
  parseIncludes, parseMarker, parseProgressLine, partialDirFor, planBootstrap, privateRegisterString,
  renderProgress, resolveTargetArch,
} from './create-plan.ts';
import type { BootstrapRequest, ProgressEvent } from './create-plan.ts';
import { parseRegisterString } from '../binfmt/rule.ts';
import { CrossrootError } from '../errors.ts';

test('resolveTargetArch: Debian names pick themselves, other spellings the first port', () => {
  const cases: [string, string, string][] = [
    ['arm64', 'aarch64', 'arm64'], ['aarch64', 'aarch64', 'arm64'], ['armhf', 'arm', 'armhf'], ['armel', 'arm', 'armel'],
    ['arm', 'arm', 'armhf'], ['riscv64', 'riscv64', 'riscv64'], ['ppc64el', 'ppc64le', 'ppc64el'], ['linux/arm/v7', 'arm', 'armhf'],
  ];
  for (const [input, arch, debian] of cases) {
    const target = resolveTargetArch(input);
    assert.equal(target.arch.name, arch, input);
    assert.equal(target.debianArch, debian, input);
  }
  assert.throws(() => resolveTargetArch('xtensa'), (error: unknown) => error instanceof CrossrootError && error.code === 'UNKNOWN_ARCH');
});

test('suites: aliases, and ports the release lacks', () => {
  assert.equal(canonicalSuite('oldstable'), 'bookworm');
  assert.equal(canonicalSuite('Trixie'), 'trixie');
  assert.doesNotThrow(() => checkSuite('trixie', 'riscv64'));
  assert.doesNotThrow(() => checkSuite('noble', 'arm64')); // unknown suites: the archive judges
  assert.throws(() => checkSuite('bookworm', 'riscv64'), (error: unknown) =>
    error instanceof CrossrootError && error.code === 'CREATE_FAILED' && /trixie/.test(error.hint ?? ''));
  assert.throws(() => checkSuite('book worm', 'arm64'), (error: unknown) => error instanceof CrossrootError && error.code === 'USAGE');
});

test('parseIncludes: comma lists, repeats, sorted, no shell-like names', () => {
  assert.deepEqual(parseIncludes(['make,gcc', 'gcc', ' libc6-dev:arm64 ']), ['gcc', 'libc6-dev:arm64', 'make']);
  assert.deepEqual(parseIncludes(['apt=2.6.1', 'foo/bookworm-backports']), ['apt=2.6.1', 'foo/bookworm-backports']);
  for (const bad of ['$(rm)', 'a;b', '-o', 'Foo', '../x']) {
    assert.throws(() => parseIncludes([bad]), (error: unknown) => error instanceof CrossrootError && error.code === 'USAGE', bad);
  }
});

test('privateRegisterString: F entry for the static emulator that the kernel accepts', () => {
  for (const name of ['arm64', 'armhf', 'riscv64', 'i386', 's390x']) {
    const { arch } = resolveTargetArch(name);
    const text = privateRegisterString(arch, `/usr/bin/${arch.emulator}-static`);
    const parsed = parseRegisterString(text);
    assert.ok(parsed.ok, `${name}: ${text}`);
    if (!parsed.ok) continue;
    assert.equal(parsed.entry.name, binfmtEntryName(arch));
    assert.equal(parsed.entry.flags.F, true);
    assert.equal(parsed.entry.flags.P, true);
    assert.equal(parsed.entry.interpreter, `/usr/bin/${arch.emulator}-static`);
  }
  assert.equal(binfmtEntryName(resolveTargetArch('arm64').arch), 'qemu-aarch64');
  assert.equal(binfmtEntryName(resolveTargetArch('armhf').arch), 'qemu-arm');
});

const base: BootstrapRequest = {
  tool: 'mmdebstrap', target: resolveTargetArch('arm64'), suite: 'bookworm', variant: 'minbase', includes: [],
  mirror: 'http://deb.debian.org/debian', dir: '/srv/r.crossroot-partial-1-ab', emulate: true, keepLists: true,
};

test('planBootstrap: mmdebstrap argv', () => {
  const plan = planBootstrap({ ...base, includes: ['build-essential', 'git'] });
  assert.deepEqual(plan.commands, [[
    'mmdebstrap', '--mode=root', '--variant=minbase', '--architectures=arm64', '--include=build-essential,git',
    '--skip=check/qemu,check/empty,essential/unlink,cleanup/apt/cache,cleanup/apt/lists',
    '--dpkgopt=force-unsafe-io', '--verbose', 'bookworm', '/srv/r.crossroot-partial-1-ab', 'http://deb.debian.org/debian',
  ]]);
  assert.equal(plan.cacheMountPoint, 'var/cache/apt/archives');
  assert.equal(plan.entryName, 'qemu-aarch64');
  assert.ok(plan.register?.startsWith(':qemu-aarch64:M::'));
  assert.deepEqual(plan.removeAfter, ['etc/dpkg/dpkg.cfg.d/99mmdebstrap']);
  const native = planBootstrap({ ...base, emulate: false, keepLists: false });
  assert.equal(native.register, null);
  assert.equal(native.commands[0]?.find((arg) => arg.startsWith('--skip=')), '--skip=check/empty,essential/unlink,cleanup/apt/cache');
});

test('planBootstrap: debootstrap foreign + second stage', () => {
  const plan = planBootstrap({ ...base, tool: 'debootstrap', variant: 'minbase', includes: ['make'] });
  assert.deepEqual(plan.commands, [
    ['debootstrap', '--foreign', '--arch=arm64', '--variant=minbase', '--include=make', 'bookworm', '/srv/r.crossroot-partial-1-ab', 'http://deb.debian.org/debian'],
    ['chroot', '/srv/r.crossroot-partial-1-ab', '/debootstrap/debootstrap', '--second-stage'],
  ]);
  assert.throws(() => planBootstrap({ ...base, tool: 'debootstrap', variant: 'apt' }), (error: unknown) => error instanceof CrossrootError && error.code === 'USAGE');
});

test('paths: partial siblings and cache dirs', () => {
  assert.equal(partialDirFor('/srv/root/', '12-ab'), '/srv/root.crossroot-partial-12-ab');
  assert.equal(aptCacheDir('/var/cache/crossroot/', 'trixie', 'riscv64'), '/var/cache/crossroot/apt/trixie/riscv64');
});

test('parseProgressLine: mmdebstrap, apt and dpkg lines', () => {
  const cases: [string, ProgressEvent | null][] = [
    ['I: running apt-get update...', { kind: 'stage', stage: 'running apt-get update' }],
    ['I: installing essential packages...', { kind: 'stage', stage: 'installing essential packages' }],
    ['I: skipping check/qemu as requested', null],
    ['I: running --essential-hook directly: /var/cache/crossroot/hooks/twins-hook /srv/r.crossroot-partial-1', null],
    ['I: running 120 programs natively (same-version twins)', { kind: 'stage', stage: 'running 120 programs natively (same-version twins)' }],
    ['I: success in 157.0609 seconds', null],
    ['Get:12 http://deb.debian.org/debian bookworm/main arm64 libc6 arm64 2.36-9+deb12u14 [2321 kB]', { kind: 'download', name: 'libc6' }],
    ['Unpacking libc6:arm64 (2.36-9+deb12u14) ...', { kind: 'unpack', name: 'libc6' }],
    ['Setting up gcc-12 (12.2.0-14) ...', { kind: 'setup', name: 'gcc-12' }],
    ['I: Retrieving libc6 2.36-9', { kind: 'download', name: 'libc6' }],
    ['I: Configuring libc6...', { kind: 'setup', name: 'libc6' }],
    ['E: Unable to locate package nosuchpackage', { kind: 'error', message: 'Unable to locate package nosuchpackage' }],
    ['random noise', null],
  ];
  for (const [line, expected] of cases) assert.deepEqual(parseProgressLine(line), expected, line);
});

test('progress state and its line', () => {
  let state = INITIAL_PROGRESS;
  for (const event of [
    { kind: 'stage', stage: 'installing' }, { kind: 'download', name: 'a' }, { kind: 'unpack', name: 'a' }, { kind: 'setup', name: 'a' },
  ] as const) state = advanceProgress(state, event);
  assert.equal(renderProgress(state, 41.6), '[  42s] installing: 1 downloaded, 1 unpacked, 1 set up (a)');
  assert.equal(renderProgress(state, 1, 20).length, 20);
});

test('failureReason: the package apt could not find, else the last E: line', () => {
  assert.equal(failureReason('I: x\nE: Unable to locate package nosuchpackage\nE: apt-get --yes failed\n'), "package 'nosuchpackage' is not in the archive");
  assert.equal(failureReason('W: a\nE: cannot open /dev/null\n'), 'cannot open /dev/null');
  assert.equal(failureReason('all fine'), null);
});

test('parseMarker: only crossroot markers', () => {
  const marker = parseMarker(JSON.stringify({ format: 1, arch: 'aarch64', debianArch: 'arm64', suite: 'bookworm', variant: 'minbase', includes: ['make', 3], mirror: 'http://m', tool: 'mmdebstrap', created: '2025-01-01T00:00:00Z', ownerUid: 0 }));
  assert.deepEqual(marker?.includes, ['make']);
  assert.equal(marker?.tool, 'mmdebstrap');
  for (const bad of ['', 'null', '[]', '{"format":2,"arch":"a","suite":"s","created":"c","tool":"t"}', '{"format":1}']) assert.equal(parseMarker(bad), null, bad);
});

test('the default suite is Debian stable (trixie), bookworm for ports trixie dropped', () => {
  assert.equal(defaultSuiteFor('arm64'), 'trixie');
  assert.equal(defaultSuiteFor('riscv64'), 'trixie');
  assert.equal(defaultSuiteFor('armhf'), 'trixie');
  assert.equal(defaultSuiteFor('mips64el'), 'bookworm');
  assert.equal(defaultSuiteFor('mipsel'), 'bookworm');
  assert.equal(canonicalSuite('stable'), 'trixie');
});

test('resolveTargetArch: linux/arm/v5 and v6 name the armel port, linux/arm/v7 armhf', () => {
  assert.equal(resolveTargetArch('linux/arm/v5').debianArch, 'armel');
  assert.equal(resolveTargetArch('linux/arm/v6').debianArch, 'armel');
  assert.equal(resolveTargetArch('linux/arm/v7').debianArch, 'armhf');
});

test('a finished root gets the files a run mounts over: /etc/hosts with localhost, /etc/resolv.conf', () => {
  const byPath = new Map(RUN_MOUNT_POINT_FILES.map((file) => [file.path, file.text]));
  assert.deepEqual([...byPath.keys()].sort(), ['etc/hosts', 'etc/resolv.conf']);
  assert.match(byPath.get('etc/hosts') ?? '', /^127\.0\.0\.1\tlocalhost$/m);
});
