// The dynamic section: DT_NEEDED, DT_SONAME, DT_RUNPATH, DT_RPATH, DT_FLAGS
// and DT_FLAGS_1, with its strings found the way readelf finds them without
// section headers (DT_STRTAB through the PT_LOAD that maps it), else through
// the .dynamic section's sh_link. The walk stops at DT_NULL and is bounded in
// entries, in bytes per string and in string bytes in all.
import type { ByteReader } from '../bytes/byte-reader.ts';
import type { ElfHeader } from './header.ts';
import { DT, DYN, PT } from './layout.ts';
import type { ElfProgramHeader } from './program-headers.ts';
import { ELF_LIMITS, ignoreProblem } from './problems.ts';
import type { Report } from './problems.ts';
import { clipToFile, dynamicStringSection } from './sections.ts';
import type { SectionRange } from './sections.ts';

export interface DynamicFacts {
  readonly needed: string[];
  readonly soname: string | null;
  readonly runpath: string | null;
  readonly rpath: string | null;
  readonly dtFlags: number | null;
  readonly flags1: number | null;
}

export function emptyDynamic(): DynamicFacts {
  return { needed: [], soname: null, runpath: null, rpath: null, dtFlags: null, flags1: null };
}

/** The dynamic section's entries that matter, string offsets not yet resolved. */
interface DynamicTable {
  neededOffsets: bigint[];
  soname: bigint | null;
  runpath: bigint | null;
  rpath: bigint | null;
  strtab: bigint | null;
  strsz: bigint | null;
  dtFlags: number | null;
  flags1: number | null;
}

export function readDynamic(
  reader: ByteReader,
  header: ElfHeader,
  headers: readonly ElfProgramHeader[],
  segment: ElfProgramHeader,
  problem: Report,
): DynamicFacts {
  const table = readDynamicTable(reader, header, segment, problem);
  if (table === null) return emptyDynamic();
  const { neededOffsets, soname, runpath, rpath, strtab, strsz } = table;
  const wantsStrings = neededOffsets.length > 0 || soname !== null || runpath !== null || rpath !== null;
  let strings: SectionRange | null = null;
  if (wantsStrings) {
    strings = locateStringTable(reader, header, headers, strtab, strsz);
    if (strings === null) {
      problem('STRTAB_UNMAPPED', `read dynamic strings: DT_STRTAB '${strtab === null ? 'absent' : `0x${strtab.toString(16)}`}' is in no PT_LOAD segment`);
    }
  }
  const text = stringReader(reader, strings, problem);
  const needed: string[] = [];
  for (const offset of neededOffsets) {
    const name = text(offset, 'DT_NEEDED');
    if (name !== null) needed.push(name);
  }
  return {
    needed,
    soname: text(soname, 'DT_SONAME'),
    runpath: text(runpath, 'DT_RUNPATH'),
    rpath: text(rpath, 'DT_RPATH'),
    dtFlags: table.dtFlags,
    flags1: table.flags1,
  };
}

/** Reads strings of the table by offset, within one budget of bytes for them all. */
function stringReader(reader: ByteReader, strings: SectionRange | null, problem: Report): (offset: bigint | null, tag: string) => string | null {
  let budget: number = ELF_LIMITS.maxDynamicStringBytes;
  return (offset, tag) => {
    if (offset === null || strings === null) return null;
    if (offset >= BigInt(strings.size)) {
      problem('STRING_BAD', `read ${tag}: offset '${offset}' is past the string table of '${strings.size}' bytes`);
      return null;
    }
    if (budget <= 0) {
      if (budget === 0) problem('STRING_BAD', `read ${tag}: the dynamic strings exceed '${ELF_LIMITS.maxDynamicStringBytes}' bytes in all`);
      budget = -1;
      return null;
    }
    const limit = Math.min(strings.size - Number(offset), ELF_LIMITS.maxDynamicString, budget);
    const read = reader.cString(strings.offset + Number(offset), limit);
    budget = Math.max(0, budget - read.bytes.length - 1);
    if (!read.terminated) {
      problem('STRING_BAD', `read ${tag}: the string at '${offset}' has no NUL within '${limit}' bytes`);
    }
    return read.value;
  };
}

/**
 * Whether parseElf's `needed` would be non-empty: some DT_NEEDED offset lies
 * inside a string table that can be located (readDynamic reads the first such
 * string whatever its bytes, as the budget is still whole then).
 */
