// The one module that starts processes. Callers compute argv arrays as data
// first (see the planners); nothing here ever goes through a shell.
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ErrorCode } from '../../core/errors.ts';
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

// --- a process that failed ------------------------------------------------

/** The status a shell reports for a finished process: its exit code, or 128+N when signal N killed it. */
export function exitStatusOf(result: Pick<RunResult, 'exitCode' | 'signal'>): number {
  if (result.exitCode !== null) return result.exitCode;
  const number = result.signal === null ? 0 : (osConstants.signals as Record<string, number>)[result.signal] ?? 0;
  return 128 + number;
}

/** How a process ended, for a message: "exited with status '2'", "was killed by 'SIGKILL'", "timed out". */
export function describeEnd(result: Pick<RunResult, 'exitCode' | 'signal' | 'timedOut'>): string {
  if (result.timedOut) return 'timed out';
  if (result.exitCode !== null) return `exited with status '${String(result.exitCode)}'`;
  return `was killed by '${String(result.signal)}'`;
}

/** Lines of a failed process's stderr worth showing: apt's "E:" lines when there are any, else the last three (mount's dmesg(1) advice dropped). */
export function shortStderr(stderr: string): string {
  const lines = stderr.split(/\r?\n|\r/).map((line) => line.trim()).filter((line) => line !== '' && !line.includes('dmesg(1)'));
  const errors = lines.filter((line) => line.startsWith('E:'));
  const text = (errors.length > 0 ? errors.slice(-1) : lines.slice(-3)).join('; ');
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

/** What a caller says about a process that must succeed: the error code and the action, for the message. */
export interface FailurePolicy {
  readonly code: ErrorCode;
  /** The action, first in the message ("map ids with newuidmap"). */
  readonly action: string;
  readonly hint?: string | undefined;
  /** The program to name when argv[0] only wraps it (unshare, nsenter); default argv[0]. */
  readonly program?: string | undefined;
}

/**
 * A process that did not exit 0 (execa's model): the command, how it ended
 * (exit code or signal) and a short stderr, with the caller's stable code.
 */
export class ProcessError extends CrossrootError {
  readonly command: readonly string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  /** shortStderr() of the process's stderr. */
  readonly stderr: string;

  constructor(result: Pick<RunResult, 'argv' | 'exitCode' | 'signal' | 'stderr' | 'timedOut'>, policy: FailurePolicy) {
    const stderr = shortStderr(result.stderr);
    super(policy.code, `${policy.action}: '${policy.program ?? result.argv[0] ?? ''}' ${describeEnd(result)}${stderr === '' ? '' : `: ${stderr}`}`, { hint: policy.hint });
    this.name = 'ProcessError';
    this.command = result.argv;
    this.exitCode = result.exitCode;
    this.signal = result.signal;
    this.timedOut = result.timedOut;
    this.stderr = stderr;
  }
}

export function isProcessError(value: unknown): value is ProcessError {
  return value instanceof ProcessError;
}

/** The result when the process exited 0; a ProcessError otherwise. */
export function checkResult(result: RunResult, policy: FailurePolicy): RunResult {
  if (result.exitCode === 0 && !result.timedOut) return result;
  throw new ProcessError(result, policy);
}

/** runProcess() that throws a ProcessError unless the process exits 0. */
export async function runChecked(argv: readonly string[], policy: FailurePolicy, options: RunOptions = {}): Promise<RunResult> {
  return checkResult(await runProcess(argv, options), policy);
}

// --- node scripts ---------------------------------------------------------

/**
 * argv that runs the module `name` beside `fromUrl` (an import.meta.url) as a
 * node script. One policy for every child script: from source (.ts) node
 * loads tsx, resolved here so the child's cwd does not matter; from dist
 * (.js) no flag at all. The parent's other execArgv (the test runner's
 * flags, --inspect ...) never reach the child.
 */
export function nodeScriptArgv(fromUrl: string, name: string): string[] {
  const fromSource = fromUrl.endsWith('.ts');
  const script = fileURLToPath(new URL(`./${name}${fromSource ? '.ts' : '.js'}`, fromUrl));
  return fromSource ? [process.execPath, '--import', import.meta.resolve('tsx'), script] : [process.execPath, script];
}
