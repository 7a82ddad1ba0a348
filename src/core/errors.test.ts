import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CrossrootError, UsageError, ERROR_CODES, isCrossrootError } from './errors.ts';

test('errors carry a stable code and an optional hint', () => {
  const error = new CrossrootError('ELF_TRUNCATED', "read ELF header: file ends at byte '12'", { hint: 'check the download' });
  assert.equal(error.code, 'ELF_TRUNCATED');
  assert.equal(error.hint, 'check the download');
  assert.ok(isCrossrootError(error));
  assert.ok(!isCrossrootError(new Error('x')));
});

test('usage errors have the USAGE code', () => {
  const error = new UsageError("parse arguments: unknown option '--x'");
  assert.equal(error.code, 'USAGE');
  assert.ok(error instanceof CrossrootError);
  assert.ok(Object.keys(ERROR_CODES).includes(error.code));
});
