// Builds small ELF files from data for golden-byte tests: a header, program
// headers and named blobs (interpreter, dynamic section, string table,
// notes). Layout: ELF header, program headers, then the blobs in order, each
// aligned to 8 bytes. Every blob is mapped at BASE_VADDR + its file offset, and
// `at(name)` gives a blob's place so that a blob or a segment can point at
// another (DT_STRTAB -> the string table, PT_INTERP -> its string).

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
  private readonly view: DataView;
  private readonly little: boolean;

  constructor(size: number, endian: 'little' | 'big') {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.little = endian === 'little';
  }

  u8(at: number, value: number): void { this.view.setUint8(at, value); }
  u16(at: number, value: number): void { this.view.setUint16(at, value, this.little); }
  u32(at: number, value: number): void { this.view.setUint32(at, value, this.little); }
  u64(at: number, value: bigint): void { this.view.setBigUint64(at, value, this.little); }
  word(at: number, value: bigint, bits: 32 | 64): void {
    if (bits === 64) this.u64(at, value); else this.u32(at, Number(value & 0xffffffffn));
  }
}

const align8 = (value: number): number => Math.ceil(value / 8) * 8;

export function buildElf(spec: ElfSpec): Uint8Array {
  const bits = spec.bits;
  const ehsize = bits === 64 ? 64 : 52;
  const phentsize = bits === 64 ? 56 : 32;
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
  out.bytes.set([0x7f, 0x45, 0x4c, 0x46, bits === 64 ? 2 : 1, spec.endian === 'little' ? 1 : 2, 1, spec.osabi ?? 0, spec.abiVersion ?? 0]);
  const w = bits === 64 ? 8 : 4;
  out.u16(16, spec.type ?? 2);
  out.u16(18, spec.machine ?? 62);
  out.u32(20, 1);
  out.word(24, spec.entry ?? 0n, bits);
  out.word(24 + w, spec.phoff ?? (segmentCount > 0 ? BigInt(ehsize) : 0n), bits);
  out.word(24 + 2 * w, 0n, bits);
  const after = 24 + 3 * w;
  out.u32(after, spec.flags ?? 0);
  out.u16(after + 4, ehsize);
  out.u16(after + 6, spec.phentsize ?? phentsize);
  out.u16(after + 8, spec.phnum ?? segmentCount);
  out.u16(after + 10, bits === 64 ? 64 : 40);
  out.u16(after + 12, 0);
  out.u16(after + 14, 0);
  const segments = spec.segments?.(at, BigInt(fileSize)) ?? [];
  segments.forEach((segment, index) => {
    const base = ehsize + index * phentsize;
    const vaddr = segment.vaddr ?? BASE_VADDR + segment.offset;
    if (bits === 64) {
      out.u32(base, segment.type);
      out.u32(base + 4, segment.flags ?? 4);
      out.u64(base + 8, segment.offset);
      out.u64(base + 16, vaddr);
      out.u64(base + 24, segment.paddr ?? vaddr);
      out.u64(base + 32, segment.filesz);
      out.u64(base + 40, segment.memsz ?? segment.filesz);
      out.u64(base + 48, segment.align ?? 8n);
    } else {
      out.u32(base, segment.type);
      out.u32(base + 4, Number(segment.offset));
      out.u32(base + 8, Number(vaddr));
      out.u32(base + 12, Number(segment.paddr ?? vaddr));
      out.u32(base + 16, Number(segment.filesz));
      out.u32(base + 20, Number(segment.memsz ?? segment.filesz));
      out.u32(base + 24, segment.flags ?? 4);
      out.u32(base + 28, Number(segment.align ?? 4n));
    }
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
  const size = bits === 64 ? 16 : 8;
  const out = new Writer(entries.length * size, endian);
  entries.forEach(([tag, value], index) => {
    out.word(index * size, BigInt(tag), bits);
    out.word(index * size + size / 2, value, bits);
  });
  return out.bytes;
}

/** One ELF note, name and descriptor padded to `align` bytes. */
export function note(endian: 'little' | 'big', name: string, type: number, desc: Uint8Array, align = 4): Uint8Array {
  const nameBytes = name === '' ? new Uint8Array(0) : cString(name);
  const pad = (value: number): number => Math.ceil(value / align) * align;
  // Padding counts from the start of the note (binutils ELF_NOTE_DESC_OFFSET).
  const descAt = pad(12 + nameBytes.length);
  const out = new Writer(pad(descAt + desc.length), endian);
  out.u32(0, nameBytes.length);
  out.u32(4, desc.length);
  out.u32(8, type);
  out.bytes.set(nameBytes, 12);
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
