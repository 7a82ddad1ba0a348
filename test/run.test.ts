// `crossroot run` and `crossroot shell` on the real kernel, as a user runs
// them (the CLI as a subprocess, output collected), in small roots built from
// busybox-static + libc6 + coreutils of arm64, armhf and i386
// (test/support/package-roots.ts). Needs root, Linux >= 6.7, qemu-user-static,
// util-linux (unshare, setpriv, mount), tmux (shell test) and uidmap
// (rootless test). Host binfmt_misc registrations are never touched: the
// host/bind/copy modes with host entries run under
// test/support/fake-host-binfmt.ts, whose entries live in a private instance.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runProcess } from '../src/runner/process/process.ts';
import type { RunResult } from '../src/runner/process/process.ts';
import { aarch64Entry, hostRegistrations, runCliWithHostEntries } from './support/fake-host-binfmt.ts';
import type { TestRoot } from './support/package-roots.ts';
import { makeTestRoot } from './support/package-roots.ts';
import { mountsUnder } from '../src/runner/host/mounts.ts';
import { cliCommand, spawnCli } from './support/cli.ts';
import { createUnprivilegedUser } from './support/unprivileged-user.ts';

function crossroot(args: readonly string[], options: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<RunResult> {
  return spawnCli(args, options);
}

/** Processes whose root directory is `dir` (what a leaked process of a run would show). */
function processesRootedAt(dir: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/root`) === dir) found.push(Number(name));
    } catch {
      // gone or not ours to read
    }
  }
  return found;
}

/** Names, sizes, modes and mtimes of everything under `dir` (a host directory a hostile root points at). */
function snapshot(dir: string): string[] {
  const lines: string[] = [];
  const walk = (path: string): void => {
    for (const name of readdirSync(path).sort()) {
      const full = join(path, name);
      const stat = lstatSync(full);
      lines.push(`${full} ${stat.mode} ${stat.size} ${stat.mtimeMs}`);
      if (stat.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return lines;
}

const roots: Partial<Record<'arm64' | 'armhf' | 'i386', TestRoot>> = {};
let arm64 = '';
let registrationsBefore: string[] = [];

before(async () => {
  registrationsBefore = hostRegistrations();
  for (const arch of ['arm64', 'armhf', 'i386'] as const) roots[arch] = await makeTestRoot(arch);
  arm64 = roots.arm64?.dir ?? '';
});

after(() => {
  for (const root of Object.values(roots)) root.remove();
  assert.deepEqual(hostRegistrations(), registrationsBefore, 'host binfmt_misc registrations unchanged');
});

describe('run: status, streams, options', () => {
  test('exit status of the command', async () => {
    const run = await crossroot(['run', arm64, '--', 'sh', '-c', 'exit 7']);
    assert.equal(run.exitCode, 7, run.stderr);
  });

  test('128+N when the command is killed by signal N', async () => {
    const run = await crossroot(['run', arm64, '--', 'sh', '-c', 'kill -TERM $$']);
    assert.equal(run.exitCode, 128 + 15, run.stderr);
  });

  test('a signal sent to crossroot reaches the command (SIGTERM: 143)', async () => {
    let pid = 0;
    const running = runProcess(cliCommand(['run', arm64, '--', 'sleep', '60']), {
      timeoutMs: 60_000, onSpawn: (spawned) => { pid = spawned; },
    });
    const deadline = Date.now() + 30_000;
    while (processesRootedAt(arm64).length === 0 && Date.now() < deadline) await sleep(50);
    const sent = Date.now();
    process.kill(pid, 'SIGTERM');
    const result = await running;
    assert.equal(result.exitCode, 128 + 15, result.stderr);
    assert.ok(Date.now() - sent < 10_000, 'the command ended at once');
    assert.deepEqual(processesRootedAt(arm64), []);
  });

  test('--accelerate on a root without a compiler: runs emulated, says why on stderr; --profile names the programs', async () => {
    const run = await crossroot(['run', arm64, '--accelerate', '--profile', '--', 'sh', '-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo done']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stdout, 'done\n');
    assert.match(run.stderr, /^crossroot: accelerate: nothing accelerated: the root has no gcc for 'aarch64-linux-gnu' \(no cc1\)$/m);
    assert.match(run.stderr, /crossroot: profile \(CPU time by program\):\n\s+CPU s\s+MODE\s+PROCS\s+PROGRAM\n\s+\d+\.\d\d\s+emulated\s+1\s+\/bin\/sh\n/);
    assert.deepEqual(mountsUnder(arm64), []);
  });

  test('stdin, stdout and stderr pass through', async () => {
    const run = await crossroot(['run', arm64, '--', 'sh', '-c', 'cat; echo to-stderr >&2'], { input: 'hello from the host\n' });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stdout, 'hello from the host\n');
    assert.match(run.stderr, /to-stderr/);
  });

  test('--bind and --workdir: a host directory inside the root, written through', async () => {
    const hostDir = mkdtempSync(join(tmpdir(), 'crossroot-run-bind-'));
    try {
      writeFileSync(join(hostDir, 'data.txt'), 'host data\n');
      const run = await crossroot(['run', arm64, '--bind', `${hostDir}:/src`, '--workdir', '/src', '--', 'sh', '-c', 'pwd; cat data.txt; echo made-inside > new.txt']);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.equal(run.stdout, '/src\nhost data\n');
      assert.equal(readFileSync(join(hostDir, 'new.txt'), 'utf8'), 'made-inside\n');
      assert.deepEqual(mountsUnder(arm64), []);
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  test('--env adds to a clean environment (host variables stay out)', async () => {
    const run = await crossroot(['run', arm64, '--env', 'FOO=bar baz', '--', 'env'], { env: { CROSSROOT_TEST_SECRET: 'leak' } });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /^FOO=bar baz$/m);
    assert.match(run.stdout, /^PATH=\/usr\/local\/sbin:/m);
    assert.match(run.stdout, /^HOME=\/root$/m);
    assert.doesNotMatch(run.stdout, /CROSSROOT_TEST_SECRET/);
  });

  test('--user: ids and groups from the root\'s passwd/group; setuid works (flag C)', async () => {
    const run = await crossroot(['run', arm64, '--user', 'builder', '--', 'sh', '-c', 'id -u; id -g; id -G; echo $HOME; suid-whoami']);
    assert.equal(run.exitCode, 0, run.stderr);
    const [uid, gid, groups, home, whoami] = run.stdout.trim().split('\n');
    assert.equal(uid, '1000');
    assert.equal(gid, '1000');
    assert.deepEqual(groups?.split(' ').sort(), ['1000', '50']);
    assert.equal(home, '/home/builder');
    assert.equal(whoami, 'root', 'the setuid-root program ran with euid 0');
    const unknown = await crossroot(['run', arm64, '--user', 'nosuchuser', '--', 'true']);
    assert.equal(unknown.exitCode, 1);
    assert.match(unknown.stderr, /^crossroot: .*nosuchuser/m);
    assert.match(unknown.stderr, /^hint: /m);
  });

  test('root inside cannot change the host through /sys or /proc/sys (read-only), and sees only its own processes', async () => {
    const run = await crossroot(['run', arm64, '--', 'sh', '-c', [
      'touch /sys/crossroot-probe 2>/dev/null && echo sys-writable',
      'for d in /sys/fs/cgroup /sys/fs/cgroup/*; do [ -d "$d" ] && touch "$d/crossroot-probe" 2>/dev/null && echo "writable $d"; done',
      'echo 3 > /proc/sys/vm/drop_caches 2>/dev/null && echo sysctl-writable',
      'ls /proc | grep -c "^[0-9]"',
      'cat /proc/sys/fs/binfmt_misc/status',
    ].join('; ')]);
    assert.equal(run.exitCode, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.deepEqual(lines.filter((line) => /writable/.test(line)), []);
    assert.ok(Number(lines.at(-2)) <= 4, `few processes in the run's PID namespace: ${lines.at(-2) ?? ''}`);
    assert.equal(lines.at(-1), 'enabled', 'the private binfmt_misc instance is visible and usable');
  });

  test('uname -m: aarch64, armv7l, i686 (linux32 personality for i386 on a 64-bit host)', async () => {
    const expected = { arm64: 'aarch64', armhf: 'armv7l', i386: process.arch === 'x64' ? 'i686' : null } as const;
    for (const [arch, machine] of Object.entries(expected)) {
      if (machine === null) continue;
      const run = await crossroot(['run', roots[arch as keyof typeof roots]?.dir ?? '', '--', 'uname', '-m']);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.equal(run.stdout.trim(), machine, arch);
    }
  });

  test('usage and setup errors: one line, a hint, exit 1 (2 for usage)', async () => {
    const missing = await crossroot(['run', '/nonexistent/crossroot-root', '--', 'true']);
    assert.equal(missing.exitCode, 1);
    assert.match(missing.stderr, /^crossroot: enter root '\/nonexistent\/crossroot-root': no such directory\nhint: /);
    const empty = mkdtempSync(join(tmpdir(), 'crossroot-not-a-root-'));
    try {
      const notRoot = await crossroot(['run', empty, '--', 'true']);
      assert.equal(notRoot.exitCode, 1);
      assert.match(notRoot.stderr, /neither \/bin\/sh nor \/usr/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    const badArch = await crossroot(['run', '--arch', 'nosucharch', '--', 'true']);
    assert.equal(badArch.exitCode, 2, 'an unknown architecture is a usage error (UNKNOWN_ARCH)');
    assert.match(badArch.stderr, /nosucharch/);
    const wrongArch = await crossroot(['run', arm64, '--arch', 'armhf', '--', 'true']);
    assert.equal(wrongArch.exitCode, 1);
    assert.equal((await crossroot(['run', '--', 'true'])).exitCode, 2);
    assert.equal((await crossroot(['run', arm64])).exitCode, 2);
    assert.equal((await crossroot(['run', arm64, '--emulation', 'magic', '--', 'true'])).exitCode, 2);
    const notFound = await crossroot(['run', arm64, '--', 'no-such-program']);
    assert.equal(notFound.exitCode, 127);
    assert.match(notFound.stderr, /^crossroot: run 'no-such-program': command not found in the root/);
  });
});

