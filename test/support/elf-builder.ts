// Builds small ELF files from data for golden-byte tests: a header, program
// headers and named blobs (interpreter, dynamic section, string table,
// notes). Layout: ELF header, program headers, then the blobs in order, each
// aligned to 8 bytes. Every blob is mapped at BASE_VADDR + its file offset, and
// `at(name)` gives a blob's place so that a blob or a segment can point at
// another (DT_STRTAB -> the string table, PT_INTERP -> its string).
// Every structure is written through the reader's own layout tables
// (src/core/elf/layout.ts).
import { DYN, EHDR, ET, EV_CURRENT, NHDR, PF, PHDR, SHDR, writeIdent, writeStruct } from '../../src/core/elf/layout.ts';
import type { Struct } from '../../src/core/elf/layout.ts';

export const BASE_VADDR = 0x400000n;

export interface Place {
  readonly offset: bigint;
  readonly vaddr: bigint;
  readonly size: bigint;
}

export type At = (name: string) => Place;

export interface SegmentSpec {
  readonly type: number;
  readonly flags?: number;
  readonly offset: bigint;
  readonly vaddr?: bigint;
  readonly paddr?: bigint;
  readonly filesz: bigint;
  readonly memsz?: bigint;
  readonly align?: bigint;
}

export interface ElfSpec {
  readonly bits: 32 | 64;
  readonly endian: 'little' | 'big';
  readonly type?: number;
  readonly machine?: number;
  readonly flags?: number;
  readonly osabi?: number;
  readonly abiVersion?: number;
  readonly entry?: bigint;
  /** Overrides of raw header fields after layout (for malformed headers). */
  readonly phentsize?: number;
  readonly phnum?: number;
  readonly phoff?: bigint;
  readonly blobs?: ReadonlyArray<readonly [string, (at: At) => Uint8Array]>;
  readonly segments?: (at: At, fileSize: bigint) => SegmentSpec[];
}

class Writer {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly little: boolean;

  constructor(size: number, endian: 'little' | 'big') {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.little = endian === 'little';
  }

  struct<K extends string>(base: number, layout: Struct<K>, values: Partial<Record<K, number | bigint>>): void {
    writeStruct(this.view, base, layout, values, this.little);
  }
}

const align8 = (value: number): number => Math.ceil(value / 8) * 8;

export function buildElf(spec: ElfSpec): Uint8Array {
  const bits = spec.bits;
  const ehsize = EHDR[bits].size;
  const phentsize = PHDR[bits].size;
  const blobs = spec.blobs ?? [];
  const placeholder: At = () => ({ offset: 0n, vaddr: 0n, size: 0n });
  const segmentCount = spec.segments?.(placeholder, 0n).length ?? 0;
  const sizes = blobs.map(([, make]) => make(placeholder).length);
  const places = new Map<string, Place>();
  let cursor = align8(ehsize + segmentCount * phentsize);
  blobs.forEach(([name], index) => {
    const size = sizes[index] ?? 0;
    places.set(name, { offset: BigInt(cursor), vaddr: BASE_VADDR + BigInt(cursor), size: BigInt(size) });
    cursor = align8(cursor + size);
  });
  const fileSize = cursor;
  const at: At = (name) => {
    const place = places.get(name);
    if (place === undefined) throw new Error(`elf builder: no blob '${name}'`);
    return place;
  };
  const out = new Writer(fileSize, spec.endian);
  writeIdent(out.bytes, { bits, endian: spec.endian, osabi: spec.osabi ?? 0, abiVersion: spec.abiVersion ?? 0 });
  out.struct(0, EHDR[bits], {
    type: spec.type ?? ET.EXEC,
    machine: spec.machine ?? 62,
    version: EV_CURRENT,
    entry: spec.entry ?? 0n,
    phoff: spec.phoff ?? (segmentCount > 0 ? BigInt(ehsize) : 0n),
    shoff: 0n,
    flags: spec.flags ?? 0,
    ehsize,
    phentsize: spec.phentsize ?? phentsize,
    phnum: spec.phnum ?? segmentCount,
    shentsize: SHDR[bits].size,
    shnum: 0,
    shstrndx: 0,
  });
  const segments = spec.segments?.(at, BigInt(fileSize)) ?? [];
  segments.forEach((segment, index) => {
    const vaddr = segment.vaddr ?? BASE_VADDR + segment.offset;
    out.struct(ehsize + index * phentsize, PHDR[bits], {
      type: segment.type,
      flags: segment.flags ?? PF.R,
      offset: segment.offset,
      vaddr,
      paddr: segment.paddr ?? vaddr,
      filesz: segment.filesz,
      memsz: segment.memsz ?? segment.filesz,
      align: segment.align ?? (bits === 64 ? 8n : 4n),
    });
  });
  blobs.forEach(([name, make]) => {
    out.bytes.set(make(at), Number(at(name).offset));
  });
  return out.bytes;
}

/** Bytes of a NUL-terminated string. */
export function cString(text: string): Uint8Array {
  const encoded = new TextEncoder().encode(text);
  const out = new Uint8Array(encoded.length + 1);
  out.set(encoded);
  return out;
}

/** A string table: "\0" then each string NUL-terminated; offsets by string. */
export function stringTable(strings: readonly string[]): { bytes: Uint8Array; offset: (text: string) => bigint } {
  const parts: number[] = [0];
  const offsets = new Map<string, bigint>();
  for (const text of strings) {
    offsets.set(text, BigInt(parts.length));
    parts.push(...cString(text));
  }
  return {
    bytes: Uint8Array.from(parts),
    offset: (text) => {
      const found = offsets.get(text);
      if (found === undefined) throw new Error(`string table: no '${text}'`);
      return found;
    },
  };
}

/** A dynamic section of (tag, value) pairs; add [0n, 0n] yourself to end it. */
export function dynamicSection(bits: 32 | 64, endian: 'little' | 'big', entries: ReadonlyArray<readonly [number | bigint, bigint]>): Uint8Array {
  const layout = DYN[bits];
  const out = new Writer(entries.length * layout.size, endian);
  entries.forEach(([tag, value], index) => {
    out.struct(index * layout.size, layout, { tag, value });
  });
  return out.bytes;
}

/** One ELF note, name and descriptor padded to `align` bytes. */
export function note(endian: 'little' | 'big', name: string, type: number, desc: Uint8Array, align = 4): Uint8Array {
  const nameBytes = name === '' ? new Uint8Array(0) : cString(name);
  const pad = (value: number): number => Math.ceil(value / align) * align;
  // Padding counts from the start of the note (binutils ELF_NOTE_DESC_OFFSET).
  const descAt = pad(NHDR.size + nameBytes.length);
  const out = new Writer(pad(descAt + desc.length), endian);
  out.struct(0, NHDR, { namesz: nameBytes.length, descsz: desc.length, type });
  out.bytes.set(nameBytes, NHDR.size);
  out.bytes.set(desc, descAt);
  return out.bytes;
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
