// The one module that starts processes. Callers compute argv arrays as data
// first (see the planners); nothing here ever goes through a shell.
import { spawn } from 'node:child_process';
import { CrossrootError } from '../core/errors.ts';

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly input?: string | Uint8Array;
  /** Kill the process (SIGKILL) after this many milliseconds. */
  readonly timeoutMs?: number;
  /** 'pipe' collects output; 'inherit' passes the terminal through. */
  readonly stdio?: 'pipe' | 'inherit';
}

export interface RunResult {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Runs argv[0] with argv[1..]; resolves on exit whatever the status. */
export function runProcess(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (file === undefined) {
    return Promise.reject(new CrossrootError('SPAWN', 'start process: argv is empty'));
  }
  return new Promise((resolve, reject) => {
    const stdio = options.stdio ?? 'pipe';
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env === undefined ? process.env : { ...options.env },
      stdio: stdio === 'inherit' ? 'inherit' : ['pipe', 'pipe', 'pipe'],
      shell: false,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    let timedOut = false;
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (timer !== undefined) clearTimeout(timer);
      reject(new CrossrootError('SPAWN', `start process: '${file}' ${error.code ?? error.message}`, {
        hint: error.code === 'ENOENT' ? `install the program '${file}' or put it on PATH` : undefined,
        cause: error,
      }));
    });
    child.on('close', (exitCode, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({
        argv,
        exitCode,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    if (child.stdin) {
      child.stdin.on('error', () => { /* the child may exit before reading its input */ });
      child.stdin.end(options.input ?? '');
    }
  });
}
