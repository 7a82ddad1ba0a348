// What a command may touch: its output streams and its environment. Tests
// pass their own; bin.ts passes the process's.
import type { Command } from 'commander';
import { CrossrootError, UsageError, exitStatusOf, isCrossrootError } from '../core/errors.ts';

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdoutIsTTY: boolean;
  /** Progress displays redraw one line only on a terminal. */
  readonly stderrIsTTY?: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export interface CliContext {
  readonly io: Io;
  exitCode: number;
}

/** An error as the JSON document a `--json` command prints instead of its report. */
export function errorJson(error: unknown): { error: { code: string; message: string; hint: string | null } } {
  if (isCrossrootError(error)) return { error: { code: error.code, message: error.message, hint: error.hint ?? null } };
  return { error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), hint: null } };
}

/**
 * Prints one error the way every command does: one line, then a hint; with
 * `json`, the same as one JSON document on `json` (stdout, or stderr for the
 * commands whose stdout belongs to a program they run).
 */
export function reportError(io: Io, error: unknown, json: 'stdout' | 'stderr' | null = null): number {
  if (json !== null) io[json](`${JSON.stringify(errorJson(error), null, 2)}\n`);
  if (json === 'stderr') return exitStatusOf(error);
  if (isCrossrootError(error)) {
    io.stderr(`crossroot: ${error.message}\n`);
    if (error.hint !== undefined) io.stderr(`hint: ${error.hint}\n`);
    return exitStatusOf(error);
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr(`crossroot: internal error: ${message}\n`);
  io.stderr('hint: this is a bug in crossroot; set CROSSROOT_DEBUG=1 for the stack and report it\n');
  if (io.env['CROSSROOT_DEBUG'] && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
  return exitStatusOf(error);
}

export function writeJson(io: Io, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Attaches an async handler to a commander command. The handler gets the
 * positional arguments and the options, and returns the exit status.
 */
export function onRun<Options>(
  command: Command,
  context: CliContext,
  handler: (args: string[], options: Options) => Promise<number>,
  jsonStream: 'stdout' | 'stderr' = 'stdout',
): Command {
  return command.action(async () => {
    try {
      const args = command.processedArgs.flatMap((value: unknown) =>
        Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]);
      context.exitCode = await handler(args, command.opts<Options & Record<string, unknown>>());
    } catch (error) {
      const json = command.opts()['json'] === true ? jsonStream : null;
      context.exitCode = reportError(context.io, error, json);
    }
  });
}

/** Parses a non-negative integer option, or throws a usage error. */
export function parseCount(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new UsageError(`parse option '${name}': '${value}' is not a whole number`);
    return Number(value);
  };
}

export { CrossrootError };
