import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { LineSplitter, jsonLine, lastJsonLine, onJsonLines, parseJsonLine } from './json-lines.ts';

test('LineSplitter joins chunks and splits on \\n, \\r\\n and \\r', () => {
  const lines = new LineSplitter();
  assert.deepEqual(lines.push('a'), []);
  assert.deepEqual(lines.push('b\nc\r\nd\re'), ['ab', 'c', 'd']);
  assert.equal(lines.end(), 'e');
  assert.equal(lines.end(), null);
});

test('parseJsonLine skips blank and foreign lines', () => {
  assert.deepEqual(parseJsonLine('{"a":1}'), { a: 1 });
  assert.equal(parseJsonLine(''), undefined);
  assert.equal(parseJsonLine('not json'), undefined);
});

test('lastJsonLine reads a report after other output', () => {
  assert.deepEqual(lastJsonLine('noise\n{"ok":true}\n'), { ok: true });
  assert.equal(lastJsonLine(''), undefined);
});

test('onJsonLines delivers each document once, across chunk boundaries', async () => {
  const stream = new PassThrough();
  const seen: unknown[] = [];
  onJsonLines(stream, (message) => seen.push(message));
  const text = jsonLine({ signal: 'SIGTERM' }) + 'junk\n' + jsonLine({ exec: null });
  stream.write(text.slice(0, 7));
  stream.end(text.slice(7));
  await new Promise((resolve) => stream.on('end', resolve));
  assert.deepEqual(seen, [{ signal: 'SIGTERM' }, { exec: null }]);
});
