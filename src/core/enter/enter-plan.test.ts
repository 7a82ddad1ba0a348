import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveArch } from '../arch/arch.ts';
import type { EmulationFacts } from './emulation.ts';
import { chooseEmulation } from './emulation.ts';
import type { EnterPlanInput } from './enter-plan.ts';
import { planEnter } from './enter-plan.ts';
import type { PathKind, SetupStep } from './setup-steps.ts';
import { isCrossrootError } from '../errors.ts';

const aarch64 = resolveArch('arm64');

const base: EmulationFacts = {
  native: false,
  privateBlocker: null,
  emulator: { path: '/usr/libexec/qemu-binfmt/aarch64-binfmt-P', realPath: '/usr/bin/qemu-aarch64-static', honoursP: true },
  dynamicEmulatorOnly: null,
  hostEntry: null,
  hostInterpreterStatic: null,
  hostInterpreterInRoot: false,
};

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return isCrossrootError(error) ? error.code : 'other';
  }
  return 'ok';
}

/** A fake root: root-relative path -> kind, links with their targets. */
function view(files: Record<string, PathKind>, links: Record<string, string> = {}): EnterPlanInput['view'] {
  return {
    readlink: (path) => links[path] ?? null,
    kind: (path) => (path in links ? 'link' : files[path] ?? null),
  };
}

function input(overrides: Partial<EnterPlanInput> = {}): EnterPlanInput {
  return {
    rootDir: '/r',
    view: view({ '/': 'dir', '/proc': 'dir', '/sys': 'dir', '/dev': 'dir', '/run': 'dir', '/etc': 'dir', '/usr': 'dir', '/usr/bin': 'dir', '/tmp': 'dir' }),
    arch: aarch64,
    emulation: chooseEmulation('private', aarch64, base),
    emulatorPath: '/usr/bin/qemu-aarch64-static',
    personality: null,
    hostname: 'r',
    network: 'host',
    hostResolvConf: '/etc/resolv.conf',
    hostHosts: '/etc/hosts',
    hostDevices: ['null', 'zero', 'full', 'random', 'urandom', 'tty'],
    procReadOnly: ['sys', 'sysrq-trigger'],
    console: null,
    ttyGroupMapped: true,
    binds: [],
    workdir: '/',
    user: { uid: 0, gid: 0, groups: [] },
    argv: ['uname', '-m'],
    env: { PATH: '/usr/bin:/bin' },
    ...overrides,
  };
}

const mounts = (steps: readonly SetupStep[]): string[] =>
  steps.filter((step) => step.op === 'mount').map((step) => (step.op === 'mount' ? `${step.target} ${step.fstype} ${step.options}` : ''));

