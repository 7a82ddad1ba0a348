import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entryMatchesHead, entryMatchesPath, findHandler, kernelWindow, pathExtension } from './match.ts';
import { BINPRM_BUF_SIZE } from './entry.ts';
import { parseRegisterString } from './rule.ts';
import type { BinfmtEntry } from './entry.ts';

function entry(rule: string, enabled = true): BinfmtEntry {
  const result = parseRegisterString(rule);
  if (!result.ok) throw new Error(`bad test rule ${rule}: ${result.reason}`);
  return { ...result.entry, enabled };
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

test('pathExtension: text after the last dot anywhere in the path', () => {
  const cases: [string, string | null][] = [
    ['/a/b.exe', 'exe'], ['/a.b/prog', 'b/prog'], ['prog.', ''], ['.exe', 'exe'], ['/dev/fd/3', null], ['x.tar.gz', 'gz'],
  ];
  for (const [path, extension] of cases) assert.equal(pathExtension(path), extension, path);
});

test('entryMatchesHead: mask, offset and the zero-padded window', () => {
  const masked = entry(':m:M:2:\\x10\\x20:\\xf0\\xff:/x:');
  assert.equal(entryMatchesHead(masked, bytes(0, 0, 0x1f, 0x20)), true);
  assert.equal(entryMatchesHead(masked, bytes(0, 0, 0x2f, 0x20)), false);
  assert.equal(entryMatchesHead(masked, bytes(0x1f, 0x20)), false);
  const zeros = entry(':z:M:3:\\x00\\x00::/x:');
  assert.equal(entryMatchesHead(zeros, bytes(1, 2, 3)), true, 'past the end of a short file is zeros');
  assert.equal(entryMatchesHead(zeros, bytes(1, 2, 3, 4)), false);
  const last = entry(':l:M:255:\\x07::/x:');
  const head = new Uint8Array(300);
  head[255] = 7;
  assert.equal(entryMatchesHead(last, head), true);
  assert.equal(entryMatchesHead(entry(':e:E::exe::/x:'), head), false);
});

test('findHandler: newest first, disabled skipped, extension from the path, instance switch', () => {
  const older = entry(':older:M::AB::/old:');
  const newer = entry(':newer:M::A::/new:');
  const disabled = entry(':off:M::ABC::/off:', false);
  const exe = entry(':exe:E::exe::/wine:');
  const list = [disabled, newer, older, exe];
  const head = new TextEncoder().encode('ABCD');
  assert.equal(findHandler(list, head, '/bin/prog')?.name, 'newer');
  assert.equal(findHandler([older, newer], head, '/bin/prog')?.name, 'older');
  assert.equal(findHandler(list, new TextEncoder().encode('xyz'), '/x/a.exe')?.name, 'exe');
  assert.equal(findHandler(list, new TextEncoder().encode('xyz'), '/x/a.EXE'), null);
  assert.equal(findHandler(list, head, '/bin/prog', false), null);
  assert.equal(findHandler([disabled], head, '/bin/prog'), null);
  assert.equal(findHandler([], new Uint8Array(0), 'x'), null);
});

test('kernelWindow: the first 256 bytes, zero-padded when the file is shorter', () => {
  const short = kernelWindow(Uint8Array.of(1, 2, 3));
  assert.equal(short.length, BINPRM_BUF_SIZE);
  assert.deepEqual([...short.subarray(0, 4)], [1, 2, 3, 0]);
  const long = kernelWindow(Uint8Array.from({ length: 300 }, (_, index) => index & 0xff));
  assert.equal(long.length, BINPRM_BUF_SIZE);
  assert.equal(long[255], 255);
});

test('entryMatchesPath: extension entries only, exact and case-sensitive', () => {
  const jar = entry(':jar:E::jar::/usr/bin/jexec:');
  assert.equal(entryMatchesPath(jar, '/opt/app.jar'), true);
  assert.equal(entryMatchesPath(jar, '/opt/app.JAR'), false);
  assert.equal(entryMatchesPath(jar, '/opt/app.jar.bak'), false);
  assert.equal(entryMatchesPath(jar, '/opt/jar'), false);
  assert.equal(entryMatchesPath(entry(':m:M::jar::/x:'), '/opt/app.jar'), false, 'a magic entry never matches by path');
});
