// The ELF reader: identification, header, program headers, PT_INTERP, the
// dynamic section (resolved through PT_LOAD like readelf without section
// headers) and PT_NOTE build-ids, for 32/64-bit little/big-endian files.
// summarizeElf gives scan's few fields from the same code at a fraction of
// the cost (no notes, no dynamic strings).
//
// Error policy (hostile input never crashes, hangs or allocates by an
// unchecked count):
// - not "\x7fELF"                                   -> throws ELF_NOT_ELF
// - EI_CLASS or EI_DATA not 1/2 (the layout is unknown) -> throws ELF_MALFORMED
// - the file ends inside the ELF header             -> throws ELF_TRUNCATED
// - everything past the header (program headers, interpreter, dynamic section,
//   notes) that is truncated or impossible          -> a partial result with
//   `problems`; the codes in ELF_PROBLEMS say what the kernel makes of it.
import { ByteReader, FieldView, bytesSource, toFileOffset } from '../bytes/byte-reader.ts';
import type { ByteSource, Endian } from '../bytes/byte-reader.ts';
import { CrossrootError } from '../errors.ts';

export type { ByteSource, Endian } from '../bytes/byte-reader.ts';

export const ELF_MAGIC = Uint8Array.of(0x7f, 0x45, 0x4c, 0x46);

/** e_type values; anything else is 'OTHER' (typeNumber keeps the raw value). */
export const ELF_TYPES = ['NONE', 'REL', 'EXEC', 'DYN', 'CORE'] as const;
export type ElfType = (typeof ELF_TYPES)[number] | 'OTHER';

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
/** Caps that bound the work done on hostile input. */
export const ELF_LIMITS = {
  /**
   * The kernel reads at most 65536 bytes of program headers (1170 ELF64 or
   * 2048 ELF32 entries) and refuses larger tables, so 4096 covers every file it
   * can run; past that the rest is a PHDR_TOO_MANY partial result (building
   * 65535 headers of bigints alone costs tens of milliseconds).
   */
  maxProgramHeaders: 4096,
  maxDynamicEntries: 16384,
  maxDynamicString: 65536,
  /** All dynamic strings of a file together. */
  maxDynamicStringBytes: 1 << 20,
  maxNoteBytes: 1 << 20,
  maxNotes: 4096,
  maxSectionHeaders: 65536,
} as const;

/** Stable codes of the partial-result problems, with what they mean. */
export const ELF_PROBLEMS = {
  PHDR_ENTSIZE: 'e_phentsize is not the program header size of the class (the kernel says ENOEXEC)',
  PHDR_TRUNCATED: 'the program header table ends past the end of the file (the kernel says ENOEXEC)',
  PHDR_TOO_MANY: 'more program headers than the reader reads',
  INTERP_SIZE: 'the PT_INTERP size is outside 2..4096 (the kernel says ENOEXEC)',
  INTERP_UNTERMINATED: 'the PT_INTERP string does not end with a NUL byte (the kernel says ENOEXEC)',
  INTERP_TRUNCATED: 'the PT_INTERP segment ends past the end of the file (the kernel says EIO)',
  DYNAMIC_TRUNCATED: 'the dynamic section ends past the end of the file',
  DYNAMIC_TOO_MANY: 'the dynamic section has more entries than the reader reads',
  STRTAB_UNMAPPED: 'DT_STRTAB is in no PT_LOAD segment and no .dynstr section was found',
  STRING_BAD: 'a dynamic string is outside the string table or not NUL-terminated',
  NOTE_MALFORMED: 'a note in a PT_NOTE segment is malformed',
} as const;
export type ElfProblemCode = keyof typeof ELF_PROBLEMS;

export interface ElfProblem {
  readonly code: ElfProblemCode;
  readonly message: string;
}

