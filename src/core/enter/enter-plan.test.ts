import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveArch } from '../arch/arch.ts';
import type { BinfmtEntry } from '../binfmt/entry.ts';
import { parseRegisterString } from '../binfmt/rule.ts';
import type { EmulationFacts, EnterPlanInput, PathKind, Stage2Step } from './enter-plan.ts';
import {
  chooseEmulation, commandChain, defaultEnvironment, fstabEscape, fstabOf, parseBindSpec, parseEnvAssignment, planEnter,
} from './enter-plan.ts';
import { isCrossrootError } from '../errors.ts';

const aarch64 = resolveArch('arm64');

function entry(interpreter: string, flags: string): BinfmtEntry {
  const parsed = parseRegisterString(`:qemu-aarch64:M::${aarch64.magicText}:${aarch64.maskText}:${interpreter}:${flags}`);
  assert.ok(parsed.ok);
  return parsed.entry;
}

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

describe('chooseEmulation', () => {
  const noF = entry('/usr/bin/qemu-aarch64-static', 'P');
  const withF = entry('/usr/bin/qemu-aarch64-static', 'POCF');
  const cases: { name: string; choice: 'auto' | 'private' | 'host' | 'bind' | 'copy'; facts: Partial<EmulationFacts>; mode: string }[] = [
    { name: 'auto prefers private', choice: 'auto', facts: { hostEntry: withF }, mode: 'private' },
    { name: 'native needs nothing', choice: 'copy', facts: { native: true }, mode: 'native' },
    { name: 'auto falls back to a host F entry', choice: 'auto', facts: { privateBlocker: 'old kernel', hostEntry: withF, hostInterpreterStatic: true }, mode: 'host' },
    { name: 'auto: F-less host entry, emulator in the root', choice: 'auto', facts: { privateBlocker: 'x', hostEntry: noF, hostInterpreterInRoot: true }, mode: 'host' },
    { name: 'auto: F-less host entry, nothing in the root -> bind', choice: 'auto', facts: { privateBlocker: 'x', hostEntry: noF }, mode: 'bind' },
    { name: 'forced copy with a host entry', choice: 'copy', facts: { hostEntry: noF }, mode: 'copy' },
    { name: 'forced bind without a host entry uses a private F-less entry', choice: 'bind', facts: {}, mode: 'bind' },
    { name: 'host F entry pinning a dynamic emulator is refused', choice: 'host', facts: { hostEntry: withF, hostInterpreterStatic: false }, mode: 'EMULATION_UNAVAILABLE' },
    { name: 'forced host without entries', choice: 'host', facts: {}, mode: 'EMULATION_UNAVAILABLE' },
    { name: 'forced private on an old kernel', choice: 'private', facts: { privateBlocker: 'Linux 6.1' }, mode: 'EMULATION_UNAVAILABLE' },
    { name: 'no static emulator at all', choice: 'auto', facts: { emulator: null }, mode: 'EMULATION_UNAVAILABLE' },
    { name: 'bind with neither host entry nor private instance', choice: 'bind', facts: { privateBlocker: 'x' }, mode: 'EMULATION_UNAVAILABLE' },
  ];
  for (const { name, choice, facts, mode } of cases) {
    test(name, () => {
      let got: string;
      try {
        got = chooseEmulation(choice, aarch64, { ...base, ...facts }).mode;
      } catch (error) {
        got = isCrossrootError(error) ? error.code : 'other';
      }
      assert.equal(got, mode);
    });
  }

  test('private registers F, C (with O) and P with the static emulator', () => {
    const decision = chooseEmulation('private', aarch64, base);
    const parsed = parseRegisterString(decision.register ?? '');
    assert.ok(parsed.ok);
    assert.equal(parsed.entry.name, 'crossroot-aarch64');
    assert.equal(parsed.entry.interpreter, '/usr/libexec/qemu-binfmt/aarch64-binfmt-P');
    assert.deepEqual(parsed.entry.flags, { P: true, O: true, C: true, F: true });
  });

  test('bind without a host entry: private entry without F, interpreter in the root', () => {
    const decision = chooseEmulation('bind', aarch64, base);
    assert.equal(decision.interpreterInRoot, '/usr/bin/qemu-aarch64-static');
    const parsed = parseRegisterString(decision.register ?? '');
    assert.ok(parsed.ok);
    assert.equal(parsed.entry.flags.F, false);
    assert.equal(parsed.entry.interpreter, '/usr/bin/qemu-aarch64-static');
  });

  test('a forced mode that cannot work carries a hint', () => {
    try {
      chooseEmulation('host', aarch64, base);
      assert.fail('expected an error');
    } catch (error) {
      assert.ok(isCrossrootError(error));
      assert.match(error.hint ?? '', /crossroot binfmt install aarch64/);
    }
  });
});

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
    hostResolvConf: '/etc/resolv.conf',
    hostHosts: '/etc/hosts',
    hostDevices: ['null', 'zero', 'full', 'random', 'urandom', 'tty'],
    procReadOnly: ['sys', 'sysrq-trigger'],
    console: null,
    sysSubmounts: ['/sys/fs/cgroup', '/sys/fs/cgroup/pids'],
    ttyGroupMapped: true,
    binds: [],
    workdir: '/',
    user: { uid: 0, gid: 0, groups: [] },
    argv: ['uname', '-m'],
    env: { PATH: '/usr/bin:/bin' },
    ...overrides,
  };
}

