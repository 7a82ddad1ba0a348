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

test('binfmt check warns, as install refuses, about a rule that takes every host ELF', async () => {
  const rule = ':x:M::\\x7fELF::/bin/true:';
  const run = await runCliJson<CheckRecord[]>(['binfmt', 'check', '--binfmt-dir', '/nonexistent', rule]);
  assert.equal(run.code, 0, 'still a valid rule');
  assert.deepEqual(run.json[0]?.warnings.map((warning) => warning.code), ['TAKES_NATIVE']);
  const human = await runCli(['binfmt', 'check', '--binfmt-dir', '/nonexistent', rule]);
  assert.match(human.stderr, /^crossroot: warning: check ':x:M::\\x7fELF::\/bin\/true:': the entry matches programs of .*'\/bin\/true'/m);
  assert.match(human.stdout, /^valid {4}':x:M::\\x7fELF::\/bin\/true:'$/m, 'the rule as typed, not JSON-escaped');
  const pinned = await runCliJson<CheckRecord[]>(['binfmt', 'check', '--binfmt-dir', '/nonexistent',
    ':a64:M::\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/x:F']);
  assert.deepEqual(pinned.json[0]?.warnings, [], 'an aarch64 rule takes no x86 host program');
});

test('binfmt check of a malformed rule shows the expected format', async () => {
  const run = await runCli(['binfmt', 'check', '--binfmt-dir', '/nonexistent', 'garbage']);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /^hint: a register string is :name:type:offset:magic:mask:interpreter:flags$/m);
  const json = await runCliJson<CheckRecord[]>(['binfmt', 'check', '--binfmt-dir', '/nonexistent', 'garbage']);
  assert.match(json.json[0]?.hint ?? '', /:name:type:offset:magic:mask:interpreter:flags/);
});
