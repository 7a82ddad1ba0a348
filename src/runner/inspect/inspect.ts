// `crossroot inspect`: what one file is (ELF, `#!` script or other), read
// from the host or from inside a root directory.
import { statSync } from 'node:fs';
import { archOfElf, debianArchOf } from '../../core/arch/arch.ts';
import type { ArchName } from '../../core/arch/arch.ts';
import { looksLikeElf, parseElf } from '../../core/elf/elf.ts';
import type { ElfFile, ElfProblemCode, ElfType } from '../../core/elf/elf.ts';
import { elfMachineName } from '../../core/elf/machines.ts';
import { abiOf, elfFlagsText, osabiName } from '../../core/elf/describe.ts';
import { CrossrootError, isCrossrootError } from '../../core/errors.ts';
import type { ErrorCode } from '../../core/errors.ts';
import { isShebang, parseShebang } from '../../core/exec/shebang.ts';
import { openFileSource } from '../fs/file-source.ts';
import { resolveHostPathInRoot } from '../fs/root-fs.ts';

/** bprm->buf: all the kernel (and `#!` parsing) ever looks at. */
const HEAD_SIZE = 256;

export interface ElfRecord {
  readonly class: 32 | 64;
  readonly endian: 'little' | 'big';
  readonly osabi: number;
  /** EI_OSABI in words, as file(1) says it ('GNU/Linux', 'SYSV'). */
  readonly osabiName: string;
  readonly machine: number;
  readonly machineName: string;
  /** An ABI the machine alone does not tell ('x32', 'n32'), or null. */
  readonly abi: string | null;
  readonly type: ElfType;
  readonly flags: number;
  /** e_flags in words where they name an ABI ('EABI5 hard-float', 'MIPS32 rel2 o32'), else null. */
  readonly flagsText: string | null;
  readonly pie: boolean;
  readonly static: boolean;
  readonly interpreter: string | null;
  readonly needed: readonly string[];
  readonly soname: string | null;
  readonly runpath: string | null;
  readonly rpath: string | null;
  readonly buildId: string | null;
  /** What the reader could not read (a partial result); empty for a sound file. */
  readonly problems: readonly { readonly code: ElfProblemCode; readonly message: string }[];
}

export interface ScriptRecord {
  /** null when the kernel refuses the `#!` line (see errno/reason). */
  readonly interpreter: string | null;
  readonly argument: string | null;
  /** The kernel's answer to executing it when the line is unusable ('ENOEXEC'), else null. */
  readonly errno: 'ENOEXEC' | null;
  readonly reason: string | null;
  /** The #! line ends with CR LF: the kernel keeps the \r in the interpreter or argument. */
  readonly crlf: boolean;
}

export interface InspectRecord {
  /** The path as given. */
  readonly path: string;
  /** With --root: the path the root resolves it to (root-relative, symlinks followed). */
  readonly resolvedPath?: string;
  /** null when the file could not be read. */
  readonly kind: 'elf' | 'script' | 'other' | null;
  readonly arch: ArchName | null;
  readonly debianArch: string | null;
  readonly elf?: ElfRecord;
  readonly script?: ScriptRecord;
  /** Set when the file could not be read, or its ELF structures are broken; `detail` is the reader's own words. */
  readonly error?: { readonly code: ErrorCode; readonly message: string; readonly detail?: string };
}

function elfRecord(elf: ElfFile): ElfRecord {
  return {
    class: elf.class,
    endian: elf.endian,
    osabi: elf.osabi,
    osabiName: osabiName(elf.osabi),
    machine: elf.machine,
    machineName: elfMachineName(elf.machine),
    abi: abiOf(elf.machine, elf.class, elf.flags),
    type: elf.type,
    flags: elf.flags,
    flagsText: elfFlagsText(elf.machine, elf.class, elf.flags),
    pie: elf.pie,
    static: elf.static,
    interpreter: elf.interpreter,
    needed: elf.needed,
    soname: elf.soname,
    runpath: elf.runpath,
    rpath: elf.rpath,
    buildId: elf.buildId,
    problems: elf.problems.map((problem) => ({ code: problem.code, message: problem.message })),
  };
}

