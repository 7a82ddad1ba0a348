import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCrossrootError } from '../errors.ts';
import { checkHostname, hostnameOf } from './hostname.ts';

describe('hostname', () => {
  test('the default is the root directory\'s name, made a valid host name', () => {
    assert.equal(hostnameOf('arm64'), 'arm64');
    assert.equal(hostnameOf('my root_dir.v2'), 'my-root-dir-v2');
    assert.equal(hostnameOf('___'), 'root');
    assert.equal(hostnameOf('x'.repeat(80)).length, 63);
  });
  test('--hostname is checked', () => {
    assert.equal(checkHostname('build-1.example'), 'build-1.example');
    for (const bad of ['', '-a', 'a_b', 'a..b', 'x'.repeat(64)]) {
      assert.throws(() => checkHostname(bad), (error) => isCrossrootError(error) && error.code === 'USAGE', bad);
    }
  });
});
