// How every command reports a failure: one line `crossroot: <message>`, then
// `hint: <fix>` when a fix is known; never a stack trace (CROSSROOT_DEBUG=1
// adds it for internal errors). The exit status comes from the error's code.
import type { Io } from '../context.ts';
import { exitStatusOf, isCrossrootError } from '../../core/errors.ts';
import type { JsonStream } from './json.ts';
import { errorJson, writeJson } from './json.ts';
import { painter } from './style.ts';

/** Prints one error; with `json`, as one JSON document there too (only there when that is stderr). */
export function reportError(io: Io, error: unknown, json: JsonStream | null = null): number {
  if (json !== null) writeJson(io, errorJson(error), json);
  if (json === 'stderr') return exitStatusOf(error);
  const paint = painter(io, 'stderr');
  if (isCrossrootError(error)) {
    io.stderr(`crossroot: ${paint('bad', error.message)}\n`);
    if (error.hint !== undefined) io.stderr(`hint: ${error.hint}\n`);
    return exitStatusOf(error);
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr(`crossroot: internal error: ${message}\n`);
  io.stderr('hint: this is a bug in crossroot; set CROSSROOT_DEBUG=1 for the stack and report it\n');
  if (io.env['CROSSROOT_DEBUG'] && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
  return exitStatusOf(error);
}

/** A warning line: `crossroot: warning: ...`. */
export function warn(io: Io, text: string): void {
  io.stderr(`crossroot: ${painter(io, 'stderr')('warn', 'warning')}: ${text}\n`);
}

/** A note line: `crossroot: note: ...`. */
export function note(io: Io, text: string): void {
  io.stderr(`crossroot: note: ${text}\n`);
}

/** A plain line of what crossroot is doing: `crossroot: ...`. */
export function info(io: Io, text: string): void {
  io.stderr(`crossroot: ${text}\n`);
}