export function namesANeededObject(reader: ByteReader, header: ElfHeader, headers: readonly ElfProgramHeader[], segment: ElfProgramHeader): boolean {
  const table = readDynamicTable(reader, header, segment, ignoreProblem);
  if (table === null || table.neededOffsets.length === 0) return false;
  const strings = locateStringTable(reader, header, headers, table.strtab, table.strsz);
  if (strings === null) return false;
  const size = BigInt(strings.size);
  return table.neededOffsets.some((offset) => offset < size);
}

/** The entries of the segment's table that fit in the file (capped), with its problems; null when it starts past the end. */
function dynamicExtent(reader: ByteReader, entrySize: number, segment: ElfProgramHeader, problem: Report): { start: number; count: number; capped: boolean } | null {
  const size = reader.size;
  if (segment.offset >= BigInt(size)) {
    problem('DYNAMIC_TRUNCATED', `read dynamic section: offset '${segment.offset}' is past the end of the file at byte '${size}'`);
    return null;
  }
  const start = Number(segment.offset);
  const available = size - start;
  const declared = segment.filesz > BigInt(available) ? available : Number(segment.filesz);
  if (segment.filesz > BigInt(available)) {
    problem('DYNAMIC_TRUNCATED', `read dynamic section: '${segment.filesz}' bytes at '${start}' end past the end of the file at byte '${size}'`);
  }
  const count = Math.floor(declared / entrySize);
  const capped = count > ELF_LIMITS.maxDynamicEntries;
  return { start, count: capped ? ELF_LIMITS.maxDynamicEntries : count, capped };
}

/** Walks the dynamic section up to DT_NULL (bounded); null when it starts past the end of the file. */
function readDynamicTable(reader: ByteReader, header: ElfHeader, segment: ElfProgramHeader, problem: Report): DynamicTable | null {
  const layout = DYN[header.class];
  const extent = dynamicExtent(reader, layout.size, segment, problem);
  if (extent === null) return null;
  const { start, count, capped } = extent;
  const table = reader.fields(start, count * layout.size, 'dynamic section');
  const found: DynamicTable = { neededOffsets: [], soname: null, runpath: null, rpath: null, strtab: null, strsz: null, dtFlags: null, flags1: null };
  // d_tag as a number (-1 for a 64-bit tag above 2^32, which is none of DT's),
  // read straight from the table (every index is inside it by construction):
  // this loop runs for every entry of every file scan looks at. d_val is made
  // a bigint only for the tags kept.
  const is64 = header.class === 64;
  const little = header.endian === 'little';
  const view = new DataView(table.bytes.buffer, table.bytes.byteOffset, table.bytes.length);
  const highAt = little ? 4 : 0;
  const lowAt = little ? 0 : 4;
  const valueAt = layout.fields.value.at;
  let ended = false;
  for (let index = 0; index < count; index += 1) {
    const at = index * layout.size;
    const tag = is64
      ? (view.getUint32(at + highAt, little) === 0 ? view.getUint32(at + lowAt, little) : -1)
      : view.getUint32(at, little);
    if (tag === DT.NULL) {
      ended = true;
      break;
    }
    const value = at + valueAt;
    switch (tag) {
      case DT.NEEDED: found.neededOffsets.push(table.word(value, is64)); break;
      case DT.SONAME: found.soname = table.word(value, is64); break;
      case DT.RUNPATH: found.runpath = table.word(value, is64); break;
      case DT.RPATH: found.rpath = table.word(value, is64); break;
      case DT.STRTAB: found.strtab = table.word(value, is64); break;
      case DT.STRSZ: found.strsz = table.word(value, is64); break;
      case DT.FLAGS: found.dtFlags = Number(table.word(value, is64) & 0xffffffffn); break;
      case DT.FLAGS_1: found.flags1 = Number(table.word(value, is64) & 0xffffffffn); break;
      default: break;
    }
  }
  if (capped && !ended) {
    problem('DYNAMIC_TOO_MANY', `read dynamic section: more than '${ELF_LIMITS.maxDynamicEntries}' entries, read those`);
  }
  return found;
}

/** File range of the dynamic string table: DT_STRTAB through PT_LOAD, else the .dynamic section's sh_link. */
function locateStringTable(
  reader: ByteReader,
  header: ElfHeader,
  headers: readonly ElfProgramHeader[],
  strtab: bigint | null,
  strsz: bigint | null,
): SectionRange | null {
  if (strtab !== null) {
    for (const ph of headers) {
      if (ph.type !== PT.LOAD) continue;
      if (strtab >= ph.vaddr && strtab < ph.vaddr + ph.filesz) {
        const found = clipToFile(ph.offset + (strtab - ph.vaddr), strsz, reader.size);
        if (found !== null) return found;
      }
    }
  }
  return dynamicStringSection(reader, header);
}
