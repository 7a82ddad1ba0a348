import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ByteReader, FieldView, bytesSource, pagedSource, toFileOffset, toSafeNumber } from './byte-reader.ts';

const GOLDEN = Uint8Array.of(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a);

describe('bytesSource', () => {
  it('returns views clipped at the end, nothing past it', () => {
    const source = bytesSource(GOLDEN);
    assert.equal(source.size, 10);
    assert.deepEqual([...source.read(8, 5)], [0x09, 0x0a]);
    assert.deepEqual([...source.read(10, 1)], []);
    assert.deepEqual([...source.read(-1, 4)], []);
    assert.deepEqual([...source.read(0, 0)], []);
    assert.deepEqual([...source.read(Number.MAX_SAFE_INTEGER, 4)], []);
  });
});

describe('ByteReader', () => {
  const cases: { endian: 'little' | 'big'; u16: number; u32: number; u64: bigint }[] = [
    { endian: 'little', u16: 0x0201, u32: 0x04030201, u64: 0x0807060504030201n },
    { endian: 'big', u16: 0x0102, u32: 0x01020304, u64: 0x0102030405060708n },
  ];
  for (const { endian, u16, u32, u64 } of cases) {
    it(`reads ${endian}-endian integers`, () => {
      const reader = new ByteReader(bytesSource(GOLDEN), endian);
      assert.equal(reader.u8(0), 1);
      assert.equal(reader.u16(0), u16);
      assert.equal(reader.u32(0), u32);
      assert.equal(reader.u64(0), u64);
      assert.equal(reader.word(0, false), BigInt(u32));
      assert.equal(reader.word(0, true), u64);
    });
  }

  it('throws ELF_TRUNCATED for every read that does not fit', () => {
    const reader = new ByteReader(bytesSource(GOLDEN), 'little');
    assert.throws(() => reader.u8(10), { code: 'ELF_TRUNCATED' });
    assert.throws(() => reader.u16(9), { code: 'ELF_TRUNCATED' });
    assert.throws(() => reader.u32(7), { code: 'ELF_TRUNCATED' });
    assert.throws(() => reader.u64(3), { code: 'ELF_TRUNCATED' });
    assert.throws(() => reader.u8(-1), { code: 'ELF_TRUNCATED' });
    assert.throws(() => reader.u32(Number.MAX_SAFE_INTEGER), { code: 'ELF_TRUNCATED' });
    assert.throws(() => reader.bytes(0, 11, 'x'), { code: 'ELF_TRUNCATED' });
    assert.throws(() => reader.bytes(0.5, 1, 'x'), { code: 'ELF_TRUNCATED' });
    assert.equal(reader.bytes(2, 8, 'x').length, 8);
    assert.deepEqual([...reader.bytesPartial(8, 100)], [9, 10]);
    assert.equal(reader.contains(2, 8), true);
    assert.equal(reader.contains(2n, 9n), false);
    assert.equal(reader.contains(0xffffffffffffffffn, 1), false);
  });

  it('throws ELF_TRUNCATED when the source returns fewer bytes than its size promised', () => {
    const shrinking = { size: 10, read: (offset: number, length: number) => GOLDEN.subarray(offset, Math.min(offset + length, 6)) };
    assert.throws(() => new ByteReader(shrinking).u32(4), { code: 'ELF_TRUNCATED' });
  });

  it('reads C strings with a maximum length', () => {
    const bytes = new TextEncoder().encode('abc\0defgh');
    const reader = new ByteReader(bytesSource(bytes));
    assert.deepEqual({ ...reader.cString(0, 10), bytes: undefined }, { value: 'abc', terminated: true, bytes: undefined });
    assert.equal(reader.cString(0, 3).terminated, true, 'a NUL right at the limit counts');
    assert.deepEqual([reader.cString(0, 2).value, reader.cString(0, 2).terminated], ['ab', false]);
    assert.deepEqual([reader.cString(4, 100).value, reader.cString(4, 100).terminated], ['defgh', false], 'the end of the file is no NUL');
    assert.deepEqual([reader.cString(50, 10).value, reader.cString(50, 10).terminated], ['', false]);
    const long = new Uint8Array(1000).fill(0x61);
    long[700] = 0;
    const read = new ByteReader(bytesSource(long)).cString(0, 900);
    assert.equal(read.value.length, 700);
    assert.equal(read.terminated, true);
  });
});

