// PT_NOTE segments and the GNU build-id note (NT_GNU_BUILD_ID named "GNU"),
// padded the way binutils reads them.
import { FieldView, toFileOffset } from '../bytes/byte-reader.ts';
import type { ByteReader } from '../bytes/byte-reader.ts';
import { NHDR, NT_GNU_BUILD_ID, PT } from './layout.ts';
import type { ElfProgramHeader } from './program-headers.ts';
import { ELF_LIMITS } from './problems.ts';
import type { Report } from './problems.ts';

interface NoteBudget {
  bytes: number;
  notes: number;
  reported: boolean;
}

/**
 * The first NT_GNU_BUILD_ID note named "GNU" in any PT_NOTE segment, as
 * lower-case hex. The work is bounded across all segments together (phnum may
 * be 65535 notes over the same megabytes): at most maxNoteBytes read and
 * maxNotes notes walked in all.
 */
export function readBuildId(reader: ByteReader, headers: readonly ElfProgramHeader[], problem: Report): string | null {
  const budget: NoteBudget = { bytes: ELF_LIMITS.maxNoteBytes, notes: ELF_LIMITS.maxNotes, reported: false };
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

function findBuildId(notes: FieldView, align: number, budget: NoteBudget, problem: Report): string | null {
  const pad = (value: number): number => Math.ceil(value / align) * align;
  const { namesz: nameszField, descsz: descszField, type: typeField } = NHDR.fields;
  let at = 0;
  while (budget.notes > 0 && at + NHDR.size <= notes.length) {
    budget.notes -= 1;
    const namesz = notes.u32(at + nameszField.at);
    const descsz = notes.u32(at + descszField.at);
    const type = notes.u32(at + typeField.at);
    const nameAt = at + NHDR.size;
    // binutils ELF_NOTE_DESC_OFFSET / ELF_NOTE_NEXT_OFFSET: padding counts from the note's start.
    const descAt = at + pad(NHDR.size + namesz);
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
