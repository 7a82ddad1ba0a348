// The ELF file layout as data (System V gABI, Linux include/uapi/linux/elf.h):
// identification bytes, the header, program header, section header, dynamic
// entry and note header of both classes, field by field, with the constants
// the reader and the writers use. Decoding (header.ts, program-headers.ts,
// dynamic.ts, sections.ts, notes.ts) and encoding (core/probe/probe-elf.ts,
// test/support/elf-builder.ts) both go through these tables, so an offset is
// written once.

export const ELF_MAGIC = Uint8Array.of(0x7f, 0x45, 0x4c, 0x46);

/** e_ident indexes. */
export const EI = { CLASS: 4, DATA: 5, VERSION: 6, OSABI: 7, ABIVERSION: 8, NIDENT: 16 } as const;
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
export const EV_CURRENT = 1;

/** e_type values, in number order; anything else is 'OTHER'. */
export const ELF_TYPES = ['NONE', 'REL', 'EXEC', 'DYN', 'CORE'] as const;
export const ET = { NONE: 0, REL: 1, EXEC: 2, DYN: 3, CORE: 4 } as const;

/** Program header types (p_type) the reader and its users care about. */
export const PT = {
  NULL: 0,
  LOAD: 1,
  DYNAMIC: 2,
  INTERP: 3,
  NOTE: 4,
  SHLIB: 5,
  PHDR: 6,
  TLS: 7,
  GNU_EH_FRAME: 0x6474e550,
  GNU_STACK: 0x6474e551,
  GNU_RELRO: 0x6474e552,
  GNU_PROPERTY: 0x6474e553,
} as const;

/** p_flags bits. */
export const PF = { X: 1, W: 2, R: 4 } as const;

/** Section header types (sh_type) the reader uses. */
export const SHT = { STRTAB: 3, DYNAMIC: 6, NOBITS: 8 } as const;

/** Dynamic tags (d_tag) the reader decodes. */
export const DT = {
  NULL: 0,
  NEEDED: 1,
  STRTAB: 5,
  STRSZ: 10,
  SONAME: 14,
  RPATH: 15,
  RUNPATH: 29,
  FLAGS: 30,
  FLAGS_1: 0x6ffffffb,
} as const;

export const DF_1_PIE = 0x08000000;
export const NT_GNU_BUILD_ID = 3;

/** Kernel limits (fs/binfmt_elf.c): PT_INTERP size must be 2..PATH_MAX. */
export const PATH_MAX = 4096;
/** readelf and the kernel accept up to 65535 headers (PN_XNUM escapes beyond). */
export const PN_XNUM = 0xffff;

export type ElfClass = 32 | 64;

/** One fixed-size field of a structure: its byte offset and width. */
export interface Field {
  readonly at: number;
  readonly size: 1 | 2 | 4 | 8;
}

/** A structure of one class: its size and its fields by name. */
export interface Struct<K extends string> {
  readonly size: number;
  readonly fields: Readonly<Record<K, Field>>;
}

const f = (at: number, size: Field['size']): Field => ({ at, size });

export type HeaderField = 'type' | 'machine' | 'version' | 'entry' | 'phoff' | 'shoff' | 'flags'
  | 'ehsize' | 'phentsize' | 'phnum' | 'shentsize' | 'shnum' | 'shstrndx';

/** Elf32_Ehdr / Elf64_Ehdr after e_ident (offsets from the start of the file). */
export const EHDR: Readonly<Record<ElfClass, Struct<HeaderField>>> = {
  32: {
    size: 52,
    fields: {
      type: f(16, 2), machine: f(18, 2), version: f(20, 4), entry: f(24, 4), phoff: f(28, 4), shoff: f(32, 4),
      flags: f(36, 4), ehsize: f(40, 2), phentsize: f(42, 2), phnum: f(44, 2), shentsize: f(46, 2), shnum: f(48, 2), shstrndx: f(50, 2),
    },
  },
  64: {
    size: 64,
    fields: {
      type: f(16, 2), machine: f(18, 2), version: f(20, 4), entry: f(24, 8), phoff: f(32, 8), shoff: f(40, 8),
      flags: f(48, 4), ehsize: f(52, 2), phentsize: f(54, 2), phnum: f(56, 2), shentsize: f(58, 2), shnum: f(60, 2), shstrndx: f(62, 2),
    },
  },
};

export type ProgramHeaderField = 'type' | 'flags' | 'offset' | 'vaddr' | 'paddr' | 'filesz' | 'memsz' | 'align';

