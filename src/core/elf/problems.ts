// What the ELF reader does with hostile input: the caps that bound its work
// (nothing is allocated or walked by an unchecked count read from the file),
// and the stable codes of the partial-result problems it reports instead of
// failing, each with what the kernel makes of it.

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

/** How a decoder reports a problem and goes on. */
export type Report = (code: ElfProblemCode, message: string) => void;

/** For callers that want the facts without the problems (summarizeElf). */
export const ignoreProblem: Report = () => { /* no partial-result problems wanted */ };