describe('FieldView and conversions', () => {
  it('reads fields inside its bytes and refuses reads outside', () => {
    const view = new FieldView(GOLDEN.subarray(2), 'big', 'test');
    assert.equal(view.u16(0), 0x0304);
    assert.equal(view.u64(0), 0x030405060708090an);
    assert.throws(() => view.u32(6), { code: 'ELF_TRUNCATED' });
  });

  it('converts offsets and sizes checked', () => {
    assert.equal(toFileOffset(10n, 10, 'x'), 10);
    assert.throws(() => toFileOffset(11n, 10, 'x'), { code: 'ELF_TRUNCATED' });
    assert.throws(() => toFileOffset(0xffffffffffffffffn, 10, 'x'), { code: 'ELF_TRUNCATED' });
    assert.equal(toSafeNumber(2n ** 53n - 1n, 'x'), Number.MAX_SAFE_INTEGER);
    assert.throws(() => toSafeNumber(2n ** 53n, 'x'), { code: 'ELF_MALFORMED' });
  });
});

describe('pagedSource', () => {
  const data = Uint8Array.from({ length: 40 }, (_, index) => index);
  function source(options: { shrinkTo?: number; directAbove?: number } = {}): { read: (offset: number, length: number) => Uint8Array; pages: number[]; direct: number[][] } {
    const pages: number[] = [];
    const direct: number[][] = [];
    const end = options.shrinkTo ?? data.length;
    const paged = pagedSource(data.length, 8, (index) => {
      pages.push(index);
      return data.subarray(index * 8, Math.min(end, index * 8 + 8));
    }, options.directAbove === undefined ? undefined : {
      above: options.directAbove,
      read: (offset, length) => {
        direct.push([offset, length]);
        return data.subarray(offset, offset + length);
      },
    });
    return { read: (offset, length) => paged.read(offset, length), pages, direct };
  }

  it('reads inside one page as a view of that page', () => {
    const s = source();
    const got = s.read(9, 3);
    assert.deepEqual([...got], [9, 10, 11]);
    assert.equal(got.buffer, data.buffer, 'a view, not a copy');
    assert.deepEqual(s.pages, [1]);
  });

  it('copies reads across pages, in order, clipped at the end', () => {
    const s = source();
    assert.deepEqual([...s.read(6, 12)], [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    assert.deepEqual(s.pages, [0, 1, 2]);
    assert.deepEqual([...s.read(36, 10)], [36, 37, 38, 39]);
  });

  it('hands long reads to the direct reader instead of paging', () => {
    const s = source({ directAbove: 10 });
    assert.deepEqual([...s.read(2, 20)], [...data.subarray(2, 22)]);
    assert.deepEqual(s.direct, [[2, 20]]);
    assert.deepEqual(s.pages, []);
    s.read(2, 9); // across two pages but not above the threshold: paged
    assert.deepEqual(s.pages, [0, 1]);
  });

  it('stops at a short page (the file shrank) and returns what it has', () => {
    const s = source({ shrinkTo: 12 });
    assert.deepEqual([...s.read(4, 20)], [4, 5, 6, 7, 8, 9, 10, 11]);
    assert.deepEqual(s.pages, [0, 1]);
  });

  it('returns nothing for empty, negative, unsafe or past-the-end ranges', () => {
    const s = source();
    for (const [offset, length] of [[0, 0], [-1, 4], [40, 1], [Number.MAX_SAFE_INTEGER + 1, 1], [0, -3]] as const) {
      assert.equal(s.read(offset, length).length, 0, `${offset}+${length}`);
    }
    assert.deepEqual(s.pages, []);
  });
});
