// JSON output: one document per command, pretty-printed, on stdout (or on
// stderr for `run` and `shell`, whose stdout belongs to the program they run).
import type { Io } from '../context.ts';
import { isCrossrootError } from '../../core/errors.ts';

export type JsonStream = 'stdout' | 'stderr';

export function writeJson(io: Io, value: unknown, stream: JsonStream = 'stdout'): void {
  io[stream](`${JSON.stringify(value, null, 2)}\n`);
}

/** An error as the JSON document a `--json` command prints instead of its report. */
export function errorJson(error: unknown): { error: { code: string; message: string; hint: string | null } } {
  if (isCrossrootError(error)) return { error: { code: error.code, message: error.message, hint: error.hint ?? null } };
  return { error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), hint: null } };
}

/** Byte strings (latin1, as the core and the kernel hand them) as the UTF-8 text a terminal shows. */
export function displayText(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** Command-line text (UTF-8 decoded by Node) to the byte strings the core uses. */
export function toBytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** Every string in a JSON-able value, converted back from a byte string. */
export function displayable(value: unknown): unknown {
  if (typeof value === 'string') return displayText(value);
  if (Array.isArray(value)) return value.map(displayable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, displayable(field)]));
  }
  return value;
}
