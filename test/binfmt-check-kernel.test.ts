// The rule language against the running kernel: every rule is registered in a private
// binfmt_misc instance (user namespace, never the host's) and the kernel's verdict, errno and
// entry-file text are compared with parseRegisterString/renderEntryText and with
// `crossroot binfmt check`; readInstance's order is compared with registration order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { judgeRegisterString, parseRegisterString, renderEntryText } from '../src/core/binfmt/rule.ts';
import { openExecErrno } from '../src/runner/fs/open-exec.ts';
import { runPrivate, type PrivateOp } from './support/private-binfmt.ts';
import type { CheckRecord } from '../src/cli/commands/binfmt-check.ts';

type WorkerStep = PrivateOp;
const inPrivateInstance = runPrivate;

const hex = (n: number, byte: string): string => `\\x${byte}`.repeat(n);
const c = (n: number): string => 'c'.repeat(n);

// Spec section 1 and the corner cases (byte strings: one char per byte).
const TABLE: readonly string[] = [
  ':a:E::b::c:', ':a:E::b::c', ':a:E::b::c:\n', ':a:E::b::c:\n\n', ':a:E::b::c:\r\n', ':a:E::b::c: ', ':a:E::b::c::',
  ':a:M:+5:ab::/x:', ':a:M:5\n:ab::/x:', ':a:M:05:ab::/x:', ':a:M:0x10:ab::/x:', ':a:M:-1:ab::/x:', ':a:M:-0:ab::/x:',
  ':a:M:2147483647:ab::/x:', ':a:M:2147483648:ab::/x:', ':a:M:99999999999999999999:a::/x:', ':a:M: 5:ab::/x:',
  ':a:M:5 :ab::/x:', ':a:M:++5:ab::/x:', ':a:M:+:ab::/x:', ':a:M:-:ab::/x:', ':a:M:\n:ab::/x:', ':a:M:1\n\n:ab::/x:',
  ':a:M:1a:ab::/x:', ':a:M:0010:ab::/x:',
  ':a:M::\\x2:/x:', ':a:M::\\x2::/x:', ':a:M::\\x4g::/x:', ':a:M::ab\\x::/x:', ':a:M::ab:\\x:/x:', ':a:M::\\n\\\\::/x:',
  ':a:M::\\x00ab::/x:', ':a:M::a\x00b::/x:', ':a:M::\x00ab::/x:', ':a:M::ab:f\x00f:/x:', ':a:M::ab:\x00f:/x:',
  ':a:M::\\x3a::/x:', ':a:M::\\X41::/x:', ':a:M::ab\\::/x:', ':a:M::\\::/x:', ':a:M::\\\\x41::/x:', ':a:M::\\x5cx41::/x:',
  ':a:M::\\\\\\x41::/x:', ':a:M::\\xAB\\xab::/x:', ':a:M::\\x414::/x:', ':a:M::ab:ff:/x:', ':a:M::ab:fff:/x:', ':a:M::ab:f:/x:',
  ':a:M::ab:\\xff\\x0f:/x:', ':a:M:::ff:/x:', ':a:M::ab::/x', ':a:M::ab::/x:\n', ':a:M::ab:', ':a:M::ab::',
  'PaPEPPbPPcP', 'OaOEOObOOcO', 'FaFEFFbFFcF', 'CaCECCbCCcC', 'XaXEXXbXXcX', '\x00a\x00E\x00\x00b\x00\x00c\x00',
  '\na\nE\n\nb\n\nc\n', '\na\nE\n\nb\n\nc\n\n', '\\a\\M\\\\ab\\\\/x\\', '\\a\\M\\\\\\x41\\\\/x\\', 'xaxMxxabxx/xx', 'xaxMxxabxxx/x',
  'aqaMaa\\xaaa/xa', '|a|M||\\x7c||/x|', ' a E  b  c ', '\xffa\xffE\xff\xffb\xff\xffc\xff', 'EaEEEEbEEcE', 'MaMMMMbMMcM', 'Eaaaaaaaaaa',
  ':.:E::b::c:', ':..:E::b::c:', ':a/b:E::b::c:', ':register:E::b::c:', ':status:E::b::c:', '::E::b::c:', ':a\x00:E::b::c:',
  ':...:E::b::c:', ':a b:E::b::c:', ':\xe9t\xe9:E::b::c:', `:${'n'.repeat(255)}:E::b::c:`, `:${'n'.repeat(256)}:E::b::c:`,
  ':a:E:junk:b:junk:c:', ':a:E:-1:b:\\x4g:c:', ':a:E::b/c::c:', ':a:E:::x:c:', ':a:E::b\\x41::c:', ':a:E::b:::', ':a:E::.b::c:',
  ':a:E:\x00::b::c:', ':a:E::b:\x00:c:', ':a:E::b\x00::c:', ':a:E::b::c\x00:',
  ':a:E::b::c:PF', ':a:E::b::c:C', ':a:E::b::c:OOPP', ':a:E::b::c:CP', ':a:E::b::c:POCF'.replace('F', ''), ':a:E::b::c:p',
  ':a:E::b::c:P:', ':a:E::b::c:P ', ':a:E::b::c:P\n', ':a:E::b::c:P\n\n', ':a:E::b::c:X',
  ':a:m::b::c:', ':a:e::b::c:', ':a:MM::b::c:', ':a:B::b::c:', ':a::::b::c:', ':a:M',
  `:a:M:0:${hex(256, '41')}::/x:`, `:a:M:0:${hex(257, '41')}::/x:`, `:a:M:1:${hex(256, '41')}::/x:`, `:a:M:1:${hex(255, '41')}::/x:`,
  ':a:M:255:A::/x:', ':a:M:256:A::/x:', ':a:M:255:AB::/x:', ':a:M:254:AB:\\xff\\xff:/x:',
  `:a:M::${'A'.repeat(256)}:${'B'.repeat(256)}:/x:`, `:a:M::${'A'.repeat(257)}:${'B'.repeat(257)}:/x:`,
  `:a:E::b::${c(1910)}:`, `:a:E::b::${c(1911)}:`, `:a:E::b::${c(1909)}:\n`, `:a:E::b::${c(1910)}:\n`, ':a:E::b:', ':a:E:bc:',
  ':a:E::b::\t:', ':a:E::b::rel/path:', ':a:E::b::/x:\x00',
];

