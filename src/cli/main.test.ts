import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../test/support/cli.ts';

test('--help exits 0 and lists the commands', async () => {
  const result = await runCli(['--help']);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /Usage: crossroot/);
});

test('an unknown option is a usage error: exit 2, one line and a hint', async () => {
  const result = await runCli(['--no-such-option']);
  assert.equal(result.code, 2);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? '', /^crossroot: /);
  assert.match(lines[1] ?? '', /^hint: /);
  assert.equal(result.stdout, '');
});
