// A pure model of execve(2): which handler takes the file in each round, the
// argv each one builds, and the errno the kernel returns. It follows fs/exec.c
// exec_binprm() and search_binary_handler(), fs/binfmt_misc.c,
// fs/binfmt_script.c and fs/binfmt_elf.c (kernel-exec-spec.md sections 3-6).
// The caller supplies the world (files, entries, host) through ExecWorld, so
// the same code runs over a real root and over test tables.
import type { BinfmtEntry } from '../binfmt/entry.ts';
import { BINPRM_BUF_SIZE } from '../binfmt/entry.ts';
import { findHandler } from '../binfmt/match.ts';
import { archOfElf } from '../arch/arch.ts';
import { parseShebang, scriptArgv, isShebang } from './shebang.ts';
import { elfMachineName } from '../elf/machines.ts';

/** exec_binprm: "This allows 5 levels of binfmt rewrites before failing hard." */
export const MAX_REWRITES = 5;

export type ExecErrno = 'ENOEXEC' | 'ENOENT' | 'ELOOP' | 'EACCES' | 'ELIBBAD' | 'ENOTDIR' | 'EIO' | 'ENAMETOOLONG';

export const ET_EXEC = 2;
/** sizeof(Elf32_Ehdr) / sizeof(Elf64_Ehdr): binfmt_elf reads this much of the loader. */
const ELF_HEADER_SIZE = { 32: 52, 64: 64 } as const;
export const ET_DYN = 3;

/** What binfmt_elf needs from an ELF file (the runner gets it from parseElf). */
export interface ElfFacts {
  readonly class: 32 | 64;
  readonly endian: 'little' | 'big';
  readonly machine: number;
  /** e_flags (tells MIPS n32 from o32 for the advice). */
  readonly flags?: number | undefined;
  /** e_type (1 REL, 2 EXEC, 3 DYN, 4 CORE). */
  readonly type: number;
  /** load_elf_phdrs() accepts the program header table (entry size, count, inside the file). */
  readonly headersLoadable: boolean;
  /** The first PT_INTERP path, or null for a static file. */
  readonly interpreter: string | null;
  /** A PT_INTERP the kernel refuses: ENOEXEC (size outside 2..4096, no NUL) or EIO (past the end). */
  readonly interpreterError?: 'ENOEXEC' | 'EIO' | undefined;
  /** DT_NEEDED, for the library check (optional). */
  readonly needed?: readonly string[] | undefined;
  /** DT_RUNPATH or DT_RPATH is set (libraries may live outside the default paths). */
  readonly hasRunpath?: boolean | undefined;
}

/** How open_exec() would find a path: an error kind, or what it opened. */
export type FileLookup =
  | { readonly kind: 'missing' | 'notdir' | 'loop' | 'toolong' | 'denied' }
  /** Not a regular file (directory, device, fifo, socket): exec gives EACCES. */
  | { readonly kind: 'dir' | 'special'; readonly realPath: string }
  | {
    readonly kind: 'file';
    /** Where it really is (the host path; for --root, inside the root). */
    readonly realPath: string;
    /** MAY_EXEC for the caller, and the mount is not noexec. */
    readonly executable: boolean;
    /** setuid or setgid bit. */
    readonly setid: boolean;
    /** The first bytes of the file (at most 256 are used). */
    readonly head: Uint8Array;
    /** Set when the file starts with \x7fELF. */
    readonly elf: ElfFacts | null;
  };

export interface NativeMachine {
  readonly machine: number;
  readonly class: 32 | 64;
}

export interface ExecWorld {
  /** open_exec(path): resolved against the caller's cwd and root (the --root). */
  lookup(path: string): FileLookup;
  /** The file an F entry opened at registration (resolved on the host, not in the root). */
  pinned(entry: BinfmtEntry): FileLookup;
  /** Whether a DT_NEEDED library would be found for `elf` (optional; null when unknown). */
  findLibrary?(name: string, elf: ElfFacts): boolean | null;
  readonly binfmt: { readonly enabled: boolean; readonly entries: readonly BinfmtEntry[] };
  readonly host: { readonly native: readonly NativeMachine[] };
  /** The root the exec happens in, or null for the host's own root (affects advice only). */
  readonly root: string | null;
}

