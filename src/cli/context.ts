// What a command may touch: its output streams, its terminal and its
// environment. Tests pass their own; bin.ts passes the process's.
import type { Command } from 'commander';
import type { JsonStream } from './render/json.ts';
import { reportError } from './render/errors.ts';

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdoutIsTTY: boolean;
  /** Progress displays redraw one line only on a terminal. */
  readonly stderrIsTTY?: boolean;
  /** The terminal's width in columns; undefined when output is not a terminal (tables do not wrap). */
  readonly columns?: number | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export interface CliContext {
  readonly io: Io;
  /** The words the user typed after `crossroot` (`run` needs to know where `--` was). */
  readonly argv: readonly string[];
  exitCode: number;
  /** The whole command tree, every command loaded (for completion and the man page). */
  readonly program: () => Promise<Command>;
}

/** Where each command's --json document goes (stdout unless onRun was told otherwise). */
const JSON_STREAMS = new WeakMap<Command, JsonStream>();

export function jsonStreamOf(command: Command): JsonStream {
  return JSON_STREAMS.get(command) ?? 'stdout';
}

/**
 * Attaches an async handler to a commander command. The handler gets the
 * positional arguments and the options, and returns the exit status; an
 * error it throws is reported (as JSON too with --json, on `jsonStream`).
 */
export function onRun<Options>(
  command: Command,
  context: CliContext,
  handler: (args: string[], options: Options) => Promise<number>,
  jsonStream: JsonStream = 'stdout',
): Command {
  JSON_STREAMS.set(command, jsonStream);
  return command.action(async () => {
    try {
      const args = command.processedArgs.flatMap((value: unknown) =>
        Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]);
      context.exitCode = await handler(args, command.opts<Options & Record<string, unknown>>());
    } catch (error) {
      context.exitCode = reportError(context.io, error, command.opts()['json'] === true ? jsonStream : null);
    }
  });
}
