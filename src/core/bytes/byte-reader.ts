// Bounds-checked, endian-aware reads over a byte source. The source is a
// synchronous interface so that a file can be read in small pieces (the ELF
// reader touches a few hundred bytes of a multi-megabyte binary) and so that
// the core stays pure: the runner supplies file-backed sources.
import { CrossrootError } from '../errors.ts';

export interface ByteSource {
  /** Total length in bytes. */
  readonly size: number;
  /**
   * Returns the bytes at [offset, offset + length). May return fewer bytes
   * when the range crosses the end (none at all past the end); never more.
   */
  read(offset: number, length: number): Uint8Array;
}

export type Endian = 'little' | 'big';

/** A source over bytes already in memory; reads are views, not copies. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read(offset: number, length: number): Uint8Array {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length <= 0 || offset >= bytes.length) {
        return new Uint8Array(0);
      }
      return bytes.subarray(offset, Math.min(bytes.length, offset + length));
    },
  };
}

/**
 * A source over fixed-size pages of a file: `page(index)` returns page
 * `index` (shorter at the end, or when the file shrank). Reads within one
 * page are views; reads across pages are copied, or, when longer than
 * `directAbove` bytes, handed to `readDirect` instead of paging.
 */
export function pagedSource(
  size: number,
  pageSize: number,
  page: (index: number) => Uint8Array,
  direct?: { readonly above: number; readonly read: (offset: number, length: number) => Uint8Array },
): ByteSource {
  return {
    size,
    read(offset: number, length: number): Uint8Array {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length <= 0 || offset >= size) {
        return new Uint8Array(0);
      }
      const end = Math.min(size, offset + length);
      const first = Math.floor(offset / pageSize);
      const last = Math.floor((end - 1) / pageSize);
      if (first === last) {
        const bytes = page(first);
        const from = offset - first * pageSize;
        return bytes.subarray(from, Math.min(bytes.length, from + (end - offset)));
      }
      if (direct !== undefined && end - offset > direct.above) return direct.read(offset, end - offset);
      const out = new Uint8Array(end - offset);
      let filled = 0;
      for (let index = first; index <= last; index++) {
        const bytes = page(index);
        const from = index === first ? offset - first * pageSize : 0;
        const chunk = bytes.subarray(from, Math.min(bytes.length, from + (out.length - filled)));
        out.set(chunk, filled);
        filled += chunk.length;
        if (bytes.length < pageSize) break; // a short page: the file ends (or shrank) here
      }
      return filled === out.length ? out : out.subarray(0, filled);
    },
  };
}

function truncated(what: string, offset: number, length: number, size: number): CrossrootError {
  return new CrossrootError('ELF_TRUNCATED',
    `read ${what}: bytes '${offset}'..'${offset + length}' end past the end of the file at byte '${size}'`);
}

/** The result of a bounded C-string read. */
export interface CStringRead {
  readonly value: string;
  /** The bytes of the string, without the NUL. */
  readonly bytes: Uint8Array;
  /** False when no NUL was found within the limit or before the end of the file. */
  readonly terminated: boolean;
}

const decoder = new TextDecoder('utf-8', { fatal: false });
const CSTRING_CHUNK = 256;

export class ByteReader {
  readonly source: ByteSource;
  readonly endian: Endian;
  private readonly little: boolean;

  constructor(source: ByteSource, endian: Endian = 'little') {
    this.source = source;
    this.endian = endian;
    this.little = endian === 'little';
  }

  get size(): number {
    return this.source.size;
  }

  /** A reader over the same source with another byte order. */
  withEndian(endian: Endian): ByteReader {
    return new ByteReader(this.source, endian);
  }

  /** True when [offset, offset + length) lies inside the source. */
  contains(offset: number | bigint, length: number | bigint): boolean {
    const start = BigInt(offset);
    const count = BigInt(length);
    return start >= 0n && count >= 0n && start + count <= BigInt(this.source.size);
  }

