import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idMapText, mappedCount, newIdMapArgs, planIdMaps } from './id-maps.ts';

const user = { euid: 1000, egid: 1001, name: 'ann', subuid: [{ start: 100000, count: 65536 }], subgid: [{ start: 200000, count: 65536 }] };

test('root gets the identity map over every id', () => {
  const maps = planIdMaps({ ...user, euid: 0, subuid: [], subgid: [] });
  assert.equal(maps.kind, 'identity');
  assert.equal(idMapText(maps.uid), '0 0 4294967295\n');
  assert.equal(mappedCount(maps.gid), 4294967295);
});

test('a user is 0 inside, its first subordinate range from 1 up', () => {
  const maps = planIdMaps({ ...user, subuid: [...user.subuid, { start: 5, count: 5 }] });
  assert.equal(maps.kind, 'subid');
  assert.equal(idMapText(maps.uid), '0 1000 1\n1 100000 65536\n');
  assert.deepEqual(newIdMapArgs(maps.gid), ['0', '1001', '1', '1', '200000', '65536']);
  assert.equal(mappedCount(maps.gid), 65537);
});

test('a user without ranges: USERNS_BLOCKED naming the file and the user', () => {
  assert.throws(() => planIdMaps({ ...user, subgid: [] }), { code: 'USERNS_BLOCKED', message: "map ids for 'ann': no range in /etc/subgid" });
  assert.throws(() => planIdMaps({ ...user, name: null, subuid: [] }), { code: 'USERNS_BLOCKED', message: "map ids for '1000': no range in /etc/subuid" });
});
