// The #! handler of the simulator, as fs/binfmt_script.c load_script: the
// first line names the interpreter and at most one argument; argv becomes
// [interpreter, argument?, file, argv[1..]] and the interpreter is opened
// (through the whole handler search again). parseShebang (shebang.ts) reads
// the line exactly as the kernel does.
import { BINPRM_BUF_SIZE } from '../binfmt/entry.ts';
import { openExec, reportOpenFailure } from './open.ts';
import { isShebang, parseShebang, scriptArgv } from './shebang.ts';
import type { ExecState, Round } from './state.ts';
import { quote } from './state.ts';
import type { FileLookup } from './world.ts';

function shebangFailureText(reason: 'all-blank' | 'interpreter-truncated' | 'no-interpreter'): string {
  switch (reason) {
    case 'all-blank': return '#! followed only by blanks';
    case 'interpreter-truncated': return '#! interpreter path not terminated within 256 bytes';
    case 'no-interpreter': return '#! line names no interpreter';
  }
}

/**
 * `#!/usr/bin/env python3 -u`: load_script passes everything after the
 * interpreter as ONE argument, so env gets 'python3 -u' (env -S splits it).
 */
function passesOneSplitArgumentToEnv(interpreter: string, argument: string | null): boolean {
  if (argument === null || !/[ \t]/.test(argument.trim())) return false;
  const base = interpreter.slice(interpreter.lastIndexOf('/') + 1);
  return base === 'env' && !/^(-[a-zA-Z]*S|--split-string)/.test(argument);
}

/** Traps of a #! line the kernel accepts. */
function warnAboutLine(state: ExecState, interpreter: string, argument: string | null, truncated: boolean): void {
  const { name, file } = state;
  if (interpreter.endsWith('\r') || (argument?.endsWith('\r') ?? false)) {
    state.problem('SCRIPT_CRLF', interpreter.endsWith('\r') ? 'error' : 'warning',
      `script ${quote(name)}: the #! line ends with CR (Windows line endings): the kernel takes \\r as part of the ${interpreter.endsWith('\r') ? 'interpreter path' : 'argument'}`,
      `convert the script to LF line endings (sed -i 's/\\r$//' ${name} or dos2unix)`);
  }
  if (truncated) {
    state.problem('SHEBANG_ARGUMENT_TRUNCATED', 'warning',
      `script ${quote(name)}: the #! line is longer than 255 bytes; the kernel cuts its argument at byte 254`,
      'shorten the #! line; the interpreter can still read the whole line from the script');
  }
  if (passesOneSplitArgumentToEnv(interpreter, argument)) {
    state.problem('SHEBANG_ENV_SPLIT', 'warning',
      `script ${quote(name)}: the kernel passes ${quote(argument ?? '')} to ${quote(interpreter)} as one argument, so env looks for a program named ${quote(argument ?? '')} and fails`,
      `split it with env -S: #!${interpreter} -S ${argument ?? ''}`);
  }
  if (argument === '' && !file.head.subarray(0, BINPRM_BUF_SIZE).includes(0x0a)) {
    state.problem('SHEBANG_EMPTY_ARGUMENT', 'warning',
      `script ${quote(name)}: the #! line has no newline and ends with a blank, so the kernel passes an extra empty argument`,
      'end the #! line with a newline');
  }
}

/** load_script; null when the file is no script the kernel runs (the search goes on). */
export function loadScript(state: ExecState): Round | null {
  const { file } = state;
  if (!isShebang(file.head)) return null;
  state.pinnedFrom = null;
  const parsed = parseShebang(file.head);
  if (parsed === null) return null;
  if (!parsed.ok) {
    state.step({ handler: 'script', file: state.name, realPath: file.realPath, result: 'declined', errno: 'ENOEXEC', detail: shebangFailureText(parsed.reason) });
    if (parsed.reason === 'interpreter-truncated') {
      state.problem('SHEBANG_TOO_LONG', 'error',
        `script ${quote(state.name)}: the #! interpreter path does not end within the first 256 bytes, so the kernel refuses it`,
        'use an interpreter path shorter than 254 bytes (or #!/usr/bin/env NAME)');
    } else {
      state.problem('SHEBANG_EMPTY', 'error', `script ${quote(state.name)}: the #! line names no interpreter`, 'write the interpreter after #!, e.g. #!/bin/sh');
    }
    return null;
  }
  const { interpreter, argument } = parsed;
  warnAboutLine(state, interpreter, argument, parsed.truncated);
  const examined = state.name;
  state.argv = scriptArgv(interpreter, argument, examined, state.argv);
  state.name = interpreter;
  // open_exec("") walks to the current directory (checked on 6.18): not a regular file, EACCES.
  if (interpreter === '') {
    state.problem('SHEBANG_EMPTY', 'error', `script ${quote(examined)}: the #! line names no interpreter (a NUL byte or the end of the file follows #!)`,
      'write the interpreter after #!, e.g. #!/bin/sh');
  }
  const lookup: FileLookup = interpreter === '' ? { kind: 'dir', realPath: '.' } : state.world.lookup(interpreter);
  const opened = openExec(lookup);
  const step = {
    handler: 'script', file: examined, realPath: file.realPath, interpreter,
    detail: `#! ${interpreter}${argument === null ? '' : ` with argument ${quote(argument)}`}`,
  } as const;
  if (!opened.ok) {
    state.step({ ...step, result: 'failed', errno: opened.errno });
    if (interpreter !== '') reportOpenFailure(opened.lookup, interpreter, 'interpreter', state.problem, state.inRoot);
    return { kind: 'error', errno: opened.errno };
  }
  state.step({ ...step, result: 'delegated' });
  return { kind: 'delegated', next: opened.file };
}
