// `run --accelerate --icecream` killed by SIGKILL: crossroot cannot remove its
// host directory then (iceccd runs on the host, so the directory is not in the
// run's namespaces); the next icecream run removes it, because its name says
// whose it is (core/icecream/run-dir-name.ts). No cluster is needed: the
// directory is made before the scheduler is asked, and an unreachable one
// (127.0.0.1:9) gives a local, accelerated build. TMPDIR is the test's own, so
// other users' runs are never looked at. Needs root, icecc and the cached
// accelerated arm64 root (test/support/cached-roots.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RUN_DIR_PREFIX, parseRunDirName } from '../src/core/icecream/run-dir-name.ts';
import { runProcess } from '../src/runner/process/process.ts';
import { ensureTestRoot } from './support/cached-roots.ts';
import { cliCommand } from './support/cli.ts';

const SCHEDULER = '127.0.0.1:9';
const usable = process.geteuid?.() === 0 && existsSync('/usr/bin/icecc') && existsSync('/usr/sbin/iceccd');

/** The runs' host directories in the test's TMPDIR (all of them: nobody else uses it). */
function runDirs(tmp: string): string[] {
  return readdirSync(tmp).filter((name) => name.startsWith(RUN_DIR_PREFIX));
}

/** Processes whose command line holds `text` (the killed run's iceccd has its node name there). */
function processesWith(text: string): string[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
    } catch {
      return false;
    }
  });
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

test('a run with --icecream killed by SIGKILL leaves its host directory only until the next run, which removes it', { skip: !usable && 'needs root and icecc', timeout: 600_000 }, async () => {
  const root = await ensureTestRoot('arm64', { toolchain: true });
  const tmp = mkdtempSync(join(tmpdir(), 'crossroot-kill-test-'));
  const mark = join(tmp, 'mark');
  mkdirSync(mark);
  const env = { ...process.env, TMPDIR: tmp };
  try {
    let pid = 0;
    const killed = runProcess(cliCommand([
      'run', root, '--accelerate', '--icecream', SCHEDULER, '--bind', `${mark}:/mark`, '--', '/bin/sh', '-c', 'touch /mark/started && exec sleep 300',
    ]), { env, timeoutMs: 400_000, onSpawn: (spawned) => { pid = spawned; } });
    await until('the command to start', () => (existsSync(join(mark, 'started')) ? true : undefined), 300_000);
    const [left, ...more] = runDirs(tmp);
    assert.ok(left !== undefined && more.length === 0, `one run directory: ${readdirSync(tmp).join(', ')}`);
    assert.equal(parseRunDirName(left)?.pid, pid, 'named for its run');
    process.kill(pid, 'SIGKILL');
    const result = await killed;
    assert.equal(result.signal, 'SIGKILL');
    assert.ok(existsSync(join(tmp, left)), 'SIGKILL gives crossroot no chance to remove it');
    // The killed run's daemon dies with it (parent-death signal).
    await until('the killed run\'s iceccd to end', () => (processesWith(`crossroot-${hostname()}-${String(pid)}`).length === 0 ? true : undefined), 30_000);

    const next = await runProcess(cliCommand(['run', root, '--accelerate', '--icecream', SCHEDULER, '--', 'true']), { env, timeoutMs: 300_000 });
    assert.equal(next.exitCode, 0, next.stderr);
    assert.deepEqual(runDirs(tmp), [], 'the stale directory is removed and the new run removed its own');
    assert.deepEqual(readdirSync(tmp).filter((name) => name.startsWith('crossroot-')), [], 'no scratch directory either');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