test('kernel differential: every table rule and generated rules', async () => {
  // Property-generated rules: delimiter-structured, from a small alphabet that hits the corner cases.
  const field = fc.array(fc.constantFrom('a', 'b', '0', '5', '+', '-', '\\', 'x', 'f', 'F', 'P', 'C', 'O', 'M', 'E', '/', '.', '\n', '\x00', ':', ' '),
    { maxLength: 6 }).map((chars) => chars.join(''));
  const generated = fc.sample(fc.tuple(
    fc.constantFrom(':', '|', 'x', '\\', '\n', '\x00', 'P', 'a'), field, fc.constantFrom('M', 'E', 'm', ''), field, field, field, field, field,
    fc.constantFrom('', '\n', ':'),
  ).map(([d, name, type, offset, magic, mask, interpreter, flags, end]) =>
    `${d}n${name}${d}${type}${d}${offset}${d}${magic}${d}${mask}${d}/i${interpreter}${d}${flags}${end}`), { numRuns: 400, seed: 42 });
  const rules = [...TABLE, ...generated];

  const steps: WorkerStep[] = [];
  for (const rule of rules) {
    const parsed = parseRegisterString(rule);
    steps.push({ op: 'register', data: rule }, { op: 'list' });
    steps.push({ op: 'read', name: parsed.ok ? parsed.entry.name : 'register' }, { op: 'write', name: 'status', data: '-1' });
  }
  // `binfmt check` against the same (empty) instance, for rules that survive argv (no NUL) and are ASCII.
  const cliRules = rules.filter((rule) => [...rule].every((char) => char > '\x00' && char < '\x80'));
  steps.push({ op: 'cli', argv: ['binfmt', 'check', '--binfmt-dir', '{binfmt-dir}', '--json', '--', ...cliRules] });
  const results = await inPrivateInstance(steps);

  const mismatches: string[] = [];
  const kernelVerdicts = new Map<string, { errno: string | null; text: string | null }>();
  rules.forEach((rule, index) => {
    const [registered, listed, read] = [results[4 * index], results[4 * index + 1], results[4 * index + 2]];
    const kernelErrno = registered?.errno ?? null;
    const newNames = (listed?.names ?? []).filter((name) => name !== 'register' && name !== 'status');
    const kernelText = kernelErrno === null ? read?.text ?? null : null;
    kernelVerdicts.set(rule, { errno: kernelErrno, text: kernelText });
    // The worker writes from this process's cwd, so an F interpreter resolves the same way.
    const verdict = judgeRegisterString(rule, { openInterpreter: (path) => openExecErrno(path, process.cwd()), nameTaken: () => false });
    const ours = verdict.ok ? null : verdict.errno;
    const ourText = verdict.ok ? renderEntryText(verdict.entry) : null;
    if (ours !== kernelErrno || ourText !== kernelText || newNames.length !== (kernelErrno === null ? 1 : 0)) {
      mismatches.push(`${JSON.stringify(rule.slice(0, 100))}: kernel ${kernelErrno} ${JSON.stringify(kernelText)}, ours ${ours} ${JSON.stringify(ourText)}`);
    }
  });
  assert.deepEqual(mismatches, [], `${mismatches.length} of ${rules.length} rules disagree`);

  const check = results[results.length - 1];
  const records = JSON.parse(check?.stdout ?? '[]') as CheckRecord[];
  assert.equal(records.length, cliRules.length);
  records.forEach((record, index) => {
    const kernel = kernelVerdicts.get(cliRules[index] ?? '');
    assert.equal(record.errno, kernel?.errno, record.rule);
    assert.equal(record.valid, kernel?.errno === null, record.rule);
    assert.equal(record.entryText, kernel?.text ?? null, record.rule);
    assert.equal(record.nameChecked, true);
  });
  assert.equal(check?.exitCode, records.every((record) => record.valid) ? 0 : 1);
  console.log(`# compared ${rules.length} rules with the kernel (${TABLE.length} table, ${generated.length} generated), ${cliRules.length} through binfmt check`);
});