  /** Exactly `length` bytes or ELF_TRUNCATED. */
  bytes(offset: number, length: number, what: string): Uint8Array {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0
      || offset + length > this.source.size) {
      throw truncated(what, offset, length, this.source.size);
    }
    if (length === 0) return new Uint8Array(0);
    const got = this.source.read(offset, length);
    if (got.length < length) throw truncated(what, offset, length, offset + got.length);
    return got.length === length ? got : got.subarray(0, length);
  }

  /** Up to `length` bytes: fewer at the end of the source, none past it. */
  bytesPartial(offset: number, length: number): Uint8Array {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length <= 0
      || offset >= this.source.size) {
      return new Uint8Array(0);
    }
    const got = this.source.read(offset, Math.min(length, this.source.size - offset));
    return got.length > length ? got.subarray(0, length) : got;
  }

  /** Exactly `length` bytes as fixed-layout fields, or ELF_TRUNCATED. */
  fields(offset: number, length: number, what: string): FieldView {
    return new FieldView(this.bytes(offset, length, what), this.endian, what);
  }

  private view(offset: number, length: number, what: string): DataView {
    const raw = this.bytes(offset, length, what);
    return new DataView(raw.buffer, raw.byteOffset, length);
  }

  u8(offset: number, what = 'byte'): number {
    return this.view(offset, 1, what).getUint8(0);
  }

  u16(offset: number, what = 'u16'): number {
    return this.view(offset, 2, what).getUint16(0, this.little);
  }

  u32(offset: number, what = 'u32'): number {
    return this.view(offset, 4, what).getUint32(0, this.little);
  }

  u64(offset: number, what = 'u64'): bigint {
    return this.view(offset, 8, what).getBigUint64(0, this.little);
  }

  /** An address-sized word: u32 for ELF32, u64 for ELF64, as bigint either way. */
  word(offset: number, is64: boolean, what = 'word'): bigint {
    return is64 ? this.u64(offset, what) : BigInt(this.u32(offset, what));
  }

  /**
   * A NUL-terminated string of at most `maxLength` bytes (NUL excluded).
   * Never throws past the end: the result says whether a NUL was found.
   * An offset outside the source reads as an empty, unterminated string.
   */
  cString(offset: number, maxLength: number): CStringRead {
    const parts: Uint8Array[] = [];
    let total = 0;
    let position = offset;
    while (total < maxLength) {
      const chunk = this.bytesPartial(position, Math.min(CSTRING_CHUNK, maxLength - total + 1));
      if (chunk.length === 0) break;
      const nul = chunk.indexOf(0);
      if (nul >= 0 && total + nul <= maxLength) {
        parts.push(chunk.subarray(0, nul));
        return finishCString(parts, total + nul, true);
      }
      const keep = Math.min(chunk.length, maxLength - total);
      parts.push(chunk.subarray(0, keep));
      total += keep;
      position += keep;
      if (keep < chunk.length) break; // the limit was reached inside this chunk
    }
    return finishCString(parts, total, false);
  }
}

function finishCString(parts: readonly Uint8Array[], length: number, terminated: boolean): CStringRead {
  let bytes: Uint8Array;
  if (parts.length === 1 && parts[0] !== undefined) {
    bytes = parts[0];
  } else {
    bytes = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
  }
  return { value: decoder.decode(bytes), bytes, terminated };
}

/**
 * Fixed-layout fields over bytes already read (a header, a table): one
 * allocation for many reads. Reads past `bytes` are ELF_TRUNCATED.
 */
export class FieldView {
  readonly bytes: Uint8Array;
  private readonly data: DataView;
  private readonly little: boolean;
  private readonly what: string;

  constructor(bytes: Uint8Array, endian: Endian, what: string) {
    this.bytes = bytes;
    this.data = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    this.little = endian === 'little';
    this.what = what;
  }

  get length(): number {
    return this.bytes.length;
  }

  private check(at: number, width: number): void {
    if (!Number.isSafeInteger(at) || at < 0 || at + width > this.bytes.length) {
      throw truncated(this.what, at, width, this.bytes.length);
    }
  }

  u8(at: number): number {
    this.check(at, 1);
    return this.data.getUint8(at);
  }

  u16(at: number): number {
    this.check(at, 2);
    return this.data.getUint16(at, this.little);
  }

  u32(at: number): number {
    this.check(at, 4);
    return this.data.getUint32(at, this.little);
  }

  u64(at: number): bigint {
    this.check(at, 8);
    return this.data.getBigUint64(at, this.little);
  }

  /** u32 for ELF32, u64 for ELF64, as bigint either way. */
  word(at: number, is64: boolean): bigint {
    return is64 ? this.u64(at) : BigInt(this.u32(at));
  }
}

/**
 * A u64 field used as a file offset or size, as a number: values that cannot
 * be one (beyond `limit`, at most the safe-integer range) are ELF_TRUNCATED,
 * since no file that large exists.
 */
export function toFileOffset(value: bigint, limit: number, what: string): number {
  if (value < 0n || value > BigInt(limit)) {
    throw new CrossrootError('ELF_TRUNCATED', `read ${what}: offset '${value}' is past the end of the file at byte '${limit}'`);
  }
  return Number(value);
}

/** A bigint that must fit a JavaScript safe integer, or ELF_MALFORMED. */
export function toSafeNumber(value: bigint, what: string): number {
  if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CrossrootError('ELF_MALFORMED', `read ${what}: value '${value}' is too large`);
  }
  return Number(value);
}
