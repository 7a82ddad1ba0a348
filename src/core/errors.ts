// Every failure crossroot reports has a stable `code`; tests assert codes,
// never prose. Messages follow one style: action first, details after a
// colon, values quoted ("read ELF header: file is truncated at byte '12'").

export const ERROR_CODES = {
  USAGE: 'bad command-line usage',
  NOT_FOUND: 'a path does not exist',
  NOT_A_FILE: 'a path is not a regular file',
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
  SYMLINK_LOOP: 'too many symbolic links while resolving a path (ELOOP)',
  CREATE_FAILED: 'a root filesystem could not be created',
  ROOT_EXISTS: 'the target directory is not empty and not a crossroot root (or --force is missing)',
  ROOT_IN_USE: 'a root is in use (something is mounted under it or a process runs inside)',
  UNSAFE_ARCHIVE: 'a root filesystem tarball holds entries that would escape the target directory',
  NOT_A_ROOT: 'a directory is not a root filesystem (no /bin/sh and no usr/)',
  EMULATION_UNAVAILABLE: 'no way to run the root\'s architecture here (or not the forced emulation mode)',
  USERNS_BLOCKED: 'user namespaces cannot be created or mapped',
  USER_NOT_FOUND: 'a user or group is not in the root\'s /etc/passwd or /etc/group',
  ENTER_FAILED: 'setting up the namespaces, mounts or emulation of a run failed',
  TOOLS_ROOT: 'the native tools root for acceleration could not be created',
  ICECREAM: 'an icecream toolchain environment could not be packed, or the icecream cluster could not be used',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

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
