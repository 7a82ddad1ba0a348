import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { startProcess } from '../process/process.ts';
import { idMapsOfThisUser, isIdentityUidMap, subordinateUser, waitForUserNamespace, writeIdMaps } from './userns.ts';

test('whose ranges count: the effective uid, named by /etc/passwd', () => {
  assert.deepEqual(subordinateUser(0), { name: 'root', uid: 0 });
  assert.equal(subordinateUser(4294967290).name, null);
});

test('a new user namespace is waited for, then its maps are written from outside', { skip: process.geteuid?.() !== 0 ? 'needs root for the identity map' : false }, async () => {
  const maps = idMapsOfThisUser();
  assert.equal(maps.kind, 'identity');
  const child = startProcess(['unshare', '--user', '--', 'sleep', '10']);
  try {
    assert.ok(child.pid !== undefined);
    assert.equal(await waitForUserNamespace(child.pid, child.done), true);
    await writeIdMaps(child.pid, maps);
    assert.equal(isIdentityUidMap(readFileSync(`/proc/${child.pid}/uid_map`, 'utf8')), true);
    await assert.rejects(writeIdMaps(child.pid, maps), { code: 'USERNS_BLOCKED' }, 'a map is written once');
  } finally {
    child.kill('SIGKILL');
    await child.done;
  }
  assert.equal(await waitForUserNamespace(child.pid, child.done), false, 'gone: no namespace to wait for');
});
