import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasPrivateBinfmt, parseKernelRelease, releaseAtLeast } from './kernel-release.ts';

test('kernel release parsing and comparison', () => {
  assert.deepEqual(parseKernelRelease('6.18.44-fc-v669'), [6, 18]);
  assert.deepEqual(parseKernelRelease('garbage'), [0, 0]);
  assert.equal(releaseAtLeast('6.7.0', 6, 7), true);
  assert.equal(releaseAtLeast('6.6.99', 6, 7), false);
  assert.equal(releaseAtLeast('5.12.1', 4, 8), true);
  assert.equal(releaseAtLeast('3.10.0-1160.el7', 4, 8), false);
});

test('private binfmt_misc instances from 6.7 on', () => {
  assert.equal(hasPrivateBinfmt('6.7.0'), true);
  assert.equal(hasPrivateBinfmt('6.6.30'), false);
  assert.equal(hasPrivateBinfmt('10.0'), true);
});
