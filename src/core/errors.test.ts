import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CrossrootError, UsageError, ERROR_CODES, isCrossrootError } from './errors.ts';

test('errors carry a stable code, the message, an optional hint and the cause', () => {
  const cause = new Error('EIO');
  const error = new CrossrootError('ELF_TRUNCATED', "read ELF header: file ends at byte '12'", { hint: 'check the download', cause });
  assert.equal(error.code, 'ELF_TRUNCATED');
  assert.equal(error.message, "read ELF header: file ends at byte '12'");
  assert.equal(error.hint, 'check the download');
  assert.equal(error.cause, cause);
  assert.equal(error.name, 'CrossrootError');
  const bare = new CrossrootError('IO', 'read x: EIO');
  assert.equal(bare.hint, undefined);
  assert.equal('cause' in bare, false, 'no cause given: none recorded');
});

test('isCrossrootError tells crossroot errors from look-alikes', () => {
  assert.equal(isCrossrootError(new CrossrootError('IO', 'x')), true);
  assert.equal(isCrossrootError(new UsageError('x')), true);
  assert.equal(isCrossrootError(new Error('x')), false);
  assert.equal(isCrossrootError({ code: 'USAGE', message: 'x' }), false);
  assert.equal(isCrossrootError(Object.assign(new Error('x'), { code: 'USAGE' })), false);
});

test('usage errors are crossroot errors with the USAGE code, message and hint kept', () => {
  const error = new UsageError("parse arguments: unknown option '--x'", { hint: 'see --help' });
  assert.equal(error.code, 'USAGE');
  assert.equal(error.name, 'UsageError');
  assert.equal(error.message, "parse arguments: unknown option '--x'");
  assert.equal(error.hint, 'see --help');
  assert.ok(error instanceof CrossrootError);
  assert.ok(error instanceof Error);
});

test('every error code is UPPER_SNAKE with a one-phrase description', () => {
  const entries = Object.entries(ERROR_CODES);
  assert.ok(entries.length > 0);
  for (const [code, description] of entries) {
    assert.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, code);
    assert.match(description, /^[a-z].*[^.]$/, `${code}: lower-case start, no final period`);
  }
});
