// The run engine on the real kernel (the CLI as a subprocess, in the small
// native amd64 root of test/support/test-roots.ts, so that nothing here waits
// for an emulator): PID 1 reaps orphans; the run has its own hostname, IPC
// and (with --network none) network; mounts cannot be redirected to the host
// by a root that changes while runs start; concurrent runs leave the root's
// tree exactly as it was.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../src/runner/process/process.ts';
import type { RunResult } from '../src/runner/process/process.ts';
import type { TestRoot } from './support/package-roots.ts';
import { makeTestRoot, mountPoints } from './support/package-roots.ts';

const BIN = new URL('../src/cli/bin.ts', import.meta.url).pathname;
const TSX = import.meta.resolve('tsx');

function crossroot(args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
  return runProcess([process.execPath, '--import', TSX, BIN, ...args], { timeoutMs });
}

/** Every entry under `dir` with its kind, mode, size, link target and change time (ctime moves on any change, data or metadata). */
function tree(dir: string): string[] {
  const lines: string[] = [];
  const walk = (path: string): void => {
    for (const name of readdirSync(path).sort()) {
      const full = join(path, name);
      const stat = lstatSync(full, { bigint: true });
      const link = stat.isSymbolicLink() ? ` -> ${readlinkSync(full)}` : '';
      lines.push(`${full.slice(dir.length)} ${String(stat.mode)} ${String(stat.size)} ${String(stat.ctimeNs)} ${String(stat.mtimeNs)}${link}`);
      if (stat.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return lines;
}

let root: TestRoot;

before(async () => {
  root = await makeTestRoot('amd64');
});

after(() => {
  root.remove();
});

describe('PID 1 of a run', () => {
  test('40 orphans that exit inside one run leave no zombie', async () => {
    const script = [
      'for i in $(seq 40); do (sleep 1 &); done',
      'echo "orphans $(grep -l "^Name:.*sleep" /proc/[0-9]*/status 2>/dev/null | wc -l)"',
      'sleep 3',
      'echo "zombies $(grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l)"',
    ].join('\n');
    const run = await crossroot(['run', root.dir, '--', '/bin/sh', '-c', script]);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stdout, 'orphans 40\nzombies 0\n');
  });

  test('the exit status is the command\'s, 128+N for signal N', async () => {
    assert.equal((await crossroot(['run', root.dir, '--', '/bin/sh', '-c', 'exit 7'])).exitCode, 7);
    assert.equal((await crossroot(['run', root.dir, '--', '/bin/sh', '-c', 'kill -USR1 $$'])).exitCode, 128 + 10);
  });
});

describe('own identity', () => {
  test('the hostname is the root directory\'s name, or --hostname; UTS and IPC namespaces are the run\'s own', async () => {
    const script = 'hostname; readlink /proc/self/ns/uts; readlink /proc/self/ns/ipc';
    const plain = await crossroot(['run', root.dir, '--', '/bin/sh', '-c', script]);
    assert.equal(plain.exitCode, 0, plain.stderr);
    const [hostname, uts, ipc] = plain.stdout.trim().split('\n');
    assert.equal(hostname, 'root', 'makeTestRoot names the directory root');
    assert.notEqual(uts, readlinkSync('/proc/self/ns/uts'));
    assert.notEqual(ipc, readlinkSync('/proc/self/ns/ipc'));
    const named = await crossroot(['run', root.dir, '--hostname', 'builder-7', '--', 'hostname']);
    assert.equal(named.stdout, 'builder-7\n');
    const bad = await crossroot(['run', root.dir, '--hostname', 'no_underscores', '--', 'true']);
    assert.equal(bad.exitCode, 2, bad.stderr);
  });

  test('--network none: only lo, and it is up; --network host: the host\'s interfaces', async () => {
    const none = await crossroot(['run', root.dir, '--network', 'none', '--', '/bin/busybox', 'ip', '-o', 'link']);
    assert.equal(none.exitCode, 0, none.stderr);
    const names = none.stdout.trim().split('\n').map((line) => line.split(':')[1]?.trim());
    assert.deepEqual(names, ['lo']);
    assert.match(none.stdout, /<LOOPBACK,UP/);
    const host = await crossroot(['run', root.dir, '--', 'readlink', '/proc/self/ns/net']);
    assert.equal(host.stdout.trim(), readlinkSync('/proc/self/ns/net'));
  });
});

describe('the root is left as it was found', () => {
  test('8 concurrent runs with binds to destinations the root lacks all succeed; the root\'s tree is unchanged', async () => {
    const source = mkdtempSync(join(tmpdir(), 'crossroot-bind-src-'));
    try {
      writeFileSync(join(source, 'file'), 'from the host\n');
      const before = tree(root.dir);
      const runs = await Promise.all(Array.from({ length: 8 }, (_, index) => crossroot([
        'run', root.dir, '--bind', `${source}:/mnt/new-${String(index)}/deep`, '--bind', `${join(source, 'file')}:/opt/file-${String(index)}`,
        '--bind', `${source}:/work`, '--', '/bin/sh', '-c', `cat /mnt/new-${String(index)}/deep/file /opt/file-${String(index)} /work/file; echo run ${String(index)} > /work/out-${String(index)}`,
      ])));
      for (const [index, run] of runs.entries()) {
        assert.equal(run.exitCode, 0, `run ${String(index)}: ${run.stderr}`);
        assert.equal(run.stdout, 'from the host\n'.repeat(3));
      }
      assert.deepEqual(tree(root.dir), before, 'not one entry of the root added, removed or changed');
      assert.equal(readdirSync(source).filter((name) => name.startsWith('out-')).length, 8, 'writes through the binds reached the host');
      assert.deepEqual(mountPoints().filter((point) => point.startsWith(root.dir)), []);
    } finally {
      rmSync(source, { recursive: true, force: true });
    }
  });
});

describe('mounts cannot be redirected by a changing root', () => {
  test('a root directory swapped with a symlink to a host directory while 30 runs with --bind start: the host directory never changes', async () => {
    const hostDir = mkdtempSync(join(tmpdir(), 'crossroot-race-host-'));
    const source = mkdtempSync(join(tmpdir(), 'crossroot-race-src-'));
    const swapped = join(root.dir, 'mnt/d');
    const aside = join(root.dir, 'mnt/d-aside');
    try {
      mkdirSync(join(hostDir, 'x'));
      writeFileSync(join(hostDir, 'x/keep'), 'host\n');
      writeFileSync(join(source, 'payload'), 'payload\n');
      mkdirSync(join(swapped, 'x'), { recursive: true });
      const before = tree(hostDir);
      let racing = true;
      let swaps = 0;
      // The swapper: d is a directory, then a symlink to the host directory, then a directory again, as fast as the loop turns.
      const swapper = (async () => {
        while (racing) {
          renameSync(swapped, aside);
          symlinkSync(hostDir, swapped);
          await new Promise((resolve) => setImmediate(resolve));
          unlinkSync(swapped);
          renameSync(aside, swapped);
          swaps++;
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      const results: RunResult[] = [];
      for (let wave = 0; wave < 3; wave++) {
        results.push(...await Promise.all(Array.from({ length: 10 }, (_, index) => crossroot([
          'run', root.dir, '--bind', `${source}:/mnt/d/x/in-${String(wave)}-${String(index)}`, '--bind', `${source}:/mnt/d/x`,
          '--', '/bin/sh', '-c', 'ls /mnt/d/x >/dev/null; touch /mnt/d/x/written 2>/dev/null; true',
        ]))));
      }
      racing = false;
      await swapper;
      assert.ok(swaps > 30, `the root changed while the runs started (${String(swaps)} swaps)`);
      for (const run of results) assert.ok(run.exitCode === 0 || run.exitCode === 1, run.stderr);
      assert.ok(results.some((run) => run.exitCode === 0), 'some runs got through');
      assert.deepEqual(tree(hostDir), before, 'the host directory is unchanged');
      assert.deepEqual(mountPoints().filter((point) => point.startsWith(hostDir) || point.startsWith(root.dir)), []);
    } finally {
      try {
        if (lstatSync(swapped).isSymbolicLink()) unlinkSync(swapped);
      } catch {
        // not there
      }
      rmSync(aside, { recursive: true, force: true });
      rmSync(swapped, { recursive: true, force: true });
      rmSync(hostDir, { recursive: true, force: true });
      rmSync(source, { recursive: true, force: true });
    }
  });
});