/** Elf32_Phdr / Elf64_Phdr (p_flags moves: last-but-one in ELF32, second in ELF64). */
export const PHDR: Readonly<Record<ElfClass, Struct<ProgramHeaderField>>> = {
  32: {
    size: 32,
    fields: { type: f(0, 4), offset: f(4, 4), vaddr: f(8, 4), paddr: f(12, 4), filesz: f(16, 4), memsz: f(20, 4), flags: f(24, 4), align: f(28, 4) },
  },
  64: {
    size: 56,
    fields: { type: f(0, 4), flags: f(4, 4), offset: f(8, 8), vaddr: f(16, 8), paddr: f(24, 8), filesz: f(32, 8), memsz: f(40, 8), align: f(48, 8) },
  },
};

export type SectionHeaderField = 'name' | 'type' | 'flags' | 'addr' | 'offset' | 'size' | 'link' | 'info' | 'addralign' | 'entsize';

/** Elf32_Shdr / Elf64_Shdr. */
export const SHDR: Readonly<Record<ElfClass, Struct<SectionHeaderField>>> = {
  32: {
    size: 40,
    fields: {
      name: f(0, 4), type: f(4, 4), flags: f(8, 4), addr: f(12, 4), offset: f(16, 4), size: f(20, 4),
      link: f(24, 4), info: f(28, 4), addralign: f(32, 4), entsize: f(36, 4),
    },
  },
  64: {
    size: 64,
    fields: {
      name: f(0, 4), type: f(4, 4), flags: f(8, 8), addr: f(16, 8), offset: f(24, 8), size: f(32, 8),
      link: f(40, 4), info: f(44, 4), addralign: f(48, 8), entsize: f(56, 8),
    },
  },
};

/** Elf32_Dyn / Elf64_Dyn: d_tag then d_val, each an address-sized word. */
export const DYN: Readonly<Record<ElfClass, Struct<'tag' | 'value'>>> = {
  32: { size: 8, fields: { tag: f(0, 4), value: f(4, 4) } },
  64: { size: 16, fields: { tag: f(0, 8), value: f(8, 8) } },
};

/** Elf_Nhdr, the same in both classes; the name follows at `size`. */
export const NHDR: Struct<'namesz' | 'descsz' | 'type'> = {
  size: 12,
  fields: { namesz: f(0, 4), descsz: f(4, 4), type: f(8, 4) },
};

/** A field of at most 4 bytes, as a number. */
export function getNumber(view: DataView, base: number, field: Field, little: boolean): number {
  const at = base + field.at;
  switch (field.size) {
    case 1: return view.getUint8(at);
    case 2: return view.getUint16(at, little);
    case 4: return view.getUint32(at, little);
    case 8: throw new RangeError(`an 8-byte field at '${at}' does not fit a number`);
  }
}

/** A field as a bigint (address-sized words: 4 bytes in ELF32, 8 in ELF64). */
export function getWord(view: DataView, base: number, field: Field, little: boolean): bigint {
  return field.size === 8 ? view.getBigUint64(base + field.at, little) : BigInt(getNumber(view, base, field, little));
}

/** Writes `value` into `field`, reduced to the field's width (so e_flags 0x80000000 or -1 round-trips). */
export function setField(view: DataView, base: number, field: Field, value: number | bigint, little: boolean): void {
  const at = base + field.at;
  const bits = BigInt.asUintN(field.size * 8, BigInt(value));
  switch (field.size) {
    case 1: view.setUint8(at, Number(bits)); break;
    case 2: view.setUint16(at, Number(bits), little); break;
    case 4: view.setUint32(at, Number(bits), little); break;
    case 8: view.setBigUint64(at, bits, little); break;
  }
}

/** Writes the given fields of `struct` at `base`; fields left out keep their bytes. */
export function writeStruct<K extends string>(
  view: DataView, base: number, struct: Struct<K>, values: Partial<Record<K, number | bigint>>, little: boolean,
): void {
  for (const name of Object.keys(values) as K[]) {
    const value = values[name];
    if (value !== undefined) setField(view, base, struct.fields[name], value, little);
  }
}

export interface IdentSpec {
  readonly bits: ElfClass;
  readonly endian: 'little' | 'big';
  readonly osabi?: number;
  readonly abiVersion?: number;
}

/** Writes e_ident: magic, class, data, EV_CURRENT, OS ABI, ABI version (padding stays as it is, zero in a new file). */
export function writeIdent(bytes: Uint8Array, spec: IdentSpec): void {
  bytes.set(ELF_MAGIC, 0);
  bytes[EI.CLASS] = spec.bits === 64 ? ELFCLASS64 : ELFCLASS32;
  bytes[EI.DATA] = spec.endian === 'little' ? ELFDATA2LSB : ELFDATA2MSB;
  bytes[EI.VERSION] = EV_CURRENT;
  bytes[EI.OSABI] = spec.osabi ?? 0;
  bytes[EI.ABIVERSION] = spec.abiVersion ?? 0;
}
