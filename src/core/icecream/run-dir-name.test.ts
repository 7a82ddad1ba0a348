import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunDirName, runDirPrefix } from './run-dir-name.ts';

test('run directory names: pid and start time round-trip through the mkdtemp prefix', () => {
  assert.equal(runDirPrefix(4242, '987654'), 'crossroot-icecream-4242-987654-');
  assert.deepEqual(parseRunDirName(`${runDirPrefix(4242, '987654')}aB3xZ9`), { pid: 4242, startTime: '987654' });
});

test('run directory names: anything else is not a run directory', () => {
  for (const name of ['crossroot-icecream-aB3xZ9', 'crossroot-icecream-1-2-', 'crossroot-icecream-1-2-abc', 'crossroot-icecream-x-2-aB3xZ9', 'crossroot-accel-1-ab', 'crossroot-icecream-1-2-aB3xZ9/']) {
    assert.equal(parseRunDirName(name), null, name);
  }
});
