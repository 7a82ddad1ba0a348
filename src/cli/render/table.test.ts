import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitWidths, formatTable, plural, visibleLength, wrapText } from './table.ts';

test('formatTable: columns two spaces apart, the last one not padded', () => {
  assert.equal(formatTable(['A', 'BB'], [['xxx', 'y'], ['z', '']]), 'A    BB\nxxx  y\nz\n');
});

test('formatTable: too wide for the terminal, the last column wraps under itself at word boundaries', () => {
  const reason = 'the interpreter is dynamic and the entry has no F flag so it fails inside roots';
  const text = formatTable(['ARCH', 'REASON'], [['aarch64', reason]], { width: 40 });
  const lines = text.trimEnd().split('\n');
  assert.ok(lines.every((line) => line.length <= 40), text);
  assert.ok(lines.slice(2).every((line) => line.startsWith(' '.repeat('aarch64  '.length))), text);
  assert.equal(lines.slice(1).map((line) => line.trim()).join(' ').replace(/^aarch64\s+/, ''), reason);
});

test('formatTable: without a width (not a terminal) nothing wraps', () => {
  const long = 'word '.repeat(60).trim();
  assert.equal(formatTable(null, [['a', long]]), `a  ${long}\n`);
});

test('formatTable: colour escapes take no columns', () => {
  const red = '\x1b[31mFAIL\x1b[39m';
  assert.equal(visibleLength(red), 4);
  assert.equal(formatTable(null, [[red, 'x'], ['ok', 'y']]), `${red}  x\nok    y\n`);
});

test('wrapText cuts a word longer than the width', () => {
  assert.deepEqual(wrapText('abcdefghij xy', 4), ['abcd', 'efgh', 'ij', 'xy']);
});

test('plural: "1 directory", "2 directories"', () => {
  assert.equal(plural(1, 'directory', 'directories'), '1 directory');
  assert.equal(plural(2, 'directory', 'directories'), '2 directories');
  assert.equal(plural(0, 'file'), '0 files');
});

test('fitWidths: the widest column shrinks first, none below 10', () => {
  assert.deepEqual(fitWidths([5, 30, 60], undefined), [5, 30, 60]);
  assert.deepEqual(fitWidths([5, 30, 60], 80), [5, 30, 41], 'the last column wraps first');
  const both = fitWidths([5, 30, 60], 50);
  assert.equal(both.reduce((sum, width) => sum + width, 0) + 4, 50);
  assert.deepEqual(both, [5, 21, 20], 'then the widest, in turns');
  assert.deepEqual(fitWidths([40, 40], 10), [10, 10], 'never below 10');
});