/** Partial-result problems as one error: truncation or an impossible field. */
function problemsAsError(path: string, elf: ElfRecord): InspectRecord['error'] {
  const first = elf.problems[0];
  if (first === undefined) return undefined;
  const code: ErrorCode = first.code.endsWith('TRUNCATED') ? 'ELF_TRUNCATED' : 'ELF_MALFORMED';
  const more = elf.problems.length > 1 ? ` (and '${elf.problems.length - 1}' more)` : '';
  return { code, message: `inspect '${path}': ${first.message}${more}`, detail: first.message };
}

function scriptRecord(head: Uint8Array): ScriptRecord {
  const parsed = parseShebang(head);
  if (parsed === null) return { interpreter: null, argument: null, errno: 'ENOEXEC', reason: 'no-shebang', crlf: false };
  if (!parsed.ok) return { interpreter: null, argument: null, errno: parsed.errno, reason: parsed.reason, crlf: false };
  const crlf = parsed.interpreter.endsWith('\r') || (parsed.argument?.endsWith('\r') ?? false);
  return { interpreter: parsed.interpreter, argument: parsed.argument, errno: null, reason: null, crlf };
}

/** Inspects the file at `hostPath`; `path` is what the record shows. Never throws for file problems. */
export function inspectHostFile(path: string, hostPath: string): InspectRecord {
  let source;
  try {
    source = openFileSource(hostPath);
  } catch (error) {
    return failed(path, null, error);
  }
  try {
    const head = source.read(0, HEAD_SIZE);
    if (looksLikeElf(head)) {
      try {
        const elf = elfRecord(parseElf(source));
        const facts = { class: elf.class, endian: elf.endian, machine: elf.machine, flags: elf.flags };
        const error = problemsAsError(path, elf);
        return {
          path, kind: 'elf', arch: archOfElf(facts)?.name ?? null, debianArch: debianArchOf(facts), elf,
          ...(error === undefined ? {} : { error }),
        };
      } catch (error) {
        return failed(path, 'elf', error);
      }
    }
    if (isShebang(head)) return { path, kind: 'script', arch: null, debianArch: null, script: scriptRecord(head) };
    return { path, kind: 'other', arch: null, debianArch: null };
  } catch (error) {
    return failed(path, null, error);
  } finally {
    source.close();
  }
}

function failed(path: string, kind: InspectRecord['kind'], error: unknown): InspectRecord {
  if (!isCrossrootError(error)) throw error;
  // The path as the user typed it, once: "inspect 'x': permission denied", not the resolved path again.
  const message = error.message.includes(`'${path}'`) ? error.message : `inspect '${path}': ${error.message.replace(/^[a-z ]+ '[^']*':? /, '')}`;
  return { path, kind, arch: null, debianArch: null, error: { code: error.code, message, detail: error.message } };
}

/** Inspects `path`, on the host (relative to `cwd`) or inside `root` when given. */
export function inspectPath(path: string, options: { cwd: string; root?: string | undefined }): InspectRecord {
  if (options.root === undefined) {
    const hostPath = path.startsWith('/') ? path : `${options.cwd.replace(/\/+$/, '')}/${path}`;
    return inspectHostFile(path, hostPath);
  }
  let resolved;
  try {
    resolved = resolveHostPathInRoot(options.root, path);
  } catch (error) {
    return failed(path, null, error);
  }
  const { path: shown, ...rest } = inspectHostFile(path, resolved.hostPath);
  return { path: shown, resolvedPath: resolved.path, ...rest };
}

/** --root DIR, checked: it must be a directory (NOT_FOUND, NOT_A_DIRECTORY otherwise). */
export function checkedRoot(root: string): string {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(root).isDirectory();
  } catch {
    throw new CrossrootError('NOT_FOUND', `open root '${root}': it does not exist`, {
      hint: 'give --root the directory of a root filesystem',
    });
  }
  if (!isDirectory) {
    throw new CrossrootError('NOT_A_DIRECTORY', `open root '${root}': not a directory`, {
      hint: 'give --root the directory of a root filesystem',
    });
  }
  return root;
}