const mounts = (steps: readonly Stage2Step[]): string[] =>
  steps.filter((step) => step.op === 'mount').map((step) => (step.op === 'mount' ? `${step.target} ${step.fstype} ${step.options}` : ''));

describe('planEnter', () => {
  test('API filesystems in order, guard tmpfs under the private binfmt_misc, register last', () => {
    const plan = planEnter(input());
    const targets = plan.steps.filter((step) => step.op === 'mount').map((step) => (step.op === 'mount' ? step.target : ''));
    assert.deepEqual(targets.slice(0, 10), [
      '/r/proc', '/r/proc/sys', '/r/proc/sysrq-trigger', '/r/proc/sys/fs/binfmt_misc', '/r/proc/sys/fs/binfmt_misc',
      '/r/sys', '/r/sys/fs/cgroup', '/r/sys/fs/cgroup/pids', '/r/dev', '/r/run',
    ]);
    assert.ok(mounts(plan.steps).includes('/r/sys/fs/cgroup/pids none remount,bind,ro'));
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
      .map((step) => (step.op === 'mkdir' || step.op === 'file' ? `${step.op} ${step.path} ${String(step.temporary)}` : ''));
    assert.ok(created.includes('mkdir /r/run/systemd false'), 'on the fresh tmpfs, even though it exists on disk');
    assert.ok(created.includes('mkdir /r/run/systemd/resolve false'));
    assert.ok(created.includes('file /r/run/systemd/resolve/stub-resolv.conf false'));
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
      assert.ok(path.startsWith('/r/'), `${step.op} ${path} stays inside the root`);
    }
    assert.ok(plan.steps.some((step) => step.op === 'copy' && step.path === '/r/tmp/host/qemu-aarch64-static' && step.temporary));
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

  test('bind mode mounts the emulator read-only at the entry\'s path, created temporarily', () => {
    const plan = planEnter(input({ emulation: chooseEmulation('bind', aarch64, base) }));
    assert.ok(plan.steps.some((step) => step.op === 'file' && step.path === '/r/usr/bin/qemu-aarch64-static' && step.temporary));
    assert.ok(mounts(plan.steps).includes('/r/usr/bin/qemu-aarch64-static none bind,ro'));
  });
});

describe('commandChain', () => {
  test('root: unshare chroots, changes directory and sets ids', () => {
    assert.deepEqual(commandChain({ rootDir: '/r', personality: null, user: { uid: 0, gid: 0, groups: [] }, workdir: '/w', argv: ['id'] }),
      ['unshare', '--root', '/r', '--wd', '/w', '--setgid', '0', '--setuid', '0', '--', 'id']);
  });
  test('supplementary groups go through setpriv; linux32 comes first', () => {
    assert.deepEqual(commandChain({ rootDir: '/r', personality: 'linux32', user: { uid: 1000, gid: 1000, groups: [50] }, workdir: '/', argv: ['sh'] }),
      ['setarch', 'linux32', 'setpriv', '--regid', '1000', '--groups', '1000,50', '--', 'unshare', '--root', '/r', '--wd', '/', '--setuid', '1000', '--', 'sh']);
  });
});

describe('small parsers', () => {
  test('parseBindSpec', () => {
    assert.deepEqual(parseBindSpec('/a'), { source: '/a', target: '/a', readOnly: false });
    assert.deepEqual(parseBindSpec('./a:/b'), { source: './a', target: '/b', readOnly: false });
    assert.deepEqual(parseBindSpec('/a:/b:ro'), { source: '/a', target: '/b', readOnly: true });
    assert.equal(codeOf(() => parseBindSpec('/a:rel')), 'USAGE');
    assert.equal(codeOf(() => parseBindSpec(':/b')), 'USAGE');
  });
  test('parseEnvAssignment', () => {
    assert.deepEqual(parseEnvAssignment('A=b=c'), ['A', 'b=c']);
    assert.deepEqual(parseEnvAssignment('EMPTY='), ['EMPTY', '']);
    for (const bad of ['=x', 'NOEQUALS', '1A=x', 'A B=x']) assert.equal(codeOf(() => parseEnvAssignment(bad)), 'USAGE', bad);
  });
  test('fstab escaping round-trips the characters libmount decodes', () => {
    assert.equal(fstabEscape('/a b\tc\nd\\e'), '/a\\040b\\011c\\012d\\134e');
    assert.equal(fstabOf([{ op: 'mount', what: 'x', source: '/s p', target: '/t', fstype: 'none', options: 'bind' }]), '/s\\040p /t none bind 0 0\n');
  });
  test('defaultEnvironment keeps only TERM and a portable LANG from the host', () => {
    const env = defaultEnvironment({ name: 'builder', uid: 1000, home: '/home/builder', shell: '/bin/bash' },
      { TERM: 'xterm', LANG: 'de_DE.UTF-8', SECRET: 'x' });
    assert.deepEqual(env, {
      PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/home/builder', SHELL: '/bin/bash', USER: 'builder', LOGNAME: 'builder', TERM: 'xterm', LANG: 'C.UTF-8',
    });
    assert.equal(defaultEnvironment({ name: null, uid: 0, home: '/root', shell: '/bin/sh' }, { LANG: 'C.UTF-8' })['LANG'], 'C.UTF-8');
  });
});
