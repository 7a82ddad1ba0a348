// The section header table: where it lies and how much of it the file holds
// (computed once, here), and the few lookups the reader needs: section 0's
// sh_info (PN_XNUM), the string table of .dynamic (when DT_STRTAB maps
// nowhere) and a section by name (QEMU's version banner in .rodata). Bounded
// like the rest of the reader: counts are clipped to the file and to
// ELF_LIMITS, names are compared in place, nothing is allocated by a count
// read from the file.
import { ByteReader } from '../bytes/byte-reader.ts';
import type { ByteSource, Endian } from '../bytes/byte-reader.ts';
import { SHDR, SHT, getNumber, getWord } from './layout.ts';
import type { ElfClass } from './layout.ts';
import { ELF_LIMITS } from './problems.ts';

/** A range of the file. */
export interface SectionRange {
  /** File offset of the bytes. */
  readonly offset: number;
  /** The declared size clipped to the end of the file. */
  readonly size: number;
}

/** The header fields that locate the section header table (ElfFile has them). */
export interface SectionTableFields {
  readonly class: ElfClass;
  readonly endian: Endian;
  readonly shoff: bigint;
  readonly shentsize: number;
  readonly shnum: number;
  readonly shstrndx: number;
}

interface SectionHeader {
  readonly name: number;
  readonly type: number;
  readonly link: number;
  readonly info: number;
  readonly offset: bigint;
  readonly size: bigint;
}

interface SectionTable {
  /** Entries that lie whole inside the file, at most the wanted number and the cap. */
  readonly count: number;
  header(index: number): SectionHeader;
}

/** [offset, offset + length) clipped to a file of `fileSize` bytes (length null: to the end), or null when it starts outside. */
export function clipToFile(offset: bigint, length: bigint | null, fileSize: number): SectionRange | null {
  if (offset < 0n || offset >= BigInt(fileSize)) return null;
  const start = Number(offset);
  const room = fileSize - start;
  return { offset: start, size: length === null || length > BigInt(room) ? room : Number(length) };
}

/** The first `wanted` section headers, as far as the file holds them; null without a usable table. */
function readSectionTable(reader: ByteReader, fields: SectionTableFields, wanted: number): SectionTable | null {
  const layout = SHDR[fields.class];
  const { shoff, shentsize } = fields;
  if (shoff === 0n || wanted === 0 || shentsize < layout.size || shoff >= BigInt(reader.size)) return null;
  const start = Number(shoff);
  const fitting = Math.floor((reader.size - start - layout.size) / shentsize) + 1;
  const count = Math.min(wanted, Math.max(0, fitting), ELF_LIMITS.maxSectionHeaders);
  if (count <= 0) return null;
  const bytes = reader.bytes(start, (count - 1) * shentsize + layout.size, 'section headers');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const little = reader.endian === 'little';
  const at = layout.fields;
  return {
    count,
    header(index: number): SectionHeader {
      const base = index * shentsize;
      return {
        name: getNumber(view, base, at.name, little),
        type: getNumber(view, base, at.type, little),
        link: getNumber(view, base, at.link, little),
        info: getNumber(view, base, at.info, little),
        offset: getWord(view, base, at.offset, little),
        size: getWord(view, base, at.size, little),
      };
    },
  };
}

/** Section 0's sh_info (the real e_phnum when e_phnum is PN_XNUM), or null when the file has no section 0. */
export function sectionZeroInfo(reader: ByteReader, fields: SectionTableFields): number | null {
  const table = readSectionTable(reader, fields, 1);
  return table === null ? null : table.header(0).info;
}

/** The string table that the first SHT_DYNAMIC section links to (readelf's fallback for DT_STRTAB). */
export function dynamicStringSection(reader: ByteReader, fields: SectionTableFields): SectionRange | null {
  const table = readSectionTable(reader, fields, fields.shnum);
  if (table === null) return null;
  for (let index = 0; index < table.count; index += 1) {
    const dynamicSection = table.header(index);
    if (dynamicSection.type !== SHT.DYNAMIC) continue;
    if (dynamicSection.link >= table.count) return null;
    const strings = table.header(dynamicSection.link);
    if (strings.type !== SHT.STRTAB) return null;
    return clipToFile(strings.offset, strings.size, reader.size);
  }
  return null;
}

/**
 * The file range of the first section named `name` (e.g. '.rodata'), or null
 * when there is no such section, no section header table, or the table or its
 * names lie outside the file. SHT_NOBITS sections (.bss) have no bytes: null.
 */
export function findSection(source: ByteSource, elf: SectionTableFields, name: string): SectionRange | null {
  const reader = new ByteReader(source, elf.endian);
  const table = readSectionTable(reader, elf, elf.shnum);
  if (table === null || elf.shstrndx >= table.count) return null;
  const names = table.header(elf.shstrndx);
  const nameTable = clipToFile(names.offset, names.size, source.size);
  if (nameTable === null) return null;
  const wanted = new TextEncoder().encode(`${name}\0`);
  for (let index = 0; index < table.count; index += 1) {
    const section = table.header(index);
    if (section.name + wanted.length > nameTable.size) continue;
    const bytes = reader.bytesPartial(nameTable.offset + section.name, wanted.length);
    if (bytes.length === wanted.length && bytes.every((byte, at) => byte === wanted[at])) {
      return section.type === SHT.NOBITS ? null : clipToFile(section.offset, section.size, source.size);
    }
  }
  return null;
}
