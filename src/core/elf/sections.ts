// Finding one section by name (section header table + .shstrtab), for readers
// that want a single section's bytes, such as QEMU's version banner in
// .rodata. Bounded like the rest of the ELF reader: counts are clipped to the
// file and to ELF_LIMITS, names are compared in place, nothing is allocated by
// a count read from the file.
import { ByteReader } from '../bytes/byte-reader.ts';
import type { ByteSource } from '../bytes/byte-reader.ts';
import type { ElfFile } from './elf.ts';
import { ELF_LIMITS } from './elf.ts';

export interface SectionRange {
  /** File offset of the section's bytes. */
  readonly offset: number;
  /** sh_size clipped to the end of the file. */
  readonly size: number;
}

const SHDR_SIZE = { 32: 40, 64: 64 } as const;
const SHT_NOBITS = 8;

type SectionHeaderFields = Pick<ElfFile, 'class' | 'endian' | 'shoff' | 'shentsize' | 'shnum' | 'shstrndx'>;

/**
 * The file range of the first section named `name` (e.g. '.rodata'), or null
 * when there is no such section, no section header table, or the table or its
 * names lie outside the file. SHT_NOBITS sections (.bss) have no bytes: null.
 */
export function findSection(source: ByteSource, elf: SectionHeaderFields, name: string): SectionRange | null {
  const is64 = elf.class === 64;
  const entry = SHDR_SIZE[elf.class];
  const size = source.size;
  if (elf.shoff === 0n || elf.shnum === 0 || elf.shentsize < entry || elf.shoff >= BigInt(size)) return null;
  const start = Number(elf.shoff);
  const fitting = Math.floor((size - start - entry) / elf.shentsize) + 1;
  const count = Math.min(elf.shnum, Math.max(0, fitting), ELF_LIMITS.maxSectionHeaders);
  if (count <= 0 || elf.shstrndx >= count) return null;
  const reader = new ByteReader(source, elf.endian);
  const table = reader.fields(start, (count - 1) * elf.shentsize + entry, 'section headers');
  const header = (index: number): { name: number; type: number; offset: bigint; size: bigint } => {
    const at = index * elf.shentsize;
    return is64
      ? { name: table.u32(at), type: table.u32(at + 4), offset: table.u64(at + 24), size: table.u64(at + 32) }
      : { name: table.u32(at), type: table.u32(at + 4), offset: BigInt(table.u32(at + 16)), size: BigInt(table.u32(at + 20)) };
  };
  const clip = (offset: bigint, length: bigint): SectionRange | null => {
    if (offset >= BigInt(size)) return null;
    const room = size - Number(offset);
    return { offset: Number(offset), size: length > BigInt(room) ? room : Number(length) };
  };
  const names = header(elf.shstrndx);
  const nameTable = clip(names.offset, names.size);
  if (nameTable === null) return null;
  const wanted = new TextEncoder().encode(`${name}\0`);
  for (let index = 0; index < count; index += 1) {
    const section = header(index);
    if (section.name + wanted.length > nameTable.size) continue;
    const bytes = reader.bytesPartial(nameTable.offset + section.name, wanted.length);
    if (bytes.length === wanted.length && bytes.every((byte, at) => byte === wanted[at])) {
      return section.type === SHT_NOBITS ? null : clip(section.offset, section.size);
    }
  }
  return null;
}
