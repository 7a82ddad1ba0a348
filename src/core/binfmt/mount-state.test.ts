import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mountCommand, unmountedVerdict } from './mount-state.ts';

test('unmountedVerdict: a warning where private instances exist (6.7+), an error before', () => {
  assert.equal(unmountedVerdict('/proc/sys/fs/binfmt_misc', '6.7.0').severity, 'warning');
  assert.equal(unmountedVerdict('/proc/sys/fs/binfmt_misc', '6.18.44-fc').severity, 'warning');
  assert.equal(unmountedVerdict('/proc/sys/fs/binfmt_misc', '6.6.30').severity, 'error');
  assert.equal(unmountedVerdict('/x', '5.10.0').fix, "mount -t binfmt_misc binfmt_misc '/x'");
});

test('mountCommand: the default path unquoted, any other quoted', () => {
  assert.equal(mountCommand('/proc/sys/fs/binfmt_misc'), 'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc');
  assert.equal(mountCommand('/tmp/b m'), "mount -t binfmt_misc binfmt_misc '/tmp/b m'");
});
