import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { heldLocks, lockPath, readOwner, tryLock } from './root-lock.ts';

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'crossroot-lock-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('one holder at a time; the others see who holds it and what stage it reached', () => {
  withDir((dir) => {
    const lock = lockPath(dir, 'arm64');
    const held = tryLock(lock);
    assert.ok('release' in held);
    held.stage('unpacking');
    const other = tryLock(lock);
    assert.ok(!('release' in other));
    assert.equal(other.pid, process.pid);
    assert.equal(other.stage, 'unpacking');
    assert.deepEqual([...heldLocks(dir).keys()], ['arm64']);
    held.release();
    assert.equal(existsSync(lock), false);
    assert.deepEqual([...heldLocks(dir).keys()], []);
    const again = tryLock(lock);
    assert.ok('release' in again);
    again.release();
  });
});

test('a lock whose owner is gone (or whose pid was recycled) is taken over', () => {
  withDir((dir) => {
    const lock = lockPath(dir, 'armhf');
    mkdirSync(lock);
    writeFileSync(join(lock, 'owner.json'), JSON.stringify({ pid: process.pid, startTime: 'not-this-process', since: '', stage: 'x' }));
    assert.deepEqual([...heldLocks(dir).keys()], [], 'not listed as being created');
    const taken = tryLock(lock);
    assert.ok('release' in taken);
    assert.notEqual(readOwner(lock)?.startTime, 'not-this-process');
    taken.release();
  });
});
