// Every failure crossroot reports has a stable `code`; tests assert codes,
// never prose. Messages follow one style: action first, details after a
// colon, values quoted ("read ELF header: file is truncated at byte '12'").

export const ERROR_CODES = {
  USAGE: 'bad command-line usage',
  NOT_FOUND: 'a path does not exist',
  NOT_A_FILE: 'a path is not a regular file',
  NOT_A_DIRECTORY: 'a path that must be a directory is not one',
  IO: 'an I/O operation failed',
  ELF_NOT_ELF: 'the bytes are not an ELF file',
  ELF_TRUNCATED: 'an ELF structure ends past the end of the file',
  ELF_MALFORMED: 'an ELF field holds an impossible value',
  UNKNOWN_ARCH: 'an architecture name is not in the catalog',
  BINFMT_NOT_MOUNTED: 'no binfmt_misc instance is mounted where expected',
  BINFMT_READ: 'a binfmt_misc entry could not be read or parsed',
  BINFMT_RULE: 'a binfmt_misc register string or entry is invalid',
  BINFMT_WRITE: 'the kernel refused a binfmt_misc registration, enable/disable or removal',
  SPAWN: 'a process could not be started',
  COMMAND_NOT_FOUND: 'the command of a run is not in the root (exit status 127, as a shell)',
  SYMLINK_LOOP: 'too many symbolic links while resolving a path (ELOOP)',
  CREATE_FAILED: 'a root filesystem could not be created',
  ROOT_EXISTS: 'the target directory is not empty and not a crossroot root (or --force is missing)',
  ROOT_IN_USE: 'a root is in use (something is mounted under it or a process runs inside)',
  ROOT_NOT_OWNED: 'a root belongs to another user',
  ARCH_MISMATCH: 'the architecture asked for is not the root\'s',
  UNSAFE_ARCHIVE: 'a root filesystem tarball holds entries that would escape the target directory',
  NOT_AN_ARCHIVE: 'a file given as a root filesystem tarball is not a tar archive',
  NOT_A_ROOT: 'a directory is not a root filesystem (no /bin/sh and no usr/)',
  EMULATION_UNAVAILABLE: 'no way to run the root\'s architecture here (or not the forced emulation mode)',
  USERNS_BLOCKED: 'user namespaces cannot be created or mapped',
  USER_NOT_FOUND: 'a user or group is not in the root\'s /etc/passwd or /etc/group',
  ENTER_FAILED: 'setting up the namespaces, mounts or emulation of a run failed',
  TOOLS_ROOT: 'the native tools root for acceleration could not be created',
  ICECREAM: 'an icecream toolchain environment could not be packed, or the icecream cluster could not be used',
  IMAGE_INVALID: 'an OCI or docker image is malformed, or one of its blobs does not match its digest',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** errno names in words, as strerror(3) says them: messages say "permission denied", not "EACCES". */
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'does not exist',
  ENOTDIR: 'a path component is not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
  EIO: 'input/output error',
  ENOSPC: 'no space left on device',
  EPIPE: 'broken pipe',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  ENXIO: 'no such device or address',
  ETXTBSY: 'text file busy',
  EAGAIN: 'resource temporarily unavailable',
};

/** "permission denied" for EACCES; an errno without words stays as it is. */
export function errnoWords(code: string): string {
  return ERRNO_WORDS[code] ?? code;
}

/** The one style for a failed file operation: "open 'x': permission denied". */
export function ioFailureMessage(action: string, path: string, code: string): string {
  return `${action} '${path}': ${errnoWords(code)}`;
}

/** The exit statuses crossroot itself chooses (a run's command chooses its own). */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 127 } as const;
export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

/**
 * The codes whose exit status is not 1: "crossroot was called wrongly" is 2,
 * a run's missing command 127. Every other code is a failure, exit status 1. The code decides, never the class
 * or the place that threw it, so a usage error found deep in a planner exits
 * 2 like one found by the option parser.
 */
const EXIT_STATUS: Partial<Readonly<Record<ErrorCode, ExitStatus>>> = {
  USAGE: EXIT.usage,
  UNKNOWN_ARCH: EXIT.usage,
  // `run ROOT -- nosuchcmd` exits as a shell would.
  COMMAND_NOT_FOUND: EXIT.notFound,
};

/** The exit status for an error: 2 for a usage code, 127 for a missing command, 1 for anything else (internal errors included). */
export function exitStatusOf(error: unknown): ExitStatus {
  return isCrossrootError(error) ? EXIT_STATUS[error.code] ?? EXIT.failure : EXIT.failure;
}

export interface ErrorOptions {
  readonly hint?: string | undefined;
  readonly cause?: unknown;
}

export class CrossrootError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CrossrootError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** A mistake in how crossroot was called: exit status 2. */
export class UsageError extends CrossrootError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('USAGE', message, options);
    this.name = 'UsageError';
  }
}

export function isCrossrootError(value: unknown): value is CrossrootError {
  return value instanceof CrossrootError;
}
