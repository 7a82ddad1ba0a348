import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../process/process.ts';
import { openFileSource, readHead, withFileSource } from './file-source.ts';
import { parseElf } from '../../core/elf/elf.ts';

describe('file sources', () => {
  let dir = '';
  const data = Uint8Array.from({ length: 3 * 4096 + 123 }, (_, index) => (index * 7) & 0xff);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'crossroot-file-source-'));
    writeFileSync(join(dir, 'data'), data);
    writeFileSync(join(dir, 'empty'), new Uint8Array(0));
    symlinkSync('data', join(dir, 'link'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads any range like the bytes themselves, across pages and at the end', () => {
    const source = openFileSource(join(dir, 'data'));
    try {
      assert.equal(source.size, data.length);
      const ranges: [number, number][] = [[0, 4], [4090, 12], [4096, 4096], [100, 9000], [0, data.length], [data.length - 5, 100], [data.length, 4], [8190, 3]];
      for (const [offset, length] of ranges) {
        assert.deepEqual([...source.read(offset, length)], [...data.subarray(offset, offset + length)], `range ${offset}+${length}`);
      }
      assert.deepEqual([...source.read(-1, 4)], []);
    } finally {
      source.close();
    }
    assert.throws(() => source.read(0, 1), { code: 'IO' });
  });

  it('readHead returns the first bytes, fewer for a short file; symlinks are followed', () => {
    assert.deepEqual([...readHead(join(dir, 'data'), 16)], [...data.subarray(0, 16)]);
    assert.deepEqual([...readHead(join(dir, 'link'), 4)], [...data.subarray(0, 4)]);
    assert.deepEqual([...readHead(join(dir, 'empty'), 16)], []);
  });

  it('refuses missing paths and what is not a regular file, without blocking on a FIFO', async () => {
    assert.throws(() => openFileSource(join(dir, 'missing')), { code: 'NOT_FOUND' });
    assert.throws(() => readHead(join(dir, 'data', 'below-a-file'), 4), { code: 'NOT_FOUND' });
    assert.throws(() => openFileSource(dir), { code: 'NOT_A_FILE' });
    assert.throws(() => readHead('/dev/null', 4), { code: 'NOT_A_FILE' });
    const fifo = join(dir, 'fifo');
    const made = await runProcess(['mkfifo', fifo]);
    assert.equal(made.exitCode, 0);
    assert.throws(() => readHead(fifo, 4), { code: 'NOT_A_FILE' });
  });

  it('parses a real ELF file through the page cache', () => {
    const elf = withFileSource('/bin/true', (source) => parseElf(source));
    assert.ok(elf.class === 32 || elf.class === 64);
    assert.notEqual(elf.interpreter, null);
  });
});