export interface ExecRequest {
  readonly path: string;
  /** As the caller passes it, argv[0] included. */
  readonly argv: readonly string[];
}

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
  | 'SCRIPT_CRLF' | 'SHEBANG_TOO_LONG' | 'SHEBANG_EMPTY' | 'SHEBANG_ARGUMENT_TRUNCATED' | 'SHEBANG_EMPTY_ARGUMENT'
  | 'TOO_MANY_LEVELS'
  /** Reported by callers: no binfmt_misc instance is visible, so its entries are unknown. */
  | 'BINFMT_NOT_MOUNTED';

export interface Problem {
  readonly code: ProblemCode;
  /** 'error' problems explain the failure; 'warning' ones are traps that did not fail this exec. */
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
  readonly problems: readonly Problem[];
}

const ERRNO_OF_LOOKUP = {
  missing: 'ENOENT', notdir: 'ENOTDIR', loop: 'ELOOP', toolong: 'ENAMETOOLONG', denied: 'EACCES',
  dir: 'EACCES', special: 'EACCES',
} as const satisfies Record<Exclude<FileLookup['kind'], 'file'>, ExecErrno>;

type OpenedFile = Extract<FileLookup, { kind: 'file' }>;

/** The catalog's (QEMU) name for an ELF file's architecture, for advice ("crossroot binfmt install aarch64"). */
export function qemuTargetOf(elf: Pick<ElfFacts, 'machine' | 'class' | 'endian' | 'flags'>): string | null {
  return archOfElf({ class: elf.class, endian: elf.endian, machine: elf.machine, flags: elf.flags ?? 0 })?.name ?? null;
}

function describeElf(elf: ElfFacts): string {
  const type = elf.type === ET_EXEC ? 'EXEC' : elf.type === ET_DYN ? 'DYN' : `type ${elf.type}`;
  return `ELF ${elf.class}-bit ${elf.endian === 'little' ? 'LSB' : 'MSB'} ${elfMachineName(elf.machine)} ${type}`;
}

function isNative(host: ExecWorld['host'], elf: Pick<ElfFacts, 'machine' | 'class'>): boolean {
  return host.native.some((native) => native.machine === elf.machine && native.class === elf.class);
}

