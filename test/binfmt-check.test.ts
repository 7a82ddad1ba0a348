// `crossroot binfmt check` without a kernel instance: syntax verdicts, exit codes, the skipped-EEXIST warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, runCliJson } from './support/cli.ts';
import type { CheckRecord } from '../src/cli/commands/binfmt-check.ts';

test('binfmt check judges syntax and says EEXIST was not checked when no instance is visible', async () => {
  const run = await runCliJson<CheckRecord[]>(['binfmt', 'check', '--binfmt-dir', '/nonexistent', ':a:M::\\x7fELF:\\xff\\xff\\xff\\xfe:/x:POC', ':b:M::\\x4g::/x:']);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /warning/);
  const [valid, invalid] = run.json;
  assert.equal(valid?.valid, true);
  assert.equal(valid?.errno, null);
  assert.equal(valid?.entryText, 'enabled\ninterpreter /x\nflags: POC\noffset 0\nmagic 7f454c46\nmask fffffffe\n');
  assert.deepEqual(valid?.entry, { type: 'magic', offset: 0, magic: '7f454c46', mask: 'fffffffe', extension: null, interpreter: '/x', flags: 'POC' });
  assert.equal(valid?.nameChecked, false);
  assert.equal(invalid?.errno, 'EINVAL');
  assert.equal(invalid?.entryText, null);
  const reserved = await runCliJson<CheckRecord[]>(['binfmt', 'check', '--binfmt-dir', '/nonexistent', ':status:E::b::/x:']);
  assert.equal(reserved.json[0]?.errno, 'EEXIST');
});

test('binfmt check exit codes: 0 all valid, 2 without rules', async () => {
  assert.equal((await runCli(['binfmt', 'check', '--binfmt-dir', '/nonexistent', ':e:E::exe::/x:'])).code, 0);
  assert.equal((await runCli(['binfmt', 'check'])).code, 2);
});
