// The two parts of the tar format node-tar cannot do for images: PAX records
// with binary values (SCHILY.xattr.* holds raw bytes such as
// security.capability; node-tar decodes PAX bodies as UTF-8 text and keeps
// only its own keys), and a header decoder for scanning a layer's metadata
// (whiteouts, xattrs) without extracting it. Pure: bytes in, data out.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const XATTR_PREFIX = 'SCHILY.xattr.';

/** One PAX body: "LEN KEY=VALUE\n" records, LEN counting the whole record including its own digits. */
export function encodePaxRecords(records: readonly (readonly [string, Uint8Array])[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [key, value] of records) {
    const rest = encoder.encode(` ${key}=`).length + value.length + 1;
    let length = rest + String(rest).length;
    if (String(length).length !== String(rest).length) length = rest + String(length).length;
    const head = encoder.encode(`${length} ${key}=`);
    const record = new Uint8Array(length);
    record.set(head, 0);
    record.set(value, head.length);
    record[length - 1] = 0x0a;
    parts.push(record);
  }
  return concat(parts);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Parses a PAX body by its record lengths (values may hold any byte, newlines included). */
export function decodePaxRecords(body: Uint8Array): Map<string, Uint8Array> {
  const records = new Map<string, Uint8Array>();
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    if (space < 0) break;
    const length = Number(decoder.decode(body.subarray(offset, space)));
    if (!Number.isSafeInteger(length) || length <= space - offset || offset + length > body.length) break;
    const record = body.subarray(space + 1, offset + length - 1);
    const equals = record.indexOf(0x3d);
    if (equals > 0) records.set(decoder.decode(record.subarray(0, equals)), record.slice(equals + 1));
    offset += length;
  }
  return records;
}

export type TarType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo' | 'pax' | 'pax-global' | 'gnu-longname' | 'gnu-longlink' | 'other';

const TYPES: Readonly<Record<string, TarType>> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'directory', '6': 'fifo',
  x: 'pax', g: 'pax-global', L: 'gnu-longname', K: 'gnu-longlink',
};

export interface TarHeader {
  readonly path: string;
  readonly type: TarType;
  readonly size: number;
  readonly linkpath: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
}

function text(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

/** Octal, or base-256 when the top bit is set (GNU's large numbers). */
function number(block: Uint8Array, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let value = (field[0] ?? 0) & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    return value;
  }
  const digits = text(block, start, length).trim();
  return digits === '' ? 0 : parseInt(digits, 8);
}

/** Decodes one 512-byte header; null for an all-zero block (the end). Throws on a bad checksum. */
export function decodeTarHeader(block: Uint8Array): TarHeader | null {
  if (block.every((byte) => byte === 0)) return null;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  if (sum !== number(block, 148, 8)) throw new Error('tar header checksum mismatch');
  const ustar = text(block, 257, 6).startsWith('ustar');
  const prefix = ustar ? text(block, 345, 155) : '';
  const name = text(block, 0, 100);
  const flag = String.fromCharCode(block[156] ?? 0);
  return {
    path: prefix === '' ? name : `${prefix}/${name}`,
    type: TYPES[flag] ?? 'other',
    size: number(block, 124, 12),
    linkpath: text(block, 157, 100),
    mode: number(block, 100, 8) & 0o7777,
    uid: number(block, 108, 8),
    gid: number(block, 116, 8),
    mtime: number(block, 136, 12),
  };
}

/** Bytes a member's data takes in the archive (padded to 512). */
export function paddedSize(size: number): number {
  return Math.ceil(size / 512) * 512;
}

export function utf8(value: string): Uint8Array {
  return encoder.encode(value);
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
