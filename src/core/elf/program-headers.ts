// Program headers and PT_INTERP, with the kernel's checks
// (fs/binfmt_elf.c load_elf_phdrs, load_elf_binary): a table that is
// truncated, of the wrong entry size or too long, and an interpreter path of
// an impossible size or without its NUL are partial results with problems.
import type { ByteReader } from '../bytes/byte-reader.ts';
import type { ElfHeader } from './header.ts';
import { PATH_MAX, PHDR, PN_XNUM, PT } from './layout.ts';
import { ELF_LIMITS } from './problems.ts';
import type { Report } from './problems.ts';
import { sectionZeroInfo } from './sections.ts';

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

/** e_phnum, or section 0's sh_info when e_phnum is PN_XNUM (as readelf does). */
export function resolvePhnum(reader: ByteReader, header: ElfHeader): number {
  if (header.phnum !== PN_XNUM) return header.phnum;
  const info = sectionZeroInfo(reader, header);
  return info === null || info === 0 ? header.phnum : info;
}

/** How many whole entries to read at which offset, with the problems of the table; null when none can be read. */
function tableExtent(reader: ByteReader, header: ElfHeader, phnum: number, problem: Report): { start: number; count: number } | null {
  if (phnum === 0) return null;
  const expected = PHDR[header.class].size;
  if (header.phentsize !== expected) {
    // Smaller: unreadable. Larger: readelf reads with the larger stride; the kernel refuses the file.
    problem('PHDR_ENTSIZE', `read program headers: e_phentsize is '${header.phentsize}', a ${header.class}-bit header is '${expected}' bytes`);
    if (header.phentsize < expected) return null;
  }
  const size = reader.size;
  if (header.phoff >= BigInt(size)) {
    problem('PHDR_TRUNCATED', `read program headers: e_phoff '${header.phoff}' is past the end of the file at byte '${size}'`);
    return null;
  }
  const start = Number(header.phoff);
  // Whole entries that fit in the file, never more than the header claims or the cap.
  const fitting = Math.floor((size - start - expected) / header.phentsize) + 1;
  let count = Math.min(phnum, Math.max(0, fitting));
  if (count < phnum) {
    problem('PHDR_TRUNCATED', `read program headers: '${phnum}' headers at byte '${start}' end past the end of the file at byte '${size}', read '${count}'`);
  }
  if (count > ELF_LIMITS.maxProgramHeaders) {
    problem('PHDR_TOO_MANY', `read program headers: '${phnum}' headers, read the first '${ELF_LIMITS.maxProgramHeaders}'`);
    count = ELF_LIMITS.maxProgramHeaders;
  }
  return count === 0 ? null : { start, count };
}

/**
 * The program headers in file order; with `keep`, only those whose p_type it
 * accepts (the rest are still counted, checked and skipped, never built).
 */
export function readProgramHeaders(
  reader: ByteReader, header: ElfHeader, phnum: number, problem: Report, keep?: (type: number) => boolean,
): ElfProgramHeader[] {
  const extent = tableExtent(reader, header, phnum, problem);
  if (extent === null) return [];
  const { start, count } = extent;
  const stride = header.phentsize;
  const layout = PHDR[header.class];
  const bytes = reader.bytes(start, (count - 1) * stride + layout.size, 'program headers');
  // Every entry lies inside `bytes` by construction of `count`: read fields straight from it.
  // This loop runs for every file scan looks at: the field offsets are taken out of the layout once.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const little = header.endian === 'little';
  const is64 = header.class === 64;
  const { type, flags, offset, vaddr, paddr, filesz, memsz, align } = layout.fields;
  const word = is64
    ? (at: number): bigint => view.getBigUint64(at, little)
    : (at: number): bigint => BigInt(view.getUint32(at, little));
  const headers: ElfProgramHeader[] = [];
  for (let index = 0; index < count; index += 1) {
    const at = index * stride;
    const kind = view.getUint32(at + type.at, little);
    if (keep !== undefined && !keep(kind)) continue;
    // One key order for both classes: one object shape keeps the readers monomorphic.
    headers.push({
      type: kind,
      flags: view.getUint32(at + flags.at, little),
      offset: word(at + offset.at),
      vaddr: word(at + vaddr.at),
      paddr: word(at + paddr.at),
      filesz: word(at + filesz.at),
      memsz: word(at + memsz.at),
      align: word(at + align.at),
    });
  }
  return headers;
}

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** The first PT_INTERP, with the kernel's checks (fs/binfmt_elf.c load_elf_binary). */
export function readInterpreter(reader: ByteReader, headers: readonly ElfProgramHeader[], problem: Report): string | null {
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
  return textDecoder.decode(nul >= 0 ? raw.subarray(0, nul) : raw);
}