describe('planEnter', () => {
  test('API filesystems in order, guard tmpfs under the private binfmt_misc, register last', () => {
    const plan = planEnter(input());
    const targets = plan.steps.filter((step) => step.op === 'mount').map((step) => (step.op === 'mount' ? step.target : ''));
    assert.deepEqual(targets.slice(0, 8), [
      '/r/proc', '/r/proc/sys', '/r/proc/sysrq-trigger', '/r/proc/sys/fs/binfmt_misc', '/r/proc/sys/fs/binfmt_misc',
      '/r/sys', '/r/dev', '/r/run',
    ]);
    assert.ok(mounts(plan.steps).includes('/r/sys none rbind,ro'), 'read-only all the way down');
    assert.ok(mounts(plan.steps).includes('/r/proc/sys none bind,ro'));
    assert.ok(mounts(plan.steps).includes('/r/dev/pts devpts nosuid,noexec,newinstance,ptmxmode=0666,mode=620,gid=5'));
    assert.ok(mounts(plan.steps)[3]?.includes('tmpfs ro,'));
    assert.equal(plan.steps.at(-1)?.op, 'register');
    assert.ok(plan.steps.some((step) => step.op === 'symlink' && step.path === '/r/dev/ptmx' && step.target === 'pts/ptmx'));
    // /tmp is the root's own: nothing mounted there.
    assert.ok(!targets.includes('/r/tmp'));
  });

  test('the terminal on stdin is bound at /dev/console', () => {
    const plan = planEnter(input({ console: '/dev/pts/7' }));
    assert.ok(plan.steps.some((step) => step.op === 'file' && step.path === '/r/dev/console'));
    assert.ok(plan.steps.some((step) => step.op === 'mount' && step.source === '/dev/pts/7' && step.target === '/r/dev/console'));
    assert.ok(!planEnter(input()).steps.some((step) => step.op === 'file' && step.path === '/r/dev/console'));
  });

  test('resolv.conf pointing into /run is created in the run\'s own /run (not temporary on disk)', () => {
    const plan = planEnter(input({
      view: view({ '/': 'dir', '/proc': 'dir', '/sys': 'dir', '/dev': 'dir', '/run': 'dir', '/etc': 'dir', '/run/systemd': 'dir' },
        { '/etc/resolv.conf': '../run/systemd/resolve/stub-resolv.conf' }),
    }));
    const created = plan.steps.filter((step) => step.op === 'mkdir' || step.op === 'file')
      .map((step) => (step.op === 'mkdir' || step.op === 'file' ? `${step.op} ${step.path}` : ''));
    assert.ok(created.includes('mkdir /r/run/systemd'), 'on the fresh tmpfs, even though it exists on disk');
    assert.ok(created.includes('mkdir /r/run/systemd/resolve'));
    assert.ok(created.includes('file /r/run/systemd/resolve/stub-resolv.conf'));
    assert.ok(mounts(plan.steps).includes('/r/run/systemd/resolve/stub-resolv.conf none bind,ro'));
  });

  test('symlinks to host paths are re-rooted: nothing outside the root is created or mounted', () => {
    const plan = planEnter(input({
      view: view({ '/': 'dir', '/proc': 'dir', '/sys': 'dir', '/dev': 'dir', '/run': 'dir', '/etc': 'dir', '/usr': 'dir' }, {
        '/etc/resolv.conf': '/tmp/host/resolv.conf',
        '/etc/hosts': '../../../../../../tmp/host/hosts',
        '/usr/bin': '/tmp/host',
        '/mnt': '/etc',
      }),
      emulation: chooseEmulation('copy', aarch64, base),
      binds: [{ source: '/home/me/src', target: '/mnt/src', sourceKind: 'dir', readOnly: false }],
    }));
    for (const step of plan.steps) {
      const path = step.op === 'mount' ? step.target : step.op === 'register' ? step.dir : step.path;
      assert.ok(path === '/r' || path.startsWith('/r/'), `${step.op} ${path} stays inside the root`);
    }
    assert.ok(plan.steps.some((step) => step.op === 'copy' && step.path === '/r/tmp/host/qemu-aarch64-static'));
    assert.ok(mounts(plan.steps).includes('/r/etc/src none rbind'));
    assert.ok(mounts(plan.steps).includes('/r/tmp/host/resolv.conf none bind,ro'));
  });

  test('a wrong-kind target is skipped with a warning (resolv.conf a directory)', () => {
    const plan = planEnter(input({
      view: view({ '/': 'dir', '/proc': 'dir', '/sys': 'dir', '/dev': 'dir', '/run': 'dir', '/etc': 'dir', '/etc/resolv.conf': 'dir' }),
    }));
    assert.ok(!mounts(plan.steps).some((line) => line.startsWith('/r/etc/resolv.conf')));
    assert.match(plan.warnings.join('\n'), /resolv\.conf.*a dir, not a file; skipped/);
  });

  test('a --bind destination of the wrong kind is an error', () => {
    assert.equal(codeOf(() => planEnter(input({
      view: view({ '/': 'dir', '/proc': 'dir', '/dev': 'dir', '/etc': 'dir', '/etc/passwd': 'file' }),
      binds: [{ source: '/src', target: '/etc/passwd', sourceKind: 'dir', readOnly: false }],
    }))), 'ENTER_FAILED');
  });

  test('bind mode mounts the emulator read-only at the entry\'s path, in a shadow of /usr/bin', () => {
    const plan = planEnter(input({ emulation: chooseEmulation('bind', aarch64, base) }));
    assert.ok(plan.steps.some((step) => step.op === 'shadow' && step.path === '/r/usr/bin'));
    assert.ok(plan.steps.some((step) => step.op === 'file' && step.path === '/r/usr/bin/qemu-aarch64-static'));
    assert.ok(mounts(plan.steps).includes('/r/usr/bin/qemu-aarch64-static none bind,ro'));
  });

  test('a run adds nothing to the root\'s disk: every entry it makes is in a shadow or on a tmpfs of its own', () => {
    const plan = planEnter(input({
      view: view({ '/': 'dir', '/proc': 'dir', '/dev': 'dir', '/etc': 'dir', '/mnt': 'dir', '/mnt/old': 'dir' }),
      binds: [
        { source: '/src', target: '/mnt/new/deep', sourceKind: 'dir', readOnly: false },
        { source: '/other', target: '/mnt/second', sourceKind: 'file', readOnly: true },
        { source: '/top', target: '/work', sourceKind: 'dir', readOnly: false },
      ],
    }));
    const shadows = plan.steps.flatMap((step) => (step.op === 'shadow' ? [step.path] : []));
    assert.deepEqual(shadows.sort(), ['/r', '/r/etc', '/r/mnt'], 'one shadow per parent: / (sys, run, work), /etc (resolv.conf, hosts), /mnt');
    const tmpfs = ['/r/dev', '/r/run'];
    for (const step of plan.steps) {
      if (step.op !== 'mkdir' && step.op !== 'file') continue;
      const parent = step.path.slice(0, step.path.lastIndexOf('/')) || '/r';
      const made = plan.steps.some((other) => other.op === 'mkdir' && other.path === parent);
      assert.ok(shadows.includes(parent) || made || tmpfs.some((dir) => step.path.startsWith(`${dir}/`)), `${step.op} ${step.path}`);
    }
    assert.ok(mounts(plan.steps).includes('/r/mnt/new/deep none rbind'));
    assert.ok(mounts(plan.steps).includes('/r/mnt/second none bind,ro'));
    const shadowAt = plan.steps.findIndex((step) => step.op === 'shadow' && step.path === '/r/mnt');
    const mountAt = plan.steps.findIndex((step) => step.op === 'mount' && step.target === '/r/mnt/new/deep');
    assert.ok(shadowAt >= 0 && shadowAt < mountAt, 'the shadow comes before the mounts into it');
  });

  test('--network none: no host resolv.conf or hosts; the hostname is carried', () => {
    const plan = planEnter(input({ network: 'none', hostname: 'builder' }));
    assert.ok(!mounts(plan.steps).some((line) => line.startsWith('/r/etc/')));
    assert.equal(plan.hostname, 'builder');
    assert.equal(plan.network, 'none');
  });
});
