// Runs the CLI in-process with captured output, as a user would call it.
import { main } from '../../src/cli/main.ts';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(argv: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (text) => { stdout += text; },
    stderr: (text) => { stderr += text; },
    stdoutIsTTY: false,
    env: { ...process.env, ...options.env },
    cwd: options.cwd ?? process.cwd(),
  });
  return { code, stdout, stderr };
}

/** Runs the CLI and parses its --json output. */
export async function runCliJson<T = unknown>(argv: readonly string[], options: { cwd?: string } = {}): Promise<CliRun & { json: T }> {
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
