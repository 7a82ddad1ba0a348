// open_exec() as the handlers see it (fs/exec.c do_open_execat): path errors,
// then a regular file with MAY_EXEC, else EACCES; and what each failure means
// for the file, a binfmt_misc interpreter, a #! interpreter or a PT_INTERP loader.
import type { BinfmtEntry } from '../binfmt/entry.ts';
import type { ExecErrno } from './prediction.ts';
import type { OpenedFile, ReportProblem } from './state.ts';
import { quote } from './state.ts';
import type { FileLookup } from './world.ts';

const ERRNO_OF_LOOKUP = {
  missing: 'ENOENT', notdir: 'ENOTDIR', loop: 'ELOOP', toolong: 'ENAMETOOLONG', denied: 'EACCES',
  dir: 'EACCES', special: 'EACCES',
} as const satisfies Record<Exclude<FileLookup['kind'], 'file'>, ExecErrno>;

export type OpenResult =
  | { readonly ok: true; readonly file: OpenedFile }
  | { readonly ok: false; readonly errno: ExecErrno; readonly lookup: FileLookup };

export function openExec(lookup: FileLookup): OpenResult {
  if (lookup.kind === 'file') {
    return lookup.executable ? { ok: true, file: lookup } : { ok: false, errno: 'EACCES', lookup };
  }
  return { ok: false, errno: ERRNO_OF_LOOKUP[lookup.kind], lookup };
}

export type OpenRole = 'file' | 'emulator' | 'interpreter' | 'loader';

const PATH_ERRORS = {
  notdir: 'a component is not a directory', loop: 'too many symbolic links', toolong: 'the path is too long', denied: 'a directory on the way is not searchable',
} as const;

function reportMissing(path: string, role: OpenRole, who: string, problem: ReportProblem, inRoot: string, danglingTo: string | null): void {
  if (danglingTo !== null && !(role === 'interpreter' && path.endsWith('\r'))) {
    problem('DANGLING_SYMLINK', 'error',
      `${who}: ${quote(path)} is a symbolic link to ${quote(danglingTo)}, which does not exist${inRoot}`,
      `install ${quote(danglingTo)}, or point the link at a program that exists (ln -sfn TARGET ${path})`);
    return;
  }
  switch (role) {
    case 'file':
      problem('FILE_MISSING', 'error', `exec: ${quote(path)} does not exist${inRoot}`, 'check the path (relative paths are resolved against the current directory)');
      return;
    case 'emulator':
      problem('EMULATOR_MISSING', 'error',
        `${who}: its interpreter ${quote(path)} does not exist${inRoot}, and without F the kernel looks it up at exec time`,
        `install the emulator at ${quote(path)}${inRoot}, or re-register the entry with F and a static emulator (crossroot binfmt install)`);
      return;
    case 'interpreter':
      if (path.endsWith('\r')) return; // SCRIPT_CRLF says it
      problem('INTERPRETER_MISSING', 'error', `script: its #! interpreter ${quote(path)} does not exist${inRoot}`, `install ${quote(path)}${inRoot} or change the #! line`);
      return;
    case 'loader':
      problem('LOADER_MISSING', 'error',
        `ELF: the program's loader (PT_INTERP) ${quote(path)} does not exist${inRoot}, so exec fails with ENOENT although the program exists`,
        `install the C library that provides ${quote(path)}${inRoot} (e.g. libc6 of the program's architecture)`);
  }
}

/** The problem that explains why open_exec(path) failed in `role`. */
export function reportOpenFailure(
  lookup: FileLookup, path: string, role: OpenRole, problem: ReportProblem, inRoot: string, entry?: BinfmtEntry,
): void {
  const who = role === 'file' ? 'exec' : role === 'emulator' ? `binfmt_misc entry ${quote(entry?.name ?? '?')}` : role === 'interpreter' ? 'script' : 'ELF';
  switch (lookup.kind) {
    case 'missing':
      reportMissing(path, role, who, problem, inRoot, lookup.danglingLink?.target ?? null);
      return;
    case 'file':
      problem('NOT_EXECUTABLE', 'error', `${who}: ${quote(path)} is not executable (no x permission, or a noexec mount)`, `chmod +x ${path}`);
      return;
    case 'dir': case 'special':
      problem('NOT_A_REGULAR_FILE', 'error', `${who}: ${quote(path)} is ${lookup.kind === 'dir' ? 'a directory' : 'not a regular file'}`, 'exec only runs regular files: check the path');
      return;
    case 'notdir': case 'loop': case 'toolong': case 'denied':
      problem('PATH_ERROR', 'error', `${who}: cannot resolve ${quote(path)}${inRoot}: ${PATH_ERRORS[lookup.kind]}`,
        'check the path and its directories');
      return;
  }
}
