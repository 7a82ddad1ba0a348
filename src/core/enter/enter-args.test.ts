import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCrossrootError } from '../errors.ts';
import { parseBindSpec, parseEnvAssignment } from './enter-args.ts';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return isCrossrootError(error) ? error.code : 'other';
  }
  return 'ok';
}

describe('small parsers', () => {
  test('parseBindSpec', () => {
    assert.deepEqual(parseBindSpec('/a'), { source: '/a', target: '/a', readOnly: false });
    assert.deepEqual(parseBindSpec('./a:/b'), { source: './a', target: '/b', readOnly: false });
    assert.deepEqual(parseBindSpec('/a:/b:ro'), { source: '/a', target: '/b', readOnly: true });
    assert.equal(codeOf(() => parseBindSpec('/a:rel')), 'USAGE');
    assert.equal(codeOf(() => parseBindSpec(':/b')), 'USAGE');
  });
  test('parseEnvAssignment', () => {
    assert.deepEqual(parseEnvAssignment('A=b=c'), ['A', 'b=c']);
    assert.deepEqual(parseEnvAssignment('EMPTY='), ['EMPTY', '']);
    for (const bad of ['=x', 'NOEQUALS', '1A=x', 'A B=x']) assert.equal(codeOf(() => parseEnvAssignment(bad)), 'USAGE', bad);
  });
});