describe('emulation modes, each forced', () => {
  test('private, bind and copy without any host entry', async () => {
    for (const mode of ['private', 'bind', 'copy']) {
      const run = await crossroot(['run', arm64, '--emulation', mode, '--verbose', '--', 'uname', '-m']);
      assert.equal(run.exitCode, 0, `${mode}: ${run.stderr}`);
      assert.equal(run.stdout.trim(), 'aarch64', mode);
      assert.match(run.stderr, new RegExp(`^crossroot: emulation: ${mode}: `, 'm'));
    }
    assert.equal(existsSync(join(arm64, 'usr/bin/qemu-aarch64-static')), false, 'bind placeholder / copied emulator removed');
  });

  test('auto picks private on this kernel and says so with --verbose', async () => {
    const run = await crossroot(['run', arm64, '--verbose', '--', 'true']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, /^crossroot: emulation: private: /m);
  });

  test('host, bind and copy with the host\'s own entries (a fake host instance)', async () => {
    const fixed = aarch64Entry('qemu-aarch64', '/usr/libexec/qemu-binfmt/aarch64-binfmt-P', 'POCF');
    const plain = aarch64Entry('qemu-aarch64', '/usr/bin/qemu-aarch64-static', 'P');
    const cases = [
      { entry: fixed, mode: 'host', status: 0 },
      { entry: plain, mode: 'bind', status: 0 },
      { entry: plain, mode: 'copy', status: 0 },
      { entry: plain, mode: 'host', status: 1 }, // no F and no emulator inside the root
    ];
    for (const { entry, mode, status } of cases) {
      const run = await runCliWithHostEntries([entry], ['run', arm64, '--emulation', mode, '--verbose', '--', 'uname', '-m']);
      assert.equal(run.exitCode, status, `${mode}: ${run.stderr}`);
      if (status === 0) {
        assert.equal(run.stdout.trim(), 'aarch64', mode);
        assert.match(run.stderr, new RegExp(`^crossroot: emulation: ${mode}: .*'qemu-aarch64'`, 'm'));
      } else {
        assert.match(run.stderr, /^crossroot: use emulation 'host' for 'aarch64': .*\nhint: /m);
      }
    }
    assert.equal(existsSync(join(arm64, 'usr/bin/qemu-aarch64-static')), false);
  });

  test('native i386 root needs no emulation, whatever is forced', async (t) => {
    if (process.arch !== 'x64') {
      t.skip(`i386 is native only on an x64 host, this one is '${process.arch}'`);
      return;
    }
    const run = await crossroot(['run', roots.i386?.dir ?? '', '--emulation', 'copy', '--verbose', '--', 'true']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, /^crossroot: emulation: native: /m);
  });
});