export interface ElfProgramHeader {
  /** p_type (see PT). */
  readonly type: number;
  /** p_flags: PF_X 1, PF_W 2, PF_R 4. */
  readonly flags: number;
  readonly offset: bigint;
  readonly vaddr: bigint;
  readonly paddr: bigint;
  readonly filesz: bigint;
  readonly memsz: bigint;
  readonly align: bigint;
}

export interface ElfFile {
  readonly class: 32 | 64;
  readonly endian: Endian;
  /** EI_OSABI (0 System V, 3 GNU/Linux, ...). */
  readonly osabi: number;
  /** EI_ABIVERSION. */
  readonly abiVersion: number;
  /** EI_VERSION (1 = current). */
  readonly identVersion: number;
  /** e_version. */
  readonly version: number;
  readonly type: ElfType;
  readonly typeNumber: number;
  /** e_machine (see elf-machines.ts). */
  readonly machine: number;
  /** e_flags (ARM float ABI, MIPS ABI, ...). */
  readonly flags: number;
  readonly entry: bigint;
  readonly phoff: bigint;
  readonly phentsize: number;
  /** e_phnum as written in the header (PN_XNUM resolved through section 0 when present). */
  readonly phnum: number;
  readonly shoff: bigint;
  readonly shentsize: number;
  readonly shnum: number;
  readonly shstrndx: number;
  /** The program headers that could be read, in file order. */
  readonly programHeaders: readonly ElfProgramHeader[];
  /**
   * The first PT_INTERP's path (up to its first NUL, as the kernel opens it), or
   * null without PT_INTERP. When the kernel would refuse it, `problems` says so
   * (INTERP_SIZE, INTERP_UNTERMINATED -> ENOEXEC; INTERP_TRUNCATED -> EIO).
   */
  readonly interpreter: string | null;
  /** A PT_DYNAMIC segment exists. */
  readonly dynamic: boolean;
  readonly needed: readonly string[];
  readonly soname: string | null;
  readonly runpath: string | null;
  readonly rpath: string | null;
  /** DT_FLAGS, or null when absent. */
  readonly dtFlags: number | null;
  /** DT_FLAGS_1, or null when absent. */
  readonly flags1: number | null;
  /** A position-independent executable (see isPie for the rule). */
  readonly pie: boolean;
  /**
   * Runs without any shared object: EXEC or DYN with no PT_INTERP and no
   * DT_NEEDED. Static executables and static-PIEs (ld.so itself is one) are
   * static; a library that needs others (libm.so.6) is not, as `file` says.
   */
  readonly static: boolean;
  /** Lower-case hex of the NT_GNU_BUILD_ID note, or null. */
  readonly buildId: string | null;
  readonly problems: readonly ElfProblem[];
}

