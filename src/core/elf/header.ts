// The ELF identification and header: the only part of a file whose damage is
// an error rather than a partial result (without it the layout is unknown).
//   not "\x7fELF"                                       -> ELF_NOT_ELF
//   EI_CLASS or EI_DATA not 1/2                          -> ELF_MALFORMED
//   the file ends inside the identification or header   -> ELF_TRUNCATED
import { ByteReader } from '../bytes/byte-reader.ts';
import type { ByteSource, Endian } from '../bytes/byte-reader.ts';
import { CrossrootError } from '../errors.ts';
import { EHDR, EI, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB } from './layout.ts';
import type { ElfClass, Field } from './layout.ts';

export interface ElfHeader {
  readonly class: ElfClass;
  readonly endian: Endian;
  readonly osabi: number;
  readonly abiVersion: number;
  readonly identVersion: number;
  readonly typeNumber: number;
  readonly machine: number;
  readonly version: number;
  readonly entry: bigint;
  readonly phoff: bigint;
  readonly shoff: bigint;
  readonly flags: number;
  readonly phentsize: number;
  readonly phnum: number;
  readonly shentsize: number;
  readonly shnum: number;
  readonly shstrndx: number;
}

/** True when the bytes start with the ELF magic (needs at least 4 bytes). */
export function looksLikeElf(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

function readIdent(reader: ByteReader): { ident: Uint8Array; elfClass: ElfClass; endian: Endian } {
  const ident = reader.bytesPartial(0, EI.NIDENT);
  if (!looksLikeElf(ident)) {
    throw new CrossrootError('ELF_NOT_ELF', `read ELF header: the file does not start with '\\x7fELF'`);
  }
  if (ident.length < EI.NIDENT) {
    throw new CrossrootError('ELF_TRUNCATED', `read ELF header: file ends at byte '${ident.length}'`);
  }
  const elfClass = ident[EI.CLASS] ?? 0;
  const data = ident[EI.DATA] ?? 0;
  if (elfClass !== ELFCLASS32 && elfClass !== ELFCLASS64) {
    throw new CrossrootError('ELF_MALFORMED', `read ELF header: EI_CLASS is '${elfClass}', not 1 (32-bit) or 2 (64-bit)`);
  }
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) {
    throw new CrossrootError('ELF_MALFORMED', `read ELF header: EI_DATA is '${data}', not 1 (little-endian) or 2 (big-endian)`);
  }
  return { ident, elfClass: elfClass === ELFCLASS64 ? 64 : 32, endian: data === ELFDATA2LSB ? 'little' : 'big' };
}

export function readHeader(source: ByteSource): ElfHeader {
  const reader = new ByteReader(source, 'little');
  const { ident, elfClass, endian } = readIdent(reader);
  const layout = EHDR[elfClass];
  const raw = reader.bytesPartial(0, layout.size);
  if (raw.length < layout.size) {
    throw new CrossrootError('ELF_TRUNCATED', `read ELF header: file ends at byte '${raw.length}', the header needs '${layout.size}'`);
  }
  // raw holds the whole header (checked above): fields are read straight from
  // it. Only the address-sized words change width with the class; the other
  // fields are u16 or u32 in both (this runs for every file scan looks at).
  const view = new DataView(raw.buffer, raw.byteOffset, layout.size);
  const little = endian === 'little';
  const at = layout.fields;
  const u16 = (field: Field): number => view.getUint16(field.at, little);
  const u32 = (field: Field): number => view.getUint32(field.at, little);
  const word = elfClass === 64
    ? (field: Field): bigint => view.getBigUint64(field.at, little)
    : (field: Field): bigint => BigInt(view.getUint32(field.at, little));
  return {
    class: elfClass,
    endian,
    identVersion: ident[EI.VERSION] ?? 0,
    osabi: ident[EI.OSABI] ?? 0,
    abiVersion: ident[EI.ABIVERSION] ?? 0,
    typeNumber: u16(at.type),
    machine: u16(at.machine),
    version: u32(at.version),
    entry: word(at.entry),
    phoff: word(at.phoff),
    shoff: word(at.shoff),
    flags: u32(at.flags),
    phentsize: u16(at.phentsize),
    phnum: u16(at.phnum),
    shentsize: u16(at.shentsize),
    shnum: u16(at.shnum),
    shstrndx: u16(at.shstrndx),
  };
}
