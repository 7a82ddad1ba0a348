// The one module that starts processes. Callers compute argv arrays as data
// first (see the planners); nothing here ever goes through a shell.
import { spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { CrossrootError } from '../../core/errors.ts';

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly input?: string | Uint8Array;
  /** Kill the process (SIGKILL) after this many milliseconds. */
  readonly timeoutMs?: number;
  /** 'pipe' collects output; 'inherit' passes the terminal through. */
  readonly stdio?: 'pipe' | 'inherit';
  /** Called once the process exists (e.g. to write its uid_map from outside). */
  readonly onSpawn?: (pid: number) => void;
  /** Streams output as it arrives (still collected in the result). */
  readonly onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void;
  /** Pipes stdout into this stream (with backpressure) instead of collecting it. */
  readonly stdoutSink?: NodeJS.WritableStream;
  /** An open file descriptor to use as stdin (instead of a pipe fed with `input`). */
  readonly stdinFd?: number;
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
      stdio: stdio === 'inherit' ? 'inherit' : [options.stdinFd ?? 'pipe', 'pipe', 'pipe'],
      shell: false,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const onOutput = options.onOutput;
    if (options.stdoutSink !== undefined) child.stdout?.pipe(options.stdoutSink);
    else child.stdout?.on('data', (chunk: Buffer) => { out.push(chunk); onOutput?.('stdout', chunk.toString('utf8')); });
    child.stderr?.on('data', (chunk: Buffer) => { err.push(chunk); onOutput?.('stderr', chunk.toString('utf8')); });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
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

/** A process started with startProcess(): still running when returned. */
export interface RunningProcess {
  readonly pid: number | undefined;
  /** The parent's ends of the extra channels, child fds 3, 4, ... (UNIX socket pairs: EOF when the other side dies). */
  readonly channels: readonly Duplex[];
  /** Sends a signal; false when the process is gone. */
  kill(signal: NodeJS.Signals | number): boolean;
  /** Resolves on exit (output is not collected: stdio is inherited). */
  readonly done: Promise<RunResult>;
}

export interface StartOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Extra bidirectional channels given to the child as fds 3, 4, ... */
  readonly channels?: number;
}

/**
 * Starts argv with stdin, stdout and stderr inherited and returns at once, for
 * processes the caller talks to while they run (crossroot run's stage 2 and
 * the command it starts). Spawn errors reject `done`.
 */
export function startProcess(argv: readonly string[], options: StartOptions = {}): RunningProcess {
  const [file, ...args] = argv;
  if (file === undefined) throw new CrossrootError('SPAWN', 'start process: argv is empty');
  const extra = Array.from({ length: options.channels ?? 0 }, () => 'pipe' as const);
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: options.env === undefined ? process.env : { ...options.env },
    stdio: ['inherit', 'inherit', 'inherit', ...extra],
    shell: false,
  });
  const channels = child.stdio.slice(3).filter((stream) => stream !== null && stream !== undefined) as Duplex[];
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(new CrossrootError('SPAWN', `start process: '${file}' ${error.code ?? error.message}`, {
        hint: error.code === 'ENOENT' ? `install the program '${file}' or put it on PATH` : undefined,
        cause: error,
      }));
    });
    child.on('exit', (exitCode, signal) => {
      resolve({ argv, exitCode, signal, stdout: '', stderr: '', timedOut: false });
    });
  });
  return {
    pid: child.pid,
    channels,
    kill: (signal) => {
      try {
        return child.kill(signal);
      } catch {
        return false;
      }
    },
    done,
  };
}