describe('mounts left by other tools', () => {
  test('run warns before using a root with mounts under it', async () => {
    mkdirSync(join(arm64, 'mnt'), { recursive: true });
    const run = await runCliWithHostEntries([], ['run', arm64, '--', 'true'], 60_000, [join(arm64, 'mnt')]);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, /^crossroot: warning: .* has 1 mount\(s\) left under it by another tool \(.*\/mnt\)/m);
    rmSync(join(arm64, 'mnt'), { recursive: true });
  });

  test('mountsUnder reads /proc/self/mounts, octal escapes included', () => {
    const text = 'proc /proc proc rw 0 0\ntmpfs /r/dev tmpfs rw 0 0\ntmpfs /r2/x tmpfs rw 0 0\ntmpfs /r/with\\040space tmpfs rw 0 0\n';
    assert.deepEqual(mountsUnder('/r', text), ['/r/dev', '/r/with space']);
  });
});

describe('nothing outlives a run', () => {
  test('SIGKILL of crossroot during sleep 60: no mount, no process, no registration left', async () => {
    let pid = 0;
    const running = runProcess(cliCommand(['run', arm64, '--', 'sleep', '60']), {
      timeoutMs: 90_000, onSpawn: (spawned) => { pid = spawned; },
    });
    const deadline = Date.now() + 30_000;
    while (processesRootedAt(arm64).length === 0 && Date.now() < deadline) await sleep(50);
    assert.ok(processesRootedAt(arm64).length > 0, 'the command started inside the root');
    process.kill(pid, 'SIGKILL');
    const result = await running;
    assert.equal(result.signal, 'SIGKILL');
    let left = processesRootedAt(arm64);
    for (let i = 0; i < 100 && left.length > 0; i++) {
      await sleep(50);
      left = processesRootedAt(arm64);
    }
    assert.deepEqual(left, [], 'no process of the run is left');
    const sleepers = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).filter((name) => {
      try {
        return readFileSync(`/proc/${name}/cmdline`, 'latin1').includes('sleep\u000060') && readlinkSync(`/proc/${name}/root`) !== '/';
      } catch {
        return false;
      }
    });
    assert.deepEqual(sleepers, []);
    assert.deepEqual(mountsUnder(arm64), [], 'no mount under the root');
    assert.deepEqual(hostRegistrations(), registrationsBefore);
    assert.equal(existsSync(join(arm64, 'etc/resolv.conf')), false, 'the resolv.conf placeholder was removed');
  });
});

