// The one way tests run the CLI: in-process with captured output (runCli,
// runCliJson), or as a subprocess when the test needs a real process (signals,
// a terminal, another user, a namespace): cliCommand gives its argv, spawnCli runs it.
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.ts';
import { runProcess } from '../../src/runner/process/process.ts';
import type { RunOptions, RunResult } from '../../src/runner/process/process.ts';

/** The CLI's entry point in this checkout. */
export const CLI_BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** argv that runs `crossroot ARGS...` from the sources (`bin` and `tsx` for a copy of the repository elsewhere). */
export function cliCommand(args: readonly string[], where: { bin?: string; tsx?: string } = {}): string[] {
  return [process.execPath, '--import', where.tsx ?? TSX, where.bin ?? CLI_BIN, ...args];
}

/** Runs `crossroot ARGS...` as a subprocess; `env` is added to the test's environment. */
export function spawnCli(args: readonly string[], options: Omit<RunOptions, 'env'> & { env?: Record<string, string> } = {}): Promise<RunResult> {
  return runProcess(cliCommand(args), { timeoutMs: 60_000, ...options, env: { ...process.env, ...options.env } });
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(argv: readonly string[], options: { cwd?: string; env?: Record<string, string>; columns?: number } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (text) => { stdout += text; },
    stderr: (text) => { stderr += text; },
    stdoutIsTTY: false,
    columns: options.columns,
    env: { ...process.env, ...options.env },
    cwd: options.cwd ?? process.cwd(),
  });
  return { code, stdout, stderr };
}

/** Runs the CLI and parses its --json output. */
export async function runCliJson<T = unknown>(argv: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun & { json: T }> {
  // Right after the command's name: words after `explain PATH` are the program's, not crossroot's.
  const at = argv[0] === 'binfmt' || argv[0] === 'roots' ? 2 : 1;
  const result = await runCli([...argv.slice(0, at), '--json', ...argv.slice(at)], options);
  let json: T;
  try {
    json = JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`crossroot ${argv.join(' ')} --json printed no JSON (exit ${result.code}): ${result.stdout}${result.stderr}`);
  }
  return { ...result, json };
}

/** The stable code of the error a `--json` run reported (on stdout, or stderr for run and shell); null when none. */
export function errorCodeOf(run: CliRun): string | null {
  for (const text of [run.stdout, run.stderr]) {
    const start = text.indexOf('{\n  "error"');
    if (start < 0) continue;
    const document = JSON.parse(text.slice(start)) as { error?: { code?: string } };
    return document.error?.code ?? null;
  }
  return null;
}
