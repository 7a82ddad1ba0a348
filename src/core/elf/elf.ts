// The ELF reader's entry point: parseElf reads identification, header,
// program headers, PT_INTERP, the dynamic section and the build-id note of
// 32/64-bit little/big-endian files; summarizeElf gives scan's few fields from
// the same code at a fraction of the cost (no notes, no dynamic strings). The
// layout is data in layout.ts; one module per part of the file decodes it.
//
// Error policy (hostile input never crashes, hangs or allocates by an
// unchecked count):
// - not "\x7fELF"                                   -> throws ELF_NOT_ELF
// - EI_CLASS or EI_DATA not 1/2 (the layout is unknown) -> throws ELF_MALFORMED
// - the file ends inside the ELF header             -> throws ELF_TRUNCATED
// - everything past the header (program headers, interpreter, dynamic section,
//   notes) that is truncated or impossible          -> a partial result with
//   `problems`; the codes in ELF_PROBLEMS (problems.ts) say what the kernel makes of it.
import { ByteReader, bytesSource } from '../bytes/byte-reader.ts';
import type { ByteSource, Endian } from '../bytes/byte-reader.ts';
import { emptyDynamic, namesANeededObject, readDynamic } from './dynamic.ts';
import { readHeader } from './header.ts';
import { DF_1_PIE, ELF_TYPES, PT } from './layout.ts';
import { readBuildId } from './notes.ts';
import { ignoreProblem } from './problems.ts';
import type { ElfProblem, ElfProblemCode } from './problems.ts';
import { readInterpreter, readProgramHeaders, resolvePhnum } from './program-headers.ts';
import type { ElfProgramHeader } from './program-headers.ts';

export type { ByteSource, Endian } from '../bytes/byte-reader.ts';
export { looksLikeElf } from './header.ts';
export { DF_1_PIE, DT, ELF_MAGIC, ELF_TYPES, NT_GNU_BUILD_ID, PATH_MAX, PN_XNUM, PT } from './layout.ts';
export { ELF_LIMITS, ELF_PROBLEMS } from './problems.ts';
export type { ElfProblem, ElfProblemCode } from './problems.ts';
export type { ElfProgramHeader } from './program-headers.ts';

/** e_type by name; anything else is 'OTHER' (typeNumber keeps the raw value). */
export type ElfType = (typeof ELF_TYPES)[number] | 'OTHER';

function typeOf(typeNumber: number): ElfType {
  return ELF_TYPES[typeNumber] ?? 'OTHER';
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
  /** e_machine (see machines.ts). */
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

/** Parses from bytes already in memory. */
export function parseElfBytes(bytes: Uint8Array): ElfFile {
  return parseElf(bytesSource(bytes));
}

export function parseElf(source: ByteSource): ElfFile {
  const header = readHeader(source);
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
  const type = typeOf(typeNumber);
  const facts = { type, interpreter, soname: dynamic.soname, flags1: dynamic.flags1 };
  return {
    class: header.class,
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
  const type = typeOf(typeNumber);
  let isStatic = false;
  if ((type === 'EXEC' || type === 'DYN') && interpreter === null) {
    const dynamicHeader = headers.find((ph) => ph.type === PT.DYNAMIC);
    isStatic = dynamicHeader === undefined || !namesANeededObject(reader, header, headers, dynamicHeader);
  }
  return {
    class: header.class,
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