describe('a hostile root changes nothing on the host', () => {
  test('usr/bin, etc/resolv.conf, etc/hosts and a --bind destination are symlinks to host paths', async () => {
    const hostDir = mkdtempSync(join(tmpdir(), 'crossroot-hostile-host-'));
    const bindSource = mkdtempSync(join(tmpdir(), 'crossroot-hostile-src-'));
    const hostile = await makeTestRoot('arm64');
    try {
      writeFileSync(join(hostDir, 'resolv.conf'), 'nameserver 192.0.2.1\n');
      writeFileSync(join(hostDir, 'hosts'), '192.0.2.2 host-file\n');
      mkdirSync(join(hostDir, 'bound'));
      writeFileSync(join(bindSource, 'payload'), 'payload\n');
      const root = hostile.dir;
      rmSync(join(root, 'usr/bin'), { recursive: true });
      symlinkSync(hostDir, join(root, 'usr/bin'));
      symlinkSync(join(hostDir, 'resolv.conf'), join(root, 'etc/resolv.conf'));
      symlinkSync(`../../../../../../../..${hostDir}/hosts`, join(root, 'etc/hosts'));
      symlinkSync(hostDir, join(root, 'mnt'));
      const before = snapshot(hostDir);
      const emulator = statSync('/usr/bin/qemu-aarch64-static');
      const command = ['--bind', `${bindSource}:/mnt/bound`, '--', '/bin/sh', '-c', 'cat /mnt/bound/payload; uname -m'];
      for (const mode of ['private', 'bind', 'copy']) {
        const run = await crossroot(['run', root, '--emulation', mode, ...command]);
        assert.equal(run.exitCode, 0, `${mode}: ${run.stderr}`);
        assert.equal(run.stdout, 'payload\naarch64\n', mode);
        assert.deepEqual(snapshot(hostDir), before, `${mode}: host directory unchanged`);
      }
      const plain = aarch64Entry('qemu-aarch64', '/usr/bin/qemu-aarch64-static', 'P');
      const fixed = aarch64Entry('qemu-aarch64', '/usr/libexec/qemu-binfmt/aarch64-binfmt-P', 'POCF');
      for (const [entry, mode] of [[fixed, 'host'], [plain, 'bind'], [plain, 'copy']] as const) {
        const run = await runCliWithHostEntries([entry], ['run', root, '--emulation', mode, ...command]);
        assert.equal(run.exitCode, 0, `${mode} (host entry): ${run.stderr}`);
        assert.equal(run.stdout, 'payload\naarch64\n');
        assert.deepEqual(snapshot(hostDir), before, `${mode} (host entry): host directory unchanged`);
      }
      assert.equal(statSync('/usr/bin/qemu-aarch64-static').mtimeMs, emulator.mtimeMs);
      assert.deepEqual(readdirSync(bindSource), ['payload']);
      assert.deepEqual(mountsUnder(root), []);
    } finally {
      hostile.remove();
      rmSync(hostDir, { recursive: true, force: true });
      rmSync(bindSource, { recursive: true, force: true });
    }
  });
});

