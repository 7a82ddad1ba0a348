import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DoctorFacts } from './doctor.ts';
import { doctorChecks, doctorOk, leakedMountPoints, packagesToInstall, parseSubIds } from './doctor.ts';

const HEALTHY: DoctorFacts = {
  kernelRelease: '6.18.44-generic',
  binfmt: { path: '/proc/sys/fs/binfmt_misc', mounted: true, enabled: true, namespace: 'host' },
  userns: { maxUserNamespaces: 1000, unprivilegedClone: null, apparmorRestrict: null },
  euid: 1000,
  user: { name: 'alice', uid: 1000 },
  subuid: [{ start: 100000, count: 65536 }],
  subgid: [{ start: 100000, count: 65536 }],
  emulators: [{ arch: 'aarch64', path: '/usr/bin/qemu-aarch64-static', static: true }],
  machine: 'x86_64',
  aarch32: null,
  tools: { unshare: '/usr/bin/unshare', mount: '/usr/bin/mount', chroot: '/usr/sbin/chroot', newuidmap: '/usr/bin/newuidmap', newgidmap: '/usr/bin/newgidmap', mmdebstrap: '/usr/bin/mmdebstrap', debootstrap: null },
  leakedMounts: [],
};

test('subordinate ids by name or uid, comments and bad lines skipped', () => {
  const text = '# comment\nalice:100000:65536\nbob:200000:65536\n1000:300000:10\nalice:bad:1\n';
  assert.deepEqual(parseSubIds(text, { name: 'alice', uid: 1000 }), [{ start: 100000, count: 65536 }, { start: 300000, count: 10 }]);
  assert.deepEqual(parseSubIds(text, { name: 'carol', uid: 1001 }), []);
});

test('a healthy machine passes every check', () => {
  const checks = doctorChecks(HEALTHY);
  assert.deepEqual(checks.filter((check) => !check.ok).map((check) => check.id), []);
  assert.equal(doctorOk(checks), true);
  assert.deepEqual(packagesToInstall(checks), []);
});

const CASES: readonly { title: string; change: Partial<DoctorFacts>; failed: string[]; ok: boolean; packages: string[] }[] = [
  { title: 'old kernel', change: { kernelRelease: '4.4.0' }, failed: ['kernel-fix-binary', 'kernel-preserve-argv0', 'kernel-private-instances'], ok: false, packages: [] },
  { title: 'kernel 5.15', change: { kernelRelease: '5.15.0' }, failed: ['kernel-private-instances'], ok: true, packages: [] },
  { title: 'not mounted, private instances available: a warning', change: { binfmt: { path: '/proc/sys/fs/binfmt_misc', mounted: false, enabled: null, namespace: 'host' } }, failed: ['binfmt-mounted'], ok: true, packages: [] },
  { title: 'not mounted on a kernel without private instances: an error', change: { kernelRelease: '6.1.0', binfmt: { path: '/proc/sys/fs/binfmt_misc', mounted: false, enabled: null, namespace: 'host' } }, failed: ['kernel-private-instances', 'binfmt-mounted'], ok: false, packages: [] },
  { title: 'disabled instance', change: { binfmt: { path: '/x', mounted: true, enabled: false, namespace: 'private' } }, failed: ['binfmt-enabled'], ok: false, packages: [] },
  { title: 'user namespaces off', change: { userns: { maxUserNamespaces: 0, unprivilegedClone: 0, apparmorRestrict: 1 } }, failed: ['userns-max', 'userns-unprivileged', 'userns-apparmor'], ok: false, packages: [] },
  { title: 'no subuid range', change: { subuid: [], subgid: [{ start: 1, count: 100 }] }, failed: ['subuid', 'subgid'], ok: true, packages: ['uidmap'] },
  { title: 'root needs no subuid', change: { euid: 0, user: { name: 'root', uid: 0 }, subuid: [], subgid: [] }, failed: [], ok: true, packages: [] },
  { title: 'no emulators', change: { emulators: [] }, failed: ['emulators-present'], ok: true, packages: ['qemu-user-static'] },
  { title: 'dynamic emulator', change: { emulators: [{ arch: 'arm', path: '/usr/bin/qemu-arm', static: false }] }, failed: ['emulators-static'], ok: true, packages: ['qemu-user-static'] },
  { title: 'arm64 without AArch32', change: { machine: 'aarch64', aarch32: false }, failed: ['aarch32'], ok: true, packages: ['qemu-user-static'] },
  { title: 'tools missing', change: { tools: { unshare: null, mount: '/usr/bin/mount', chroot: '/usr/sbin/chroot', newuidmap: null, newgidmap: null, mmdebstrap: null, debootstrap: null } }, failed: ['tool-unshare', 'tool-newuidmap', 'tool-newgidmap', 'tool-bootstrap'], ok: false, packages: ['util-linux', 'uidmap', 'mmdebstrap'] },
  { title: 'leaked mounts', change: { leakedMounts: ['/tmp/crossroot-root-x/proc'] }, failed: ['leaked-mounts'], ok: true, packages: [] },
];

for (const testCase of CASES) {
  test(`doctor: ${testCase.title}`, () => {
    const checks = doctorChecks({ ...HEALTHY, ...testCase.change });
    assert.deepEqual(checks.filter((check) => !check.ok).map((check) => check.id), testCase.failed);
    assert.equal(doctorOk(checks), testCase.ok);
    assert.deepEqual(packagesToInstall(checks), testCase.packages);
    for (const check of checks) assert.equal(check.ok ? check.fix === null : check.fix !== null, true, check.id);
  });
}

test('aarch32 is n/a off arm64', () => {
  const aarch32 = doctorChecks(HEALTHY).find((check) => check.id === 'aarch32');
  assert.match(aarch32?.message ?? '', /^n\/a: the host is x86_64/);
});

test('leaked mount points: names with crossroot, or under a managed dir; octal escapes decoded', () => {
  const mountinfo = [
    '22 1 0:21 / /proc rw - proc proc rw',
    '90 22 0:50 / /tmp/crossroot-root-a/proc rw - proc proc rw',
    '91 22 0:51 / /var/lib/roots/x/dev rw - devtmpfs udev rw',
    '92 22 0:52 / /tmp/my\\040crossroot rw - tmpfs tmpfs rw',
  ].join('\n');
  assert.deepEqual(leakedMountPoints(mountinfo, ['/var/lib/roots']), ['/tmp/crossroot-root-a/proc', '/var/lib/roots/x/dev', '/tmp/my crossroot']);
});

test('the run helper: an error with the build as the fix when it is missing', () => {
  const built = doctorChecks({ ...HEALTHY, runHelper: '/opt/crossroot/dist/runner/enter/crossroot-enter' }).find((check) => check.id === 'run-helper');
  assert.equal(built?.ok, true);
  const missing = doctorChecks({ ...HEALTHY, runHelper: null });
  assert.equal(missing.find((check) => check.id === 'run-helper')?.ok, false);
  assert.equal(doctorOk(missing), false);
  assert.deepEqual(packagesToInstall(missing), ['gcc', 'libc6-dev']);
});
