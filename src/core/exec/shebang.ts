// The `#!` line as the kernel reads it: fs/binfmt_script.c load_script() (the
// non-destructive parser of 5.8+; kernel-exec-spec.md section 5). The kernel
// sees only bprm->buf: the first BINPRM_BUF_SIZE bytes of the file, zero-padded.
//
// Strings are "byte strings": one char per byte (latin1), so a path goes back
// to the kernel exactly as it was read (Linux paths are bytes, not UTF-8).
import { BINPRM_BUF_SIZE } from '../binfmt/entry.ts';

export type ShebangResult =
  | {
    readonly ok: true;
    /** Byte string; may be empty (a NUL or the end of the file right after `#!`): open_exec("") then opens the cwd, EACCES. */
    readonly interpreter: string;
    /** The one optional argument (may hold spaces), or null. */
    readonly argument: string | null;
    /** No newline in the 256-byte window and the file is at least that long: the argument may be cut at byte 254. */
    readonly truncated: boolean;
  }
  | { readonly ok: false; readonly errno: 'ENOEXEC'; readonly reason: ShebangFailure };

export type ShebangFailure =
  /** Only blanks in the whole window after `#!`. */
  | 'all-blank'
  /** No newline in the window and no blank/NUL ends the interpreter before byte 256. */
  | 'interpreter-truncated'
  /** `#!` followed by only blanks and a newline. */
  | 'no-interpreter';

const NEWLINE = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;

/** Only space and TAB separate: `\r`, `\v`, `\f` are ordinary bytes. */
function isBlank(byte: number): boolean {
  return byte === SPACE || byte === TAB;
}

/** Bytes in [first, last] (inclusive, like the kernel's helpers), or null. */
function nextNonBlank(buf: Uint8Array, first: number, last: number): number | null {
  for (let i = first; i <= last; i++) if (!isBlank(buf[i] ?? 0)) return i;
  return null;
}

function nextTerminator(buf: Uint8Array, first: number, last: number): number | null {
  for (let i = first; i <= last; i++) {
    const byte = buf[i] ?? 0;
    if (isBlank(byte) || byte === 0) return i;
  }
  return null;
}

/** The bytes from `start` up to the first NUL or `end` (exclusive), as a byte string. */
function cString(buf: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) {
    const byte = buf[i] ?? 0;
    if (byte === 0) break;
    text += String.fromCharCode(byte);
  }
  return text;
}

/** True when the window starts with `#!` (load_script's "not ours" test). */
export function isShebang(head: Uint8Array): boolean {
  return head[0] === 0x23 && head[1] === 0x21;
}

/**
 * Parses a `#!` line exactly as load_script does. `head` is the start of the
 * file (only the first 256 bytes count; shorter means the file ends there).
 * Returns null when the file does not start with `#!` (the script handler
 * declines, ENOEXEC, and the search goes on).
 */
export function parseShebang(head: Uint8Array): ShebangResult | null {
  if (!isShebang(head)) return null;
  // bprm->buf: zero-filled, then the file's first bytes.
  const buf = new Uint8Array(BINPRM_BUF_SIZE);
  buf.set(head.subarray(0, BINPRM_BUF_SIZE));
  const bufEnd = BINPRM_BUF_SIZE - 1;

  let end = buf.indexOf(NEWLINE);
  let truncated = false;
  if (end < 0) {
    const first = nextNonBlank(buf, 2, bufEnd);
    if (first === null) return { ok: false, errno: 'ENOEXEC', reason: 'all-blank' };
    // Without a later blank or NUL the interpreter path may be cut: never run it.
    if (nextTerminator(buf, first, bufEnd) === null) {
      return { ok: false, errno: 'ENOEXEC', reason: 'interpreter-truncated' };
    }
    end = bufEnd; // byte 255 becomes the terminator: the argument ends at 254
    truncated = head.length >= BINPRM_BUF_SIZE;
  }
  while (isBlank(buf[end - 1] ?? 0)) end--;

  const name = nextNonBlank(buf, 2, end);
  if (name === null || name === end) return { ok: false, errno: 'ENOEXEC', reason: 'no-interpreter' };

  const separator = nextTerminator(buf, name, end);
  let argument: string | null = null;
  if (separator !== null && buf[separator] !== 0) {
    const argStart = nextNonBlank(buf, separator, end);
    // With no newline, argStart can land on the NUL padding: an empty argument
    // (the 2021 "extra empty argument" quirk).
    if (argStart !== null) argument = cString(buf, argStart, end);
  }
  const nameEnd = argument !== null && separator !== null ? separator : end;
  return { ok: true, interpreter: cString(buf, name, nameEnd), argument, truncated };
}

/** What load_script builds: interpreter, [argument], the path as invoked, then the caller's argv minus argv[0]. */
export function scriptArgv(interpreter: string, argument: string | null, invokedPath: string, argv: readonly string[]): string[] {
  return [interpreter, ...(argument === null ? [] : [argument]), invokedPath, ...argv.slice(1)];
}
