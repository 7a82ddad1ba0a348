// What the exec simulator predicts: the rounds of search_binary_handler as
// steps, the errno, the argv the program receives, and the problems found on
// the way, each with a stable code and a fix.
export type ExecErrno = 'ENOEXEC' | 'ENOENT' | 'ELOOP' | 'EACCES' | 'ELIBBAD' | 'ENOTDIR' | 'EIO' | 'ENAMETOOLONG';

export type StepResult = 'delegated' | 'loaded' | 'declined' | 'failed';

export interface ExecStep {
  readonly handler: 'binfmt_misc' | 'script' | 'elf';
  /** binfmt_misc: the entry's name. */
  readonly entry?: string;
  /** The file examined, as the kernel names it (bprm->interp). */
  readonly file: string;
  readonly realPath: string | null;
  readonly result: StepResult;
  readonly errno?: ExecErrno;
  /** The next file (delegations) or the PT_INTERP loader (elf). */
  readonly interpreter?: string;
  /** argv after this step. */
  readonly argv: readonly string[];
  /** Why the handler took or refused the file, in a few words. */
  readonly detail: string;
}

export type ProblemCode =
  | 'FILE_MISSING' | 'NOT_EXECUTABLE' | 'NOT_A_REGULAR_FILE' | 'PATH_ERROR'
  | 'NO_HANDLER' | 'UNKNOWN_FORMAT' | 'ELF_NOT_EXECUTABLE_TYPE' | 'ELF_BAD_HEADERS' | 'ELF_BAD_INTERP'
  | 'EMULATOR_MISSING' | 'INTERPRETER_MISSING' | 'LOADER_MISSING' | 'LOADER_BAD' | 'LIBRARY_MISSING'
  | 'ENTRY_WITHOUT_F_IN_ROOT' | 'F_PINNED_DYNAMIC' | 'F_PINNED_GONE' | 'SETUID_WITHOUT_C'
  | 'ENTRY_DISABLED' | 'INSTANCE_DISABLED' | 'ENTRY_MATCHES_NATIVE' | 'OPEN_BINARY_NESTED'
  | 'SCRIPT_CRLF' | 'SHEBANG_TOO_LONG' | 'SHEBANG_EMPTY' | 'SHEBANG_ARGUMENT_TRUNCATED' | 'SHEBANG_EMPTY_ARGUMENT' | 'SHEBANG_ENV_SPLIT'
  | 'DANGLING_SYMLINK'
  | 'TOO_MANY_LEVELS'
  | 'EMULATED_LOADER_MISSING' | 'EMULATED_LOADER_BAD' | 'EMULATED_LIBRARY_MISSING'
  /** Reported by callers: no binfmt_misc instance is visible, so its entries are unknown. */
  | 'BINFMT_NOT_MOUNTED';

export interface Problem {
  readonly code: ProblemCode;
  /**
   * 'error' problems explain why the exec fails, or (EMULATED_LOADER_*) why
   * the program fails at once although the exec succeeds; 'warning' ones are
   * traps that did not fail this exec.
   */
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly fix: string;
}

export interface ExecPrediction {
  readonly ok: boolean;
  readonly errno: ExecErrno | null;
  readonly steps: readonly ExecStep[];
  /** The native ELF finally loaded (its path as the kernel names it), or null. */
  readonly program: string | null;
  readonly programRealPath: string | null;
  /** Exactly what the program receives, or null when the exec fails. */
  readonly argv: readonly string[] | null;
  /** The program's PT_INTERP, or null (static, or failure). */
  readonly loader: string | null;
  /** AT_EXECFD is in the auxv (an O or C entry took part). */
  readonly execfd: boolean;
  /** AT_FLAGS has AT_FLAGS_PRESERVE_ARGV0 (a P entry took part). */
  readonly preserveArgv0: boolean;
  /** Whose set-id bits and capabilities count: the binary with C, else the program. */
  readonly credentialsFrom: string | null;
  /** The foreign program a binfmt_misc entry handed to an emulator, and what the emulator finds of it; null without one. */
  readonly emulated: EmulatedProgram | null;
  /**
   * The program gets to run: the exec succeeds and, for an emulated program,
   * the emulator finds its loader. False for an exec that succeeds into an
   * emulator that then cannot load the program.
   */
  readonly starts: boolean;
  readonly problems: readonly Problem[];
}

export interface EmulatedProgram {
  /** The foreign file, as the kernel named it. */
  readonly file: string;
  /** The binfmt_misc entry and the emulator it runs. */
  readonly entry: string;
  readonly emulator: string;
  /** The emulator's prefix (-L, QEMU_LD_PREFIX), or null. */
  readonly prefix: string | null;
  /** The program's PT_INTERP, or null (static). */
  readonly loader: string | null;
  /** Where the emulator finds the loader, or null when it does not (or the program is static). */
  readonly loaderRealPath: string | null;
}
