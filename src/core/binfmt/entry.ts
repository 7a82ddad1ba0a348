// A binfmt_misc entry as the kernel holds it (fs/binfmt_misc.c `Node`), shared
// by the rule language, the matcher, the exec simulator and the kernel layer.

/** The flags in the order the kernel prints them ("flags: POCF"). */
export const BINFMT_FLAGS = [
  { letter: 'P', name: 'preserve-argv0', meaning: 'keep the caller\'s argv[0] after the file name' },
  { letter: 'O', name: 'open-binary', meaning: 'pass the binary as an open file descriptor (AT_EXECFD)' },
  { letter: 'C', name: 'credentials', meaning: 'take setuid/setgid and capabilities from the binary; implies O' },
  { letter: 'F', name: 'fix-binary', meaning: 'open the interpreter at registration, so it works in any root' },
] as const;

export type BinfmtFlagLetter = (typeof BINFMT_FLAGS)[number]['letter'];

export interface BinfmtFlags {
  readonly P: boolean;
  readonly O: boolean;
  readonly C: boolean;
  readonly F: boolean;
}

export const NO_FLAGS: BinfmtFlags = { P: false, O: false, C: false, F: false };

/** "POCF" order, as in the entry file's `flags:` line (C always shows with O). */
export function flagsToString(flags: BinfmtFlags): string {
  return BINFMT_FLAGS.map((flag) => (flags[flag.letter] ? flag.letter : '')).join('');
}

interface EntryCommon {
  readonly name: string;
  readonly enabled: boolean;
  /** The interpreter string exactly as registered (not resolved). */
  readonly interpreter: string;
  readonly flags: BinfmtFlags;
}

export interface MagicEntry extends EntryCommon {
  readonly type: 'magic';
  readonly offset: number;
  readonly magic: Uint8Array;
  /** null when registered without a mask: the bytes must be equal. */
  readonly mask: Uint8Array | null;
}

export interface ExtensionEntry extends EntryCommon {
  readonly type: 'extension';
  /** Without the dot, compared case-sensitively with the text after the last '.' of the path. */
  readonly extension: string;
}

export type BinfmtEntry = MagicEntry | ExtensionEntry;

/** Where the host's binfmt_misc instance is mounted. */
export const DEFAULT_BINFMT_DIR = '/proc/sys/fs/binfmt_misc';

/** The kernel's read window: bprm->buf, zero-padded (BINPRM_BUF_SIZE since 5.1). */
export const BINPRM_BUF_SIZE = 256;