describe('shell', () => {
  test('an interactive login shell through tmux: uname -m, tty, then exit 3', async (t) => {
    if ((await runProcess(['tmux', '-V']).catch(() => null))?.exitCode !== 0) {
      t.skip('tmux is not installed');
      return;
    }
    const session = `crossroot-test-${process.pid}`;
    const statusFile = join(mkdtempSync(join(tmpdir(), 'crossroot-shell-')), 'status');
    const tmux = (...args: string[]): Promise<RunResult> => runProcess(['tmux', ...args], { timeoutMs: 10_000 });
    // tmux runs its command through a shell; the status lands in a file the test reads.
    await tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30',
      `${cliCommand(['shell', arm64]).join(' ')}; echo $? > ${statusFile}; sleep 60`);
    try {
      const screen = async (pattern: RegExp): Promise<string> => {
        let text = '';
        for (let i = 0; i < 200; i++) {
          text = (await tmux('capture-pane', '-t', session, '-p')).stdout;
          if (pattern.test(text)) return text;
          await sleep(100);
        }
        assert.fail(`screen never showed ${String(pattern)}:\n${text}`);
      };
      await screen(/# ?$/m);
      await tmux('send-keys', '-t', session, 'uname -m', 'Enter');
      assert.match(await screen(/^aarch64$/m), /^aarch64$/m);
      await tmux('send-keys', '-t', session, 'tty', 'Enter');
      await screen(/^\/dev\/console$/m); // the host terminal, bound at /dev/console: ttyname(3) finds it
      await tmux('send-keys', '-t', session, 'exit 3', 'Enter');
      for (let i = 0; i < 100 && !existsSync(statusFile); i++) await sleep(100);
      assert.equal(readFileSync(statusFile, 'utf8').trim(), '3');
    } finally {
      await tmux('kill-session', '-t', session);
      rmSync(join(statusFile, '..'), { recursive: true, force: true });
    }
  });
});

describe('rootless', () => {
  test('an unprivileged user with subuid/subgid ranges runs an arm64 root', async () => {
    const base = mkdtempSync(join(tmpdir(), 'crossroot-rootless-'));
    chmodSync(base, 0o755);
    const user = await createUnprivilegedUser(base);
    try {
      // A root the user owns, as a rootless `crossroot create` leaves it (a real copy, not hard links).
      const root = join(base, 'root');
      const copy = await runProcess(['cp', '-a', arm64, root]);
      assert.equal(copy.exitCode, 0, copy.stderr);
      const chown = await runProcess(['chown', '-R', `${user.uid}:${user.gid}`, root]);
      assert.equal(chown.exitCode, 0, chown.stderr);
      const run = await user.crossroot(['run', root, '--', 'sh', '-c', 'id -u; uname -m; id -u builder']);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.equal(run.stdout, '0\naarch64\n1000\n');
      const asBuilder = await user.crossroot(['run', root, '--user', 'builder', '--', 'sh', '-c', 'id -u; touch /tmp/by-builder && echo ok']);
      assert.equal(asBuilder.exitCode, 0, asBuilder.stderr);
      assert.equal(asBuilder.stdout, '1000\nok\n');
      assert.deepEqual(mountsUnder(root), []);
    } finally {
      await user.remove();
      rmSync(base, { recursive: true, force: true });
    }
  });
});