test('kernel differential: EEXIST, the F open and their order; binfmt check against a populated instance', async () => {
  const files = mkdtempSync(join(tmpdir(), 'crossroot-test-interp-'));
  try {
    writeFileSync(join(files, 'exec'), '#!/bin/sh\n');
    chmodSync(join(files, 'exec'), 0o755);
    writeFileSync(join(files, 'plain'), 'x');
    chmodSync(join(files, 'plain'), 0o644);
    mkdirSync(join(files, 'dir'));
    symlinkSync('loop', join(files, 'loop'));
    symlinkSync('exec', join(files, 'link'));
    const interpreters = ['exec', 'plain', 'dir', 'loop', 'link', 'missing', 'plain/sub', `${'l'.repeat(256)}`].map((name) => join(files, name));
    const rules = [
      ':dup:E::e::/x:', ':dup:E::e::/x:F', ':dup:E::e::/x:Q', ':register:E::e::/nonexistent:F', ':status:E::e::/x:',
      ...interpreters.map((path, i) => `:f${i}:M::\\x7fQ::${path}:F`),
      ...interpreters.map((path) => `:dup:M::\\x7fQ::${path}:F`),
      ...interpreters.map((path, i) => `:g${i}:M::\\x7fQ::${path}:`),
    ];
    const steps: WorkerStep[] = [{ op: 'register', data: ':dup:E::d::/x:' }, { op: 'cli', argv: ['binfmt', 'check', '--binfmt-dir', '{binfmt-dir}', '--json', '--', ...rules] }];
    for (const rule of rules) steps.push({ op: 'register', data: rule });
    const results = await inPrivateInstance(steps);
    assert.equal(results[0]?.errno, null);
    const records = JSON.parse(results[1]?.stdout ?? '[]') as CheckRecord[];
    const kernel = results.slice(2).map((result) => result.errno ?? null);
    // Registering a rule changes the instance (later rules may see a taken name), but the names here are all distinct except 'dup'.
    assert.deepEqual(records.map((record) => record.errno), kernel);
    assert.ok(kernel.includes('EEXIST') && kernel.includes('ENOENT') && kernel.includes('EACCES') && kernel.includes('ELOOP'));
  } finally {
    rmSync(files, { recursive: true, force: true });
  }
});

test('kernel: readInstance returns entries newest first (readdir order of a real instance)', async () => {
  const names = ['m1', 'z2', 'a3', 'q4', 'b5', 'k6', 'c7', 'y8'];
  const register = (name: string): WorkerStep => ({ op: 'register', data: `:${name}:E::${name}::/x:` });
  // Twice, with the instance cleared in between: names are reused, the order must still follow registration.
  const results = await inPrivateInstance([
    ...names.map(register), { op: 'readInstance' }, { op: 'write', name: 'status', data: '-1' },
    ...[...names].reverse().map(register), { op: 'readInstance' },
  ]);
  const first = results[names.length];
  assert.equal(first?.order, 'kernel');
  assert.deepEqual(first?.names, [...names].reverse());
  const last = results[results.length - 1];
  assert.deepEqual(last?.names, names);
});