/** True when the bytes start with the ELF magic (needs at least 4 bytes). */
export function looksLikeElf(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

/** Parses from bytes already in memory. */
export function parseElfBytes(bytes: Uint8Array): ElfFile {
  return parseElf(bytesSource(bytes));
}

interface Header {
  readonly is64: boolean;
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

const EHDR_SIZE = { 32: 52, 64: 64 } as const;
const PHDR_SIZE = { 32: 32, 64: 56 } as const;
const SHDR_SIZE = { 32: 40, 64: 64 } as const;
const DYN_SIZE = { 32: 8, 64: 16 } as const;
const SHT_DYNAMIC = 6;
const SHT_STRTAB = 3;

export function parseElf(source: ByteSource): ElfFile {
  const header = readHeader(source);
  const bits = header.is64 ? 64 : 32;
  const reader = new ByteReader(source, header.endian);
  const problems: ElfProblem[] = [];
  const problem = (code: ElfProblemCode, message: string): void => {
    problems.push({ code, message });
  };

  const phnum = resolvePhnum(reader, header);
  const programHeaders = readProgramHeaders(reader, header, phnum, problem);
  const interpreter = readInterpreter(reader, programHeaders, problem);
  const dynamicHeader = programHeaders.find((ph) => ph.type === PT.DYNAMIC);
  const dynamic = dynamicHeader === undefined
    ? emptyDynamic()
    : readDynamic(reader, header, programHeaders, dynamicHeader, problem);
  const buildId = readBuildId(reader, programHeaders, problem);

  const typeNumber = header.typeNumber;
  const type: ElfType = typeNumber < ELF_TYPES.length ? (ELF_TYPES[typeNumber] ?? 'OTHER') : 'OTHER';
  const facts = { type, interpreter, soname: dynamic.soname, flags1: dynamic.flags1 };
  return {
    class: bits,
    endian: header.endian,
    osabi: header.osabi,
    abiVersion: header.abiVersion,
    identVersion: header.identVersion,
    version: header.version,
    type,
    typeNumber,
    machine: header.machine,
    flags: header.flags,
    entry: header.entry,
    phoff: header.phoff,
    phentsize: header.phentsize,
    phnum,
    shoff: header.shoff,
    shentsize: header.shentsize,
    shnum: header.shnum,
    shstrndx: header.shstrndx,
    programHeaders,
    interpreter,
    dynamic: dynamicHeader !== undefined,
    needed: dynamic.needed,
    soname: dynamic.soname,
    runpath: dynamic.runpath,
    rpath: dynamic.rpath,
    dtFlags: dynamic.dtFlags,
    flags1: dynamic.flags1,
    pie: isPie(facts),
    static: (type === 'EXEC' || type === 'DYN') && interpreter === null && dynamic.needed.length === 0,
    buildId,
    problems,
  };
}

/** The facts `crossroot scan` reports, from summarizeElf. */
export interface ElfSummary {
  readonly class: 32 | 64;
  readonly endian: Endian;
  readonly osabi: number;
  readonly type: ElfType;
  readonly typeNumber: number;
  readonly machine: number;
  readonly flags: number;
  readonly interpreter: string | null;
  readonly static: boolean;
}

/** Program headers the summary needs: PT_INTERP, and PT_DYNAMIC with the PT_LOADs that map its strings. */
const keepForSummary = (type: number): boolean => type === PT.INTERP || type === PT.DYNAMIC || type === PT.LOAD;
const ignoreProblem: Report = () => { /* the summary reports no partial-result problems */ };

/**
 * parseElf's header fields, `interpreter` and `static` at a fraction of the
 * cost, for scanning thousands of files: the same header errors, the same
 * values (test: summary agrees with parseElf), but no notes, no dynamic strings
 * (only whether a DT_NEEDED names one), no other program headers, no problems.
 */
export function summarizeElf(source: ByteSource): ElfSummary {
  const header = readHeader(source);
  const reader = new ByteReader(source, header.endian);
  const phnum = resolvePhnum(reader, header);
  const headers = readProgramHeaders(reader, header, phnum, ignoreProblem, keepForSummary);
  const interpreter = readInterpreter(reader, headers, ignoreProblem);
  const typeNumber = header.typeNumber;
  const type: ElfType = typeNumber < ELF_TYPES.length ? (ELF_TYPES[typeNumber] ?? 'OTHER') : 'OTHER';
  let isStatic = false;
  if ((type === 'EXEC' || type === 'DYN') && interpreter === null) {
    const dynamicHeader = headers.find((ph) => ph.type === PT.DYNAMIC);
    isStatic = dynamicHeader === undefined || !namesANeededObject(reader, header, headers, dynamicHeader);
  }
  return {
    class: header.is64 ? 64 : 32,
    endian: header.endian,
    osabi: header.osabi,
    type,
    typeNumber,
    machine: header.machine,
    flags: header.flags,
    interpreter,
    static: isStatic,
  };
}

/**
 * Whether parseElf's `needed` would be non-empty: some DT_NEEDED offset lies
 * inside a string table that can be located (readDynamic reads the first such
 * string whatever its bytes, as the budget is still whole then).
 */
function namesANeededObject(reader: ByteReader, header: Header, headers: readonly ElfProgramHeader[], segment: ElfProgramHeader): boolean {
  const table = readDynamicTable(reader, header, segment, ignoreProblem);
  if (table === null || table.neededOffsets.length === 0) return false;
  const strings = locateStringTable(reader, header, headers, table.strtab, table.strsz);
  if (strings === null) return false;
  const size = BigInt(strings.size);
  return table.neededOffsets.some((offset) => offset < size);
}

/**
 * PIE: an ET_DYN that is an executable, not a library. Either DT_FLAGS_1 has
 * DF_1_PIE (set by every binutils since 2.26 and lld for -pie, including
 * static-pie), or it has a PT_INTERP and no DT_SONAME (older PIEs without the
 * flag). The SONAME test keeps out libraries that carry a PT_INTERP so that
 * they can also be run (glibc's libc.so.6, libpthread): `file` calls those
 * "shared object" too, as it does ld.so (no PT_INTERP, no DF_1_PIE).
 */
export function isPie(facts: { type: ElfType; interpreter: string | null; soname: string | null; flags1: number | null }): boolean {
  if (facts.type !== 'DYN') return false;
  if (facts.flags1 !== null && (facts.flags1 & DF_1_PIE) !== 0) return true;
  return facts.interpreter !== null && facts.soname === null;
}

function readHeader(source: ByteSource): Header {
  const reader = new ByteReader(source, 'little');
  const ident = reader.bytesPartial(0, 16);
  if (!looksLikeElf(ident)) {
    throw new CrossrootError('ELF_NOT_ELF', `read ELF header: the file does not start with '\\x7fELF'`);
  }
  if (ident.length < 16) {
    throw new CrossrootError('ELF_TRUNCATED', `read ELF header: file ends at byte '${ident.length}'`);
  }
  const elfClass = ident[4] ?? 0;
  const data = ident[5] ?? 0;
  if (elfClass !== 1 && elfClass !== 2) {
    throw new CrossrootError('ELF_MALFORMED', `read ELF header: EI_CLASS is '${elfClass}', not 1 (32-bit) or 2 (64-bit)`);
  }
  if (data !== 1 && data !== 2) {
    throw new CrossrootError('ELF_MALFORMED', `read ELF header: EI_DATA is '${data}', not 1 (little-endian) or 2 (big-endian)`);
  }
  const is64 = elfClass === 2;
  const endian: Endian = data === 1 ? 'little' : 'big';
  const size = EHDR_SIZE[is64 ? 64 : 32];
  const raw = reader.bytesPartial(0, size);
  if (raw.length < size) {
    throw new CrossrootError('ELF_TRUNCATED', `read ELF header: file ends at byte '${raw.length}', the header needs '${size}'`);
  }
  // raw holds the whole header (checked above): fields are read straight from it.
  const f = new DataView(raw.buffer, raw.byteOffset, size);
  const little = endian === 'little';
  const word = (at: number): bigint => (is64 ? f.getBigUint64(at, little) : BigInt(f.getUint32(at, little)));
  // Offsets after e_entry shift by the address size.
  const w = is64 ? 8 : 4;
  const after = 24 + 3 * w; // e_flags
  return {
    is64,
    endian,
    identVersion: ident[6] ?? 0,
    osabi: ident[7] ?? 0,
    abiVersion: ident[8] ?? 0,
    typeNumber: f.getUint16(16, little),
    machine: f.getUint16(18, little),
    version: f.getUint32(20, little),
    entry: word(24),
    phoff: word(24 + w),
    shoff: word(24 + 2 * w),
    flags: f.getUint32(after, little),
    phentsize: f.getUint16(after + 6, little),
    phnum: f.getUint16(after + 8, little),
    shentsize: f.getUint16(after + 10, little),
    shnum: f.getUint16(after + 12, little),
    shstrndx: f.getUint16(after + 14, little),
  };
}

/** e_phnum, or section 0's sh_info when e_phnum is PN_XNUM (as readelf does). */
function resolvePhnum(reader: ByteReader, header: Header): number {
  if (header.phnum !== PN_XNUM || header.shoff === 0n) return header.phnum;
  const shdrSize = SHDR_SIZE[header.is64 ? 64 : 32];
  if (header.shentsize < shdrSize || !reader.contains(header.shoff, shdrSize)) return header.phnum;
  const section0 = reader.fields(Number(header.shoff), shdrSize, 'section header 0');
  const info = section0.u32(header.is64 ? 44 : 28);
  return info === 0 ? header.phnum : info;
}

type Report = (code: ElfProblemCode, message: string) => void;

/**
 * The program headers in file order; with `keep`, only those whose p_type it
 * accepts (the rest are still counted, checked and skipped, never built).
 */
function readProgramHeaders(
  reader: ByteReader, header: Header, phnum: number, problem: Report, keep?: (type: number) => boolean,
): ElfProgramHeader[] {
  if (phnum === 0) return [];
  const expected = PHDR_SIZE[header.is64 ? 64 : 32];
  if (header.phentsize < expected) {
    problem('PHDR_ENTSIZE', `read program headers: e_phentsize is '${header.phentsize}', a ${header.is64 ? 64 : 32}-bit header is '${expected}' bytes`);
    return [];
  }
  if (header.phentsize > expected) {
    // readelf reads with the larger stride; the kernel refuses the file.
    problem('PHDR_ENTSIZE', `read program headers: e_phentsize is '${header.phentsize}', a ${header.is64 ? 64 : 32}-bit header is '${expected}' bytes`);
  }
  const stride = header.phentsize;
  const size = reader.size;
  if (header.phoff >= BigInt(size)) {
    problem('PHDR_TRUNCATED', `read program headers: e_phoff '${header.phoff}' is past the end of the file at byte '${size}'`);
    return [];
  }
  const start = Number(header.phoff);
  // Whole entries that fit in the file, never more than the header claims or the cap.
  const fitting = Math.floor((size - start - expected) / stride) + 1;
  let count = Math.min(phnum, Math.max(0, fitting));
  if (count < phnum) {
    problem('PHDR_TRUNCATED', `read program headers: '${phnum}' headers at byte '${start}' end past the end of the file at byte '${size}', read '${count}'`);
  }
  if (count > ELF_LIMITS.maxProgramHeaders) {
    problem('PHDR_TOO_MANY', `read program headers: '${phnum}' headers, read the first '${ELF_LIMITS.maxProgramHeaders}'`);
    count = ELF_LIMITS.maxProgramHeaders;
  }
  if (count === 0) return [];
  const bytes = reader.bytes(start, (count - 1) * stride + expected, 'program headers');
  // Every entry lies inside `bytes` by construction of `count`: read fields straight from it.
  const table = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const little = header.endian === 'little';
  const u32 = (at: number): number => table.getUint32(at, little);
  const u64 = (at: number): bigint => table.getBigUint64(at, little);
  const headers: ElfProgramHeader[] = [];
  for (let index = 0; index < count; index += 1) {
    const at = index * stride;
    if (keep !== undefined && !keep(u32(at))) continue;
    headers.push(header.is64
      ? {
        type: u32(at),
        flags: u32(at + 4),
        offset: u64(at + 8),
        vaddr: u64(at + 16),
        paddr: u64(at + 24),
        filesz: u64(at + 32),
        memsz: u64(at + 40),
        align: u64(at + 48),
      }
      : {
        // Same key order as above: one object shape for both classes keeps the readers monomorphic.
        type: u32(at),
        flags: u32(at + 24),
        offset: BigInt(u32(at + 4)),
        vaddr: BigInt(u32(at + 8)),
        paddr: BigInt(u32(at + 12)),
        filesz: BigInt(u32(at + 16)),
        memsz: BigInt(u32(at + 20)),
        align: BigInt(u32(at + 28)),
      });
  }
  return headers;
}

/** The first PT_INTERP, with the kernel's checks (fs/binfmt_elf.c load_elf_binary). */
function readInterpreter(reader: ByteReader, headers: readonly ElfProgramHeader[], problem: Report): string | null {
  const interp = headers.find((ph) => ph.type === PT.INTERP);
  if (interp === undefined) return null;
  const { offset, filesz } = interp;
  if (filesz < 2n || filesz > BigInt(PATH_MAX)) {
    problem('INTERP_SIZE', `read PT_INTERP: size '${filesz}' is outside '2'..'${PATH_MAX}'`);
  }
  const wanted = Number(filesz > BigInt(PATH_MAX) ? BigInt(PATH_MAX) : filesz);
  if (!reader.contains(offset, filesz)) {
    problem('INTERP_TRUNCATED', `read PT_INTERP: bytes at '${offset}' of size '${filesz}' end past the end of the file at byte '${reader.size}'`);
  }
  const start = offset > BigInt(reader.size) ? reader.size : Number(offset);
  const raw = reader.bytesPartial(start, wanted);
  const nul = raw.indexOf(0);
  if (raw.length === wanted && wanted >= 2 && filesz <= BigInt(PATH_MAX) && raw[wanted - 1] !== 0) {
    problem('INTERP_UNTERMINATED', `read PT_INTERP: the last of its '${wanted}' bytes is not NUL`);
  }
  return decodeText(nul >= 0 ? raw.subarray(0, nul) : raw);
}

interface DynamicFacts {
  readonly needed: string[];
  readonly soname: string | null;
  readonly runpath: string | null;
  readonly rpath: string | null;
  readonly dtFlags: number | null;
  readonly flags1: number | null;
}

function emptyDynamic(): DynamicFacts {
  return { needed: [], soname: null, runpath: null, rpath: null, dtFlags: null, flags1: null };
}

interface StringTable {
  readonly offset: number;
  /** Bytes from offset that belong to the table (DT_STRSZ, clipped to the file). */
  readonly size: number;
}

/** The dynamic section's entries that matter, string offsets not yet resolved. */
interface DynamicTable {
  readonly neededOffsets: readonly bigint[];
  readonly soname: bigint | null;
  readonly runpath: bigint | null;
  readonly rpath: bigint | null;
  readonly strtab: bigint | null;
  readonly strsz: bigint | null;
  readonly dtFlags: number | null;
  readonly flags1: number | null;
}

function readDynamic(
  reader: ByteReader,
  header: Header,
  headers: readonly ElfProgramHeader[],
  segment: ElfProgramHeader,
  problem: Report,
): DynamicFacts {
  const table = readDynamicTable(reader, header, segment, problem);
  if (table === null) return emptyDynamic();
  const { neededOffsets, soname, runpath, rpath, strtab, strsz } = table;
  const wantsStrings = neededOffsets.length > 0 || soname !== null || runpath !== null || rpath !== null;
  let strings: StringTable | null = null;
  if (wantsStrings) {
    strings = locateStringTable(reader, header, headers, strtab, strsz);
    if (strings === null) {
      problem('STRTAB_UNMAPPED', `read dynamic strings: DT_STRTAB '${strtab === null ? 'absent' : `0x${strtab.toString(16)}`}' is in no PT_LOAD segment`);
    }
  }
  let budget: number = ELF_LIMITS.maxDynamicStringBytes;
  const text = (offset: bigint | null, tag: string): string | null => {
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

/** Walks the dynamic section up to DT_NULL (bounded); null when it starts past the end of the file. */
function readDynamicTable(reader: ByteReader, header: Header, segment: ElfProgramHeader, problem: Report): DynamicTable | null {
  const is64 = header.is64;
  const entrySize = DYN_SIZE[is64 ? 64 : 32];
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
  let count = Math.floor(declared / entrySize);
  const capped = count > ELF_LIMITS.maxDynamicEntries;
  if (capped) count = ELF_LIMITS.maxDynamicEntries;
  const table = reader.fields(start, count * entrySize, 'dynamic section');

  const neededOffsets: bigint[] = [];
  let soname: bigint | null = null;
  let runpath: bigint | null = null;
  let rpath: bigint | null = null;
  let strtab: bigint | null = null;
  let strsz: bigint | null = null;
  let dtFlags: number | null = null;
  let flags1: number | null = null;
  let ended = false;
  // d_tag as a number (-1 for a 64-bit tag above 2^32, which is none of DT's),
  // read straight from the table (every index is inside it by construction):
  // this loop runs for every entry of every file scan looks at. d_val is made
  // a bigint only for the tags kept.
  const half = entrySize / 2;
  const little = header.endian === 'little';
  const view = new DataView(table.bytes.buffer, table.bytes.byteOffset, table.bytes.length);
  const highAt = little ? 4 : 0;
  const lowAt = little ? 0 : 4;
  for (let index = 0; index < count; index += 1) {
    const at = index * entrySize;
    let tag: number;
    if (is64) {
      tag = view.getUint32(at + highAt, little) === 0 ? view.getUint32(at + lowAt, little) : -1;
    } else {
      tag = view.getUint32(at, little);
    }
    if (tag === DT.NULL) {
      ended = true;
      break;
    }
    switch (tag) {
      case DT.NEEDED: neededOffsets.push(table.word(at + half, is64)); break;
      case DT.SONAME: soname = table.word(at + half, is64); break;
      case DT.RUNPATH: runpath = table.word(at + half, is64); break;
      case DT.RPATH: rpath = table.word(at + half, is64); break;
      case DT.STRTAB: strtab = table.word(at + half, is64); break;
      case DT.STRSZ: strsz = table.word(at + half, is64); break;
      case DT.FLAGS: dtFlags = Number(table.word(at + half, is64) & 0xffffffffn); break;
      case DT.FLAGS_1: flags1 = Number(table.word(at + half, is64) & 0xffffffffn); break;
      default: break;
    }
  }
  if (capped && !ended) {
    problem('DYNAMIC_TOO_MANY', `read dynamic section: more than '${ELF_LIMITS.maxDynamicEntries}' entries, read those`);
  }

  return { neededOffsets, soname, runpath, rpath, strtab, strsz, dtFlags, flags1 };
}

/** File offset of the dynamic string table: DT_STRTAB through PT_LOAD, else the .dynamic section's sh_link. */
function locateStringTable(
  reader: ByteReader,
  header: Header,
  headers: readonly ElfProgramHeader[],
  strtab: bigint | null,
  strsz: bigint | null,
): StringTable | null {
  const size = reader.size;
  const clip = (offset: bigint, length: bigint | null): StringTable | null => {
    if (offset < 0n || offset >= BigInt(size)) return null;
    const start = Number(offset);
    const room = size - start;
    const bytes = length === null || length > BigInt(room) ? room : Number(length);
    return { offset: start, size: bytes };
  };
  if (strtab !== null) {
    for (const ph of headers) {
      if (ph.type !== PT.LOAD) continue;
      if (strtab >= ph.vaddr && strtab < ph.vaddr + ph.filesz) {
        const found = clip(ph.offset + (strtab - ph.vaddr), strsz);
        if (found !== null) return found;
      }
    }
  }
  return dynstrFromSections(reader, header, clip);
}

function dynstrFromSections(
  reader: ByteReader,
  header: Header,
  clip: (offset: bigint, length: bigint | null) => StringTable | null,
): StringTable | null {
  const expected = SHDR_SIZE[header.is64 ? 64 : 32];
  if (header.shoff === 0n || header.shnum === 0 || header.shentsize < expected) return null;
  if (header.shoff >= BigInt(reader.size)) return null;
  const start = Number(header.shoff);
  const fitting = Math.floor((reader.size - start - expected) / header.shentsize) + 1;
  const count = Math.min(header.shnum, Math.max(0, fitting), ELF_LIMITS.maxSectionHeaders);
  if (count <= 0) return null;
  const table = reader.fields(start, (count - 1) * header.shentsize + expected, 'section headers');
  const is64 = header.is64;
  const section = (index: number): { type: number; link: number; offset: bigint; size: bigint } => {
    const at = index * header.shentsize;
    return is64
      ? { type: table.u32(at + 4), link: table.u32(at + 40), offset: table.u64(at + 24), size: table.u64(at + 32) }
      : { type: table.u32(at + 4), link: table.u32(at + 24), offset: BigInt(table.u32(at + 16)), size: BigInt(table.u32(at + 20)) };
  };
  for (let index = 0; index < count; index += 1) {
    const dynamicSection = section(index);
    if (dynamicSection.type !== SHT_DYNAMIC) continue;
    if (dynamicSection.link >= count) return null;
    const strings = section(dynamicSection.link);
    if (strings.type !== SHT_STRTAB) return null;
    return clip(strings.offset, strings.size);
  }
  return null;
}

/**
 * The first NT_GNU_BUILD_ID note named "GNU" in any PT_NOTE segment. The work
 * is bounded across all segments together (phnum may be 65535 notes over the
 * same megabytes): at most maxNoteBytes read and maxNotes notes walked in all.
 */
function readBuildId(reader: ByteReader, headers: readonly ElfProgramHeader[], problem: Report): string | null {
  const budget = { bytes: ELF_LIMITS.maxNoteBytes, notes: ELF_LIMITS.maxNotes, reported: false };
  for (const ph of headers) {
    if (budget.bytes <= 0 || budget.notes <= 0) break;
    if (ph.type !== PT.NOTE) continue;
    if (ph.offset >= BigInt(reader.size) || ph.filesz === 0n) continue;
    const start = toFileOffset(ph.offset, reader.size, 'PT_NOTE');
    const room = Math.min(reader.size - start, budget.bytes);
    const length = ph.filesz > BigInt(room) ? room : Number(ph.filesz);
    budget.bytes -= length;
    // readelf: notes in a segment aligned to 8 use 8-byte padding, else 4.
    const align = ph.align === 8n ? 8 : 4;
    const notes = new FieldView(reader.bytes(start, length, 'PT_NOTE'), reader.endian, 'PT_NOTE');
    const found = findBuildId(notes, align, budget, problem);
    if (found !== null) return found;
  }
  return null;
}

function findBuildId(notes: FieldView, align: number, budget: { notes: number; reported: boolean }, problem: Report): string | null {
  const pad = (value: number): number => Math.ceil(value / align) * align;
  let at = 0;
  while (budget.notes > 0 && at + 12 <= notes.length) {
    budget.notes -= 1;
    const namesz = notes.u32(at);
    const descsz = notes.u32(at + 4);
    const type = notes.u32(at + 8);
    const nameAt = at + 12;
    // binutils ELF_NOTE_DESC_OFFSET / ELF_NOTE_NEXT_OFFSET: padding counts from the note's start.
    const descAt = at + pad(12 + namesz);
    const next = at + pad(descAt - at + descsz);
    if (descAt + descsz > notes.length) {
      if (!budget.reported) {
        problem('NOTE_MALFORMED', `read notes: the note at '${at}' of sizes '${namesz}'/'${descsz}' ends past its segment of '${notes.length}' bytes`);
        budget.reported = true;
      }
      return null;
    }
    if (type === NT_GNU_BUILD_ID && namesz === 4 && isGnuName(notes.bytes, nameAt)) {
      return hex(notes.bytes.subarray(descAt, descAt + descsz));
    }
    at = next;
  }
  return null;
}

/** The note name is "GNU\0" (byte order does not apply to names). */
function isGnuName(bytes: Uint8Array, at: number): boolean {
  return bytes[at] === 0x47 && bytes[at + 1] === 0x4e && bytes[at + 2] === 0x55 && bytes[at + 3] === 0;
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

const textDecoder = new TextDecoder('utf-8', { fatal: false });
function decodeText(bytes: Uint8Array): string {
  return textDecoder.decode(bytes);
}
