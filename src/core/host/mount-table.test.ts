import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAtOrUnder, mountPoints, mountPointsUnder } from './mount-table.ts';

const MOUNTS = [
  'proc /proc proc rw 0 0',
  'tmpfs /var/lib/crossroot/roots/arm64/dev tmpfs rw 0 0',
  'tmpfs /var/lib/crossroot/roots/arm64-other tmpfs rw 0 0',
  'tmpfs /srv/with\\040space tmpfs rw 0 0',
  '',
].join('\n');

test('mount points are decoded, and "under" means the directory or below it, not a sibling prefix', () => {
  assert.deepEqual(mountPoints(MOUNTS).at(-1), '/srv/with space');
  assert.deepEqual(mountPointsUnder(MOUNTS, '/var/lib/crossroot/roots/arm64'), ['/var/lib/crossroot/roots/arm64/dev']);
  assert.ok(isAtOrUnder('/a', '/a') && isAtOrUnder('/a/b', '/a') && !isAtOrUnder('/ab', '/a') && isAtOrUnder('/x', '/'));
});

test('mountinfo: the fifth field is the mount point', () => {
  const info = '36 35 98:0 /mnt1 /mnt/point\\040x rw,noatime master:1 - ext3 /dev/root rw\n';
  assert.deepEqual(mountPoints(info, 'mountinfo'), ['/mnt/point x']);
});

test('mountinfo octal escapes: space, tab and backslash', () => {
  const text = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '35 22 0:31 / /mnt/with\\040space\\011tab rw - tmpfs tmpfs rw',
    '36 22 0:32 / /mnt/back\\134slash rw - tmpfs tmpfs rw',
    '',
  ].join('\n');
  assert.deepEqual(mountPoints(text, 'mountinfo'), ['/', '/mnt/with space\ttab', '/mnt/back\\slash']);
});
