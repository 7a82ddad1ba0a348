// A pure model of execve(2): which handler takes the file in each round, the
// argv each one builds, and the errno the kernel returns. It follows fs/exec.c
// exec_binprm() and search_binary_handler(); the handlers are split as the
// kernel's are: misc.ts (fs/binfmt_misc.c), script.ts (fs/binfmt_script.c),
// elf.ts (fs/binfmt_elf.c), over the bprm-like state in state.ts; emulated.ts
// follows a program handed to an emulator the way QEMU loads it
// (kernel-exec-spec.md sections 3-6). The caller supplies the world (files,
// entries, host) through ExecWorld, so the same code runs over a real root and
// over test tables.
import { isForeignProgram, describeElf, loadElf, qemuTargetOf } from './elf.ts';
import { checkEmulatedProgram } from './emulated.ts';
import { loadMisc } from './misc.ts';
import { openExec, reportOpenFailure } from './open.ts';
import type { ExecPrediction } from './prediction.ts';
import { loadScript } from './script.ts';
import { ExecState, ProblemList, failedPrediction, quote } from './state.ts';
import type { Round } from './state.ts';
import type { ExecRequest, ExecWorld } from './world.ts';

export type { EmulatedProgram, ExecErrno, ExecPrediction, ExecStep, Problem, ProblemCode, StepResult } from './prediction.ts';
export type { ElfFacts, EmulatedWorld, ExecRequest, ExecWorld, FileLookup, NativeMachine } from './world.ts';
export { qemuTargetOf } from './elf.ts';

/** exec_binprm: "This allows 5 levels of binfmt rewrites before failing hard." */
export const MAX_REWRITES = 5;

/** Simulates execve(request.path, request.argv) in `world`. */
export function simulateExec(request: ExecRequest, world: ExecWorld): ExecPrediction {
  const problems = new ProblemList();
  // open_exec of the original file: path errors, then the regular-file and MAY_EXEC checks.
  const opened = openExec(world.lookup(request.path));
  if (!opened.ok) {
    reportOpenFailure(opened.lookup, request.path, 'file', problems.add, world.root === null ? '' : ` inside the root ${quote(world.root)}`);
    return failedPrediction(opened.errno, [], problems);
  }
  const state = new ExecState(request, world, opened.file, problems);
  for (let depth = 0; ; depth++) {
    if (depth > MAX_REWRITES) {
      state.problem('TOO_MANY_LEVELS', 'error',
        `exec: more than ${MAX_REWRITES} handler rewrites (scripts and binfmt_misc interpreters calling each other)`,
        'shorten the chain of #! scripts and emulators, or fix a binfmt_misc entry that matches its own interpreter');
      return failedPrediction('ELOOP', state.steps, problems);
    }
    const round = searchHandlers(state);
    if (round.kind === 'error') return failedPrediction(round.errno, state.steps, problems);
    if (round.kind === 'loaded') {
      const { emulated, starts } = checkEmulatedProgram(state);
      return state.loaded(round.loader, emulated, starts);
    }
    // A handler delegated to round.next: the loop examines the interpreter next.
    const previous = state.file;
    state.file = round.next;
    if (state.haveExecfd) {
      if (state.executable !== null) {
        state.problem('OPEN_BINARY_NESTED', 'error',
          `exec: the interpreter ${quote(state.name)} is itself handed to another handler, but an O or C binfmt_misc entry allows only one more level`,
          'point the O/C entry at a static native interpreter, not a script or another emulated file');
        return failedPrediction('ENOEXEC', state.steps, problems);
      }
      state.executable = previous.realPath;
    }
  }
}

/** search_binary_handler: misc, then script, then ELF; anything but ENOEXEC ends the search. */
function searchHandlers(state: ExecState): Round {
  const round = loadMisc(state) ?? loadScript(state) ?? loadElf(state);
  if (round !== null) return round;
  explainNoHandler(state);
  return { kind: 'error', errno: 'ENOEXEC' };
}

function explainNoHandler(state: ExecState): void {
  const { file, name, problems } = state;
  if (file.elf !== null && isForeignProgram(file, state.world.host)) {
    const disabled = problems.has((known) => known.code === 'ENTRY_DISABLED' || known.code === 'INSTANCE_DISABLED');
    state.problem('NO_HANDLER', 'error',
      `exec: ${quote(name)} is ${describeElf(file.elf)}, which this kernel does not run natively, and no enabled binfmt_misc entry handles it`,
      disabled ? 'enable the disabled binfmt_misc entry or instance (see above)'
        : `register an emulator: crossroot binfmt install ${qemuTargetOf(file.elf) ?? 'ARCH'}`);
    return;
  }
  if (problems.has((known) => known.severity === 'error')) return;
  state.problem('UNKNOWN_FORMAT', 'error', `exec: no handler recognises ${quote(name)}: it is neither a native ELF program nor a #! script, and no binfmt_misc entry matches it`,
    'add a #! line, or register a binfmt_misc entry for this format');
}
