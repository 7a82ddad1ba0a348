// The simulated struct linux_binprm and what the simulation collects: the
// handlers (misc.ts, script.ts, elf.ts) read and rewrite it round by round as
// the kernel's do on bprm, and push their steps and problems here.
import type { EmulatedProgram, ExecErrno, ExecPrediction, ExecStep, Problem, ProblemCode } from './prediction.ts';
import type { ElfFacts, ExecRequest, ExecWorld, FileLookup } from './world.ts';

export type OpenedFile = Extract<FileLookup, { kind: 'file' }>;

/** How a handler ends its round: an error, the program loaded, or the file handed on to an interpreter. */
export type Round =
  | { readonly kind: 'error'; readonly errno: ExecErrno }
  | { readonly kind: 'loaded'; readonly loader: string | null }
  | { readonly kind: 'delegated'; readonly next: OpenedFile };

export type ReportProblem = (code: ProblemCode, severity: Problem['severity'], message: string, fix: string) => void;

/** Problems in the order found, each (code, message) once. */
export class ProblemList {
  readonly items: Problem[] = [];

  readonly add: ReportProblem = (code, severity, message, fix) => {
    if (!this.items.some((known) => known.code === code && known.message === message)) {
      this.items.push({ code, severity, message, fix });
    }
  };

  has(test: (problem: Problem) => boolean): boolean {
    return this.items.some(test);
  }
}

export function quote(text: string): string {
  return `'${text}'`;
}

export class ExecState {
  readonly world: ExecWorld;
  readonly steps: ExecStep[] = [];
  readonly problems: ProblemList;
  /** ' inside the root 'DIR'' for messages about lookups, or ''. */
  readonly inRoot: string;
  /** bprm->argv as it stands after the handlers so far. */
  argv: string[];
  /** bprm->interp: the name of the file examined this round. */
  name: string;
  /** The file examined this round. */
  file: OpenedFile;
  /** A P entry took part: AT_FLAGS_PRESERVE_ARGV0. */
  preserveArgv0 = false;
  /** An O or C entry took part: AT_EXECFD, and only one more level of handlers. */
  haveExecfd = false;
  /** bprm->executable, kept for AT_EXECFD / C. */
  executable: string | null = null;
  /** A C entry took part: credentials come from the binary, not the interpreter. */
  credentialsFromBinary = false;
  /** The F entry whose pinned file is examined this round, or null. */
  pinnedFrom: string | null = null;
  /** The first foreign ELF program a binfmt_misc entry handed to an emulator, or null. */
  handedToEmulator: { readonly file: string; readonly elf: ElfFacts; readonly entry: string; readonly emulator: string } | null = null;

  constructor(request: ExecRequest, world: ExecWorld, file: OpenedFile, problems: ProblemList) {
    this.world = world;
    this.problems = problems;
    this.inRoot = world.root === null ? '' : ` inside the root ${quote(world.root)}`;
    // do_execveat_common: an empty argv gets "" as argv[0] (5.18+).
    this.argv = request.argv.length === 0 ? [''] : [...request.argv];
    this.name = request.path;
    this.file = file;
  }

  readonly problem: ReportProblem = (code, severity, message, fix) => {
    this.problems.add(code, severity, message, fix);
  };

  /** Records a step with the argv as it stands now. */
  step(step: Omit<ExecStep, 'argv'>): void {
    this.steps.push({ ...step, argv: this.argv });
  }

  loaded(loader: string | null, emulated: EmulatedProgram | null, starts: boolean): ExecPrediction {
    return {
      ok: true, errno: null, steps: this.steps, program: this.name, programRealPath: this.file.realPath, argv: this.argv,
      loader, execfd: this.haveExecfd, preserveArgv0: this.preserveArgv0,
      credentialsFrom: this.credentialsFromBinary ? this.executable : this.name, emulated, starts, problems: this.problems.items,
    };
  }
}

export function failedPrediction(errno: ExecErrno, steps: readonly ExecStep[], problems: ProblemList): ExecPrediction {
  return {
    ok: false, errno, steps, program: null, programRealPath: null, argv: null, loader: null,
    execfd: false, preserveArgv0: false, credentialsFrom: null, emulated: null, starts: false, problems: problems.items,
  };
}