function startsWithElfMagic(head: Uint8Array): boolean {
  return head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

/** bprm->buf: the first 256 bytes, zero-padded. */
function window(head: Uint8Array): Uint8Array {
  const buf = new Uint8Array(BINPRM_BUF_SIZE);
  buf.set(head.subarray(0, BINPRM_BUF_SIZE));
  return buf;
}

function quote(text: string): string {
  return `'${text}'`;
}

/** Simulates execve(request.path, request.argv) in `world`. */
export function simulateExec(request: ExecRequest, world: ExecWorld): ExecPrediction {
  const steps: ExecStep[] = [];
  const problems: Problem[] = [];
  const problem = (code: ProblemCode, severity: Problem['severity'], message: string, fix: string): void => {
    if (!problems.some((known) => known.code === code && known.message === message)) {
      problems.push({ code, severity, message, fix });
    }
  };
  const inRoot = world.root === null ? '' : ` inside the root ${quote(world.root)}`;

  // do_execveat_common: an empty argv gets "" as argv[0] (5.18+).
  let argv: string[] = request.argv.length === 0 ? [''] : [...request.argv];
  let name = request.path; // bprm->interp
  let preserveArgv0 = false;
  let haveExecfd = false;
  let executable: string | null = null; // bprm->executable, kept for AT_EXECFD / C
  let credentialsFromBinary = false;
  let pinnedFrom: string | null = null; // the F entry whose pinned file is examined next

  const failure = (errno: ExecErrno): ExecPrediction => ({
    ok: false, errno, steps, program: null, programRealPath: null, argv: null, loader: null,
    execfd: false, preserveArgv0: false, credentialsFrom: null, problems,
  });

  // open_exec of the original file: path errors, then the regular-file and MAY_EXEC checks.
  const opened = openExec(world.lookup(request.path));
  if (!opened.ok) {
    reportOpenFailure(opened.lookup, request.path, 'file', problem, inRoot);
    return failure(opened.errno);
  }
  let file: OpenedFile = opened.file;

  for (let depth = 0; ; depth++) {
    if (depth > MAX_REWRITES) {
      problem('TOO_MANY_LEVELS', 'error',
        `exec: more than ${MAX_REWRITES} handler rewrites (scripts and binfmt_misc interpreters calling each other)`,
        'shorten the chain of #! scripts and emulators, or fix a binfmt_misc entry that matches its own interpreter');
      return failure('ELOOP');
    }
    const round = searchHandlers();
    if (round.kind === 'error') return failure(round.errno);
    if (round.kind === 'loaded') {
      return {
        ok: true, errno: null, steps, program: name, programRealPath: file.realPath, argv,
        loader: round.loader, execfd: haveExecfd, preserveArgv0,
        credentialsFrom: credentialsFromBinary ? executable : name, problems,
      };
    }
    // A handler delegated to round.next: the loop examines the interpreter next.
    const previous = file;
    file = round.next;
    if (haveExecfd) {
      if (executable !== null) {
        problem('OPEN_BINARY_NESTED', 'error',
          `exec: the interpreter ${quote(name)} is itself handed to another handler, but an O or C binfmt_misc entry allows only one more level`,
          'point the O/C entry at a static native interpreter, not a script or another emulated file');
        return failure('ENOEXEC');
      }
      executable = previous.realPath;
    }
  }

  type Round =
    | { kind: 'error'; errno: ExecErrno }
    | { kind: 'loaded'; loader: string | null }
    | { kind: 'delegated'; next: OpenedFile };

  // search_binary_handler: misc, then script, then ELF; anything but ENOEXEC ends the search.
  function searchHandlers(): Round {
    const misc = tryMisc();
    if (misc !== null) return misc;
    const script = tryScript();
    if (script !== null) return script;
    const elf = tryElf();
    if (elf !== null) return elf;
    explainNoHandler();
    return { kind: 'error', errno: 'ENOEXEC' };
  }

  function tryMisc(): Round | null {
    const buf = window(file.head);
    const entries = world.binfmt.entries;
    const asIfEnabled = entries.map((entry) => ({ ...entry, enabled: true }));
    const wouldMatch = findHandler(asIfEnabled, buf, name);
    if (!world.binfmt.enabled) {
      if (wouldMatch !== null) {
        problem('INSTANCE_DISABLED', 'warning',
          `binfmt_misc: entry ${quote(wouldMatch.name)} matches ${quote(name)}, but the whole binfmt_misc instance is disabled`,
          'enable it: echo 1 > /proc/sys/fs/binfmt_misc/status');
      }
      return null;
    }
    const entry = findHandler(entries, buf, name);
    if (wouldMatch !== null && wouldMatch.name !== entry?.name) {
      problem('ENTRY_DISABLED', entry === null ? 'error' : 'warning',
        `binfmt_misc: entry ${quote(wouldMatch.name)} matches ${quote(name)} but is disabled`,
        `enable it: crossroot binfmt install, or echo 1 > /proc/sys/fs/binfmt_misc/${wouldMatch.name}`);
    }
    if (entry === null) return null;

    if (file.elf !== null && isNative(world.host, file.elf)) {
      problem('ENTRY_MATCHES_NATIVE', 'warning',
        `binfmt_misc: entry ${quote(entry.name)} matches the native ${describeElf(file.elf)} file ${quote(name)}: it shadows the kernel's own ELF loader`,
        `give ${quote(entry.name)} a mask that pins the foreign e_machine, class and byte order`);
    }
    if (file.setid && !entry.flags.C) {
      problem('SETUID_WITHOUT_C', 'warning',
        `binfmt_misc: ${quote(name)} is setuid/setgid, but entry ${quote(entry.name)} lacks C: the bits are ignored`,
        `re-register ${quote(entry.name)} with flags including C (crossroot binfmt install --flags ...) if the set-id bits must work`);
    }
    if (!entry.flags.F && world.root !== null) {
      problem('ENTRY_WITHOUT_F_IN_ROOT', 'warning',
        `binfmt_misc: entry ${quote(entry.name)} has no F flag, so its interpreter ${quote(entry.interpreter)} is looked up at exec time${inRoot}`,
        `re-register the entry with F and a static emulator (crossroot binfmt install), or put a static emulator at ${quote(entry.interpreter)} inside the root`);
    }

    // load_misc_binary: argv rewrite, then open the interpreter.
    const rest = entry.flags.P ? argv : argv.slice(1);
    argv = [entry.interpreter, name, ...rest];
    if (entry.flags.P) preserveArgv0 = true;
    const how = entry.type === 'extension'
      ? `extension ${quote(`.${entry.extension}`)}`
      : `magic at offset ${entry.offset}${entry.mask === null ? '' : ' with mask'}`;
    const examined = name;
    name = entry.interpreter;

    const lookup = entry.flags.F ? world.pinned(entry) : world.lookup(entry.interpreter);
    if (entry.flags.F) {
      if (lookup.kind !== 'file') {
        // The kernel still holds the file it opened; we can no longer look at it.
        problem('F_PINNED_GONE', 'warning',
          `binfmt_misc: entry ${quote(entry.name)} pinned ${quote(entry.interpreter)} at registration, and that path no longer exists on the host: the kernel runs the old file`,
          `re-register ${quote(entry.name)} (crossroot binfmt install --force) so it pins the current emulator`);
        steps.push({ handler: 'binfmt_misc', entry: entry.name, file: examined, realPath: file.realPath, result: 'delegated', interpreter: entry.interpreter, argv, detail: `${how}; F: runs the file pinned at registration` });
        return { kind: 'loaded', loader: null };
      }
    } else {
      const openedInterp = openExec(lookup);
      if (!openedInterp.ok) {
        steps.push({ handler: 'binfmt_misc', entry: entry.name, file: examined, realPath: file.realPath, result: 'failed', errno: openedInterp.errno, interpreter: entry.interpreter, argv, detail: `${how}; opening the interpreter fails` });
        reportOpenFailure(openedInterp.lookup, entry.interpreter, 'emulator', problem, inRoot, entry);
        return { kind: 'error', errno: openedInterp.errno };
      }
    }
    const next = entry.flags.F ? lookup as OpenedFile : (openExec(lookup) as { ok: true; file: OpenedFile }).file;
    if (entry.flags.O || entry.flags.C) haveExecfd = true;
    if (entry.flags.C) credentialsFromBinary = true;
    pinnedFrom = entry.flags.F ? entry.name : null;
    steps.push({
      handler: 'binfmt_misc', entry: entry.name, file: examined, realPath: file.realPath, result: 'delegated',
      interpreter: entry.interpreter, argv,
      detail: `${how}; flags ${flagText(entry)}${entry.flags.F ? '; F: the interpreter was opened at registration' : ''}`,
    });
    return { kind: 'delegated', next };
  }

  function tryScript(): Round | null {
    if (!isShebang(file.head)) return null;
    pinnedFrom = null;
    const parsed = parseShebang(file.head);
    if (parsed === null) return null;
    if (!parsed.ok) {
      steps.push({ handler: 'script', file: name, realPath: file.realPath, result: 'declined', errno: 'ENOEXEC', argv, detail: shebangFailureText(parsed.reason) });
      if (parsed.reason === 'interpreter-truncated') {
        problem('SHEBANG_TOO_LONG', 'error',
          `script ${quote(name)}: the #! interpreter path does not end within the first 256 bytes, so the kernel refuses it`,
          'use an interpreter path shorter than 254 bytes (or #!/usr/bin/env NAME)');
      } else {
        problem('SHEBANG_EMPTY', 'error', `script ${quote(name)}: the #! line names no interpreter`, 'write the interpreter after #!, e.g. #!/bin/sh');
      }
      return null;
    }
    const { interpreter, argument } = parsed;
    if (interpreter.endsWith('\r') || (argument?.endsWith('\r') ?? false)) {
      problem('SCRIPT_CRLF', interpreter.endsWith('\r') ? 'error' : 'warning',
        `script ${quote(name)}: the #! line ends with CR (Windows line endings): the kernel takes \\r as part of the ${interpreter.endsWith('\r') ? 'interpreter path' : 'argument'}`,
        `convert the script to LF line endings (sed -i 's/\\r$//' ${name} or dos2unix)`);
    }
    if (parsed.truncated) {
      problem('SHEBANG_ARGUMENT_TRUNCATED', 'warning',
        `script ${quote(name)}: the #! line is longer than 255 bytes; the kernel cuts its argument at byte 254`,
        'shorten the #! line; the interpreter can still read the whole line from the script');
    }
    if (argument === '' && !file.head.subarray(0, BINPRM_BUF_SIZE).includes(0x0a)) {
      problem('SHEBANG_EMPTY_ARGUMENT', 'warning',
        `script ${quote(name)}: the #! line has no newline and ends with a blank, so the kernel passes an extra empty argument`,
        'end the #! line with a newline');
    }
    argv = scriptArgv(interpreter, argument, name, argv);
    const examined = name;
    const examinedPath = file.realPath;
    name = interpreter;
    // open_exec("") walks to the current directory (checked on 6.18): not a regular file, EACCES.
    if (interpreter === '') {
      problem('SHEBANG_EMPTY', 'error', `script ${quote(name)}: the #! line names no interpreter (a NUL byte or the end of the file follows #!)`,
        'write the interpreter after #!, e.g. #!/bin/sh');
    }
    const lookup: FileLookup = interpreter === '' ? { kind: 'dir', realPath: '.' } : world.lookup(interpreter);
    const openedInterp = openExec(lookup);
    const detail = `#! ${interpreter}${argument === null ? '' : ` with argument ${quote(argument)}`}`;
    if (!openedInterp.ok) {
      steps.push({ handler: 'script', file: examined, realPath: examinedPath, result: 'failed', errno: openedInterp.errno, interpreter, argv, detail });
      if (interpreter !== '') reportOpenFailure(openedInterp.lookup, interpreter, 'interpreter', problem, inRoot);
      return { kind: 'error', errno: openedInterp.errno };
    }
    steps.push({ handler: 'script', file: examined, realPath: examinedPath, result: 'delegated', interpreter, argv, detail });
    return { kind: 'delegated', next: openedInterp.file };
  }

  function tryElf(): Round | null {
    if (!startsWithElfMagic(file.head)) return null;
    const elf = file.elf;
    const decline = (detail: string): null => {
      steps.push({ handler: 'elf', file: name, realPath: file.realPath, result: 'declined', errno: 'ENOEXEC', argv, detail });
      return null;
    };
    if (elf === null) return decline('ELF magic, but the header cannot be read');
    if (elf.type !== ET_EXEC && elf.type !== ET_DYN) {
      problem('ELF_NOT_EXECUTABLE_TYPE', 'error',
        `exec: ${quote(name)} is an ELF ${elf.type === 1 ? 'relocatable object' : elf.type === 4 ? 'core dump' : `file of type ${elf.type}`}, not a program`,
        'link it into an executable (ET_EXEC or ET_DYN) first');
      return decline(`${describeElf(elf)}: not a program`);
    }
    if (!isNative(world.host, elf)) {
      return decline(`${describeElf(elf)}: not a machine this kernel runs natively`);
    }
    if (!elf.headersLoadable) {
      problem('ELF_BAD_HEADERS', 'error', `exec: ${quote(name)} has a program header table the kernel refuses`, 'rebuild the file; it is damaged or hand-crafted');
      return decline(`${describeElf(elf)}: program headers refused`);
    }
    if (elf.interpreterError !== undefined) {
      problem('ELF_BAD_INTERP', 'error', `exec: the PT_INTERP of ${quote(name)} is malformed`, 'rebuild the file; its PT_INTERP segment is damaged');
      steps.push({ handler: 'elf', file: name, realPath: file.realPath, result: 'failed', errno: elf.interpreterError, argv, detail: `${describeElf(elf)}: malformed PT_INTERP` });
      return { kind: 'error', errno: elf.interpreterError };
    }
    const pinnedEntry = pinnedFrom;
    if (elf.interpreter === null) {
      steps.push({ handler: 'elf', file: name, realPath: file.realPath, result: 'loaded', argv, detail: `${describeElf(elf)}, static` });
      return { kind: 'loaded', loader: null };
    }
    const loader = elf.interpreter;
    if (pinnedEntry !== null) {
      problem('F_PINNED_DYNAMIC', 'warning',
        `binfmt_misc: entry ${quote(pinnedEntry)} pins the dynamically linked ${quote(name)}: F pins only that file, its loader ${quote(loader)} and libraries are looked up at exec time${inRoot}`,
        'register a statically linked emulator (qemu-user-static) with F');
    }
    // binfmt_elf opens PT_INTERP directly: no binfmt_misc, no #!, no rewrite count.
    const lookup = world.lookup(loader);
    const openedLoader = openExec(lookup);
    if (!openedLoader.ok) {
      steps.push({ handler: 'elf', file: name, realPath: file.realPath, result: 'failed', errno: openedLoader.errno, interpreter: loader, argv, detail: `${describeElf(elf)}; opening its loader fails` });
      reportOpenFailure(openedLoader.lookup, loader, 'loader', problem, inRoot);
      return { kind: 'error', errno: openedLoader.errno };
    }
    // elf_read() of the loader's ELF header comes first: a shorter file is EIO (checked on 6.18), not ELIBBAD.
    if (openedLoader.file.head.length < ELF_HEADER_SIZE[elf.class]) {
      problem('LOADER_BAD', 'error',
        `exec: the loader ${quote(loader)} of ${quote(name)} is shorter than an ELF header${inRoot}`,
        `install the ${qemuTargetOf(elf) ?? 'matching'} C library (libc6) so that ${quote(loader)} is the right ELF loader`);
      steps.push({ handler: 'elf', file: name, realPath: file.realPath, result: 'failed', errno: 'EIO', interpreter: loader, argv, detail: `${describeElf(elf)}; its loader is too short to be ELF` });
      return { kind: 'error', errno: 'EIO' };
    }
    const loaderElf = openedLoader.file.elf;
    if (!startsWithElfMagic(openedLoader.file.head) || loaderElf === null || !isNative(world.host, loaderElf)
      || loaderElf.class !== elf.class || !loaderElf.headersLoadable) {
      const what = loaderElf === null ? 'not an ELF file' : `${describeElf(loaderElf)}, which this program cannot use`;
      problem('LOADER_BAD', 'error',
        `exec: the loader ${quote(loader)} of ${quote(name)} is ${what}${inRoot}`,
        `install the ${qemuTargetOf(elf) ?? 'matching'} C library (libc6) so that ${quote(loader)} is the right ELF loader`);
      steps.push({ handler: 'elf', file: name, realPath: file.realPath, result: 'failed', errno: 'ELIBBAD', interpreter: loader, argv, detail: `${describeElf(elf)}; its loader is ${what}` });
      return { kind: 'error', errno: 'ELIBBAD' };
    }
    if (world.findLibrary !== undefined) {
      for (const library of elf.needed ?? []) {
        if (world.findLibrary(library, elf) === false) {
          problem('LIBRARY_MISSING', 'warning',
            `exec: ${quote(name)} needs ${quote(library)}, which is not in the library paths${inRoot}: the loader will fail after exec`,
            `install the package that ships ${quote(library)} for ${qemuTargetOf(elf) ?? 'this architecture'}`);
        }
      }
    }
    steps.push({ handler: 'elf', file: name, realPath: file.realPath, result: 'loaded', interpreter: loader, argv, detail: `${describeElf(elf)}, loader ${loader}` });
    return { kind: 'loaded', loader };
  }

  function explainNoHandler(): void {
    const elf = file.elf;
    if (startsWithElfMagic(file.head) && elf !== null && (elf.type === ET_EXEC || elf.type === ET_DYN) && !isNative(world.host, elf)) {
      const target = qemuTargetOf(elf);
      const disabled = problems.some((known) => known.code === 'ENTRY_DISABLED' || known.code === 'INSTANCE_DISABLED');
      problem('NO_HANDLER', 'error',
        `exec: ${quote(name)} is ${describeElf(elf)}, which this kernel does not run natively, and no enabled binfmt_misc entry handles it`,
        disabled ? 'enable the disabled binfmt_misc entry or instance (see above)'
          : `register an emulator: crossroot binfmt install ${target ?? 'ARCH'}`);
      return;
    }
    if (problems.some((known) => known.severity === 'error')) return;
    problem('UNKNOWN_FORMAT', 'error', `exec: no handler recognises ${quote(name)}: it is neither a native ELF program nor a #! script, and no binfmt_misc entry matches it`,
      'add a #! line, or register a binfmt_misc entry for this format');
  }
}

function flagText(entry: BinfmtEntry): string {
  const letters = `${entry.flags.P ? 'P' : ''}${entry.flags.O || entry.flags.C ? 'O' : ''}${entry.flags.C ? 'C' : ''}${entry.flags.F ? 'F' : ''}`;
  return letters === '' ? 'none' : letters;
}

function shebangFailureText(reason: 'all-blank' | 'interpreter-truncated' | 'no-interpreter'): string {
  switch (reason) {
    case 'all-blank': return '#! followed only by blanks';
    case 'interpreter-truncated': return '#! interpreter path not terminated within 256 bytes';
    case 'no-interpreter': return '#! line names no interpreter';
  }
}

type OpenResult =
  | { ok: true; file: OpenedFile }
  | { ok: false; errno: ExecErrno; lookup: FileLookup };

/** do_open_execat: path errors, then a regular file with MAY_EXEC, else EACCES. */
function openExec(lookup: FileLookup): OpenResult {
  if (lookup.kind === 'file') {
    return lookup.executable ? { ok: true, file: lookup } : { ok: false, errno: 'EACCES', lookup };
  }
  return { ok: false, errno: ERRNO_OF_LOOKUP[lookup.kind], lookup };
}

function reportOpenFailure(
  lookup: FileLookup, path: string, role: 'file' | 'emulator' | 'interpreter' | 'loader',
  problem: (code: ProblemCode, severity: Problem['severity'], message: string, fix: string) => void,
  inRoot: string, entry?: BinfmtEntry,
): void {
  const who = role === 'file' ? 'exec' : role === 'emulator' ? `binfmt_misc entry ${quote(entry?.name ?? '?')}` : role === 'interpreter' ? 'script' : 'ELF';
  switch (lookup.kind) {
    case 'missing': {
      if (role === 'file') {
        problem('FILE_MISSING', 'error', `exec: ${quote(path)} does not exist${inRoot}`, 'check the path (relative paths are resolved against the current directory)');
      } else if (role === 'emulator') {
        problem('EMULATOR_MISSING', 'error',
          `${who}: its interpreter ${quote(path)} does not exist${inRoot}, and without F the kernel looks it up at exec time`,
          `install the emulator at ${quote(path)}${inRoot}, or re-register the entry with F and a static emulator (crossroot binfmt install)`);
      } else if (role === 'interpreter') {
        if (path.endsWith('\r')) return; // SCRIPT_CRLF says it
        problem('INTERPRETER_MISSING', 'error', `script: its #! interpreter ${quote(path)} does not exist${inRoot}`, `install ${quote(path)}${inRoot} or change the #! line`);
      } else {
        problem('LOADER_MISSING', 'error',
          `ELF: the program's loader (PT_INTERP) ${quote(path)} does not exist${inRoot}, so exec fails with ENOENT although the program exists`,
          `install the C library that provides ${quote(path)}${inRoot} (e.g. libc6 of the program's architecture)`);
      }
      return;
    }
    case 'file':
      problem('NOT_EXECUTABLE', 'error', `${who}: ${quote(path)} is not executable (no x permission, or a noexec mount)`, `chmod +x ${path}`);
      return;
    case 'dir': case 'special':
      problem('NOT_A_REGULAR_FILE', 'error', `${who}: ${quote(path)} is ${lookup.kind === 'dir' ? 'a directory' : 'not a regular file'}`, 'exec only runs regular files: check the path');
      return;
    case 'notdir': case 'loop': case 'toolong': case 'denied':
      problem('PATH_ERROR', 'error', `${who}: cannot resolve ${quote(path)}${inRoot}: ${{ notdir: 'a component is not a directory', loop: 'too many symbolic links', toolong: 'the path is too long', denied: 'a directory on the way is not searchable' }[lookup.kind]}`,
        'check the path and its directories');
      return;
  }
}
