// The runner's half of `crossroot run --accelerate --icecream SCHEDULER[:PORT]`
// (core/icecream/icecream-plan.ts plans the mounts): packs (or takes from the
// cache) the toolchain environment, prepares the run's host directory, starts
// the run's own iceccd just before the root is set up, and after the run stops it,
// reads the client's log and says on stderr which jobs were compiled locally
// and why. The host directory is named for the run (run-dir.ts), so one left
// by a run killed with SIGKILL is removed by the next. The daemon runs unprivileged (the 'icecc' user, else nobody, when
// crossroot is root) with a parent-death signal, so it never outlives crossroot.
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { AccelerateMount } from '../../core/accelerate/accelerate-plan.ts';
import type { SetupStep } from '../../core/enter/setup-steps.ts';
import { CrossrootError } from '../../core/errors.ts';
import {
  RUN_DIR_IN_ROOT, RUN_DIR_LAYOUT, SOCKET_NAME, daemonCommand, fallbackLines, formatScheduler, icecreamEnvironment, icecreamSteps,
  localDaemonArgv, parseScheduler, planIcecreamRoot, summarizeClientLog,
} from '../../core/icecream/icecream-plan.ts';
import type { SchedulerAddress } from '../../core/icecream/icecream-plan.ts';
import { parsePasswd } from '../../core/users/passwd.ts';
import type { AccelerationFacts } from '../accelerate/accelerate.ts';
import { treeFacts } from '../accelerate/accelerate.ts';
import { runProcess } from '../process/process.ts';
import type { RunResult } from '../process/process.ts';
import { createRunDir } from './run-dir.ts';
import { ensureToolchainEnv } from './toolchain-env.ts';

export interface IcecreamOptions {
  /** SCHEDULER[:PORT] of the cluster's icecc-scheduler (default port 8765). */
  readonly scheduler: string;
  /** How long to wait for the run's daemon to reach the scheduler (default 20 s; jobs compile locally meanwhile). */
  readonly connectTimeoutMs?: number;
}

export interface PreparedIcecream {
  readonly scheduler: SchedulerAddress;
  /** Mounts to build after the acceleration's (the shadow of /usr/bin). */
  readonly mounts: readonly AccelerateMount[];
  /** Steps after the acceleration's (the run directory and socket directory). */
  readonly steps: readonly SetupStep[];
  readonly env: Readonly<Record<string, string>>;
  readonly hostRunDir: string;
  readonly tarball: string;
  /** Starts the run's daemon (on the host, just before the setup); resolves with stderr lines. */
  start(): Promise<string[]>;
  /** Stops the daemon, removes the host directory; resolves with stderr lines. */
  finish(): Promise<string[]>;
}

/**
 * Asks the scheduler's text interface (its port + 1) one command, as
 * `telnet SCHEDULER 8766` would, and resolves with the answer, or rejects
 * with the reason it could not. Never a bare connection to the scheduler's
 * own port: icecc-scheduler 1.4 stops serving everyone after a client that
 * connects there and hangs up without a handshake.
 */
export function askScheduler(scheduler: SchedulerAddress, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: scheduler.host, port: scheduler.port + 1 });
    let text = '';
    let sent = false;
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no answer within ${String(timeoutMs / 1000)} s`));
    });
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (!sent && /^200 /m.test(text)) {
        sent = true;
        socket.write(`${command}\nquit\n`);
      }
      if (/^200 Good Bye!/m.test(text)) socket.end();
    });
    socket.once('close', () => (sent ? resolve(text) : reject(new Error('the connection closed before the greeting'))));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      reject(new Error(error.code ?? error.message));
    });
  });
}

/** The uid/gid the daemon runs as when crossroot is root: 'icecc' (Debian's package), else nobody. */
function daemonIds(): { uid: number; gid: number } | null {
  if (process.geteuid?.() !== 0) return null;
  try {
    const entry = parsePasswd(readFileSync('/etc/passwd', 'utf8')).find((user) => user.name === 'icecc');
    if (entry !== undefined) return { uid: entry.uid, gid: entry.gid };
  } catch {
    // no passwd: nobody
  }
  return { uid: 65534, gid: 65534 };
}

function findOnPath(name: string): string | null {
  for (const dir of (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!dir.startsWith('/')) continue;
    try {
      return realpathSync(join(dir, name));
    } catch {
      // next
    }
  }
  return null;
}

function placeholder(path: string, kind: 'file' | 'dir'): void {
  if (kind === 'dir') mkdirSync(path, { mode: 0o755 });
  else closeSync(openSync(path, 'wx', 0o644));
}

/**
 * Plans the icecream part of an accelerated run. Returns the reason when the
 * cluster cannot be used at all (the run then goes on with local acceleration).
 */
export async function prepareIcecream(facts: AccelerationFacts, runDir: string | null, options: IcecreamOptions,
  home: string | undefined): Promise<PreparedIcecream | string> {
  const scheduler = parseScheduler(options.scheduler);
  if (scheduler === null) {
    throw new CrossrootError('USAGE', `parse --icecream '${options.scheduler}': give SCHEDULER[:PORT] (a host name or address, port 1-65535)`);
  }
  const { plan } = facts;
  const major = plan.tools.filter((tool) => tool.tool === 'cc1' && tool.status === 'substituted').map((tool) => tool.gccMajor).at(-1);
  if (plan.triplet === null || plan.sourceDir === null || major === undefined || major === null) {
    return 'the root\'s cc1 is not accelerated, so there is no native compiler to hand to the cluster';
  }
  if (runDir === null) return 'the root has no /run for the daemon\'s socket';
  const client = findOnPath('icecc');
  const daemon = findOnPath('iceccd');
  if (client === null || daemon === null) return 'icecc and iceccd are not installed (Debian package \'icecc\')';
  const verdict = planIcecreamRoot(treeFacts(facts.rootDir), plan.triplet, major);
  if (verdict.plan === null) return verdict.refused;
  const env = await ensureToolchainEnv(plan.sourceDir, plan.triplet, major, home === undefined ? {} : { home });
  const tarballName = env.path.slice(env.path.lastIndexOf('/') + 1);
  const hostRunDir = createRunDir();
  chmodSync(hostRunDir, 0o755);
  const ids = daemonIds();
  const daemonDir = join(hostRunDir, RUN_DIR_LAYOUT.daemon);
  placeholder(join(hostRunDir, RUN_DIR_LAYOUT.client), 'file');
  placeholder(join(hostRunDir, RUN_DIR_LAYOUT.lib), 'dir');
  placeholder(join(hostRunDir, tarballName), 'file');
  placeholder(daemonDir, 'dir');
  if (ids !== null) chownSync(daemonDir, ids.uid, ids.gid);
  mkdirSync(join(hostRunDir, RUN_DIR_LAYOUT.log));
  chmodSync(join(hostRunDir, RUN_DIR_LAYOUT.log), 0o1777);
  const lib = realpathSync('/lib64/ld-linux-x86-64.so.2').replace(/\/[^/]+$/, '');
  let daemonPid = 0;
  let daemonDone: Promise<RunResult> | null = null;
  const connectTimeoutMs = options.connectTimeoutMs ?? 20_000;
  return {
    scheduler,
    mounts: verdict.plan.mounts,
    steps: icecreamSteps(facts.rootDir, runDir, hostRunDir, { client, lib, tarball: env.path, tarballName }),
    env: icecreamEnvironment(`${RUN_DIR_IN_ROOT}/${tarballName}`, plan.triplet),
    hostRunDir,
    tarball: env.path,
    start: async () => {
      const where = formatScheduler(scheduler);
      // The daemon starts even when the scheduler is unreachable: the clients then learn from it
      // to compile locally (else icecc falls back to lock files in the root's /tmp).
      const unreachable = await askScheduler(scheduler, 'listcs').then(() => null, (error: unknown) => (error as Error).message);
      const argv = daemonCommand(daemon, localDaemonArgv(scheduler, daemonDir, `crossroot-${hostname()}-${String(process.pid)}`), ids);
      const done = runProcess(argv, { env: { ...process.env, ICECC_TEST_SOCKET: join(daemonDir, SOCKET_NAME) }, onSpawn: (spawned) => { daemonPid = spawned; } });
      daemonDone = done;
      void done.then(() => { daemonPid = 0; }, () => { daemonPid = 0; });
      if (unreachable !== null) return [`scheduler '${where}' is unreachable (${unreachable}): jobs compile locally, accelerated`];
      const connected = await waitForConnection(daemonDir, connectTimeoutMs, done);
      if (!connected && daemonPid === 0) {
        const result = await done.catch((error: unknown) => ({ stderr: String(error), exitCode: null }));
        return [`the run's iceccd exited (${String(result.exitCode)}): ${result.stderr.trim().split('\n').at(-1) ?? ''}; every job compiles locally, accelerated`];
      }
      return connected ? [] : [`the run's iceccd did not reach scheduler '${where}' within ${String(connectTimeoutMs / 1000)} s: jobs compile locally until it does`];
    },
    finish: async () => {
      if (daemonPid > 0) {
        try {
          process.kill(daemonPid, 'SIGTERM');
        } catch {
          // gone already
        }
      }
      await daemonDone?.catch(() => undefined);
      let log = '';
      try {
        log = readFileSync(join(hostRunDir, RUN_DIR_LAYOUT.log, 'client.log'), 'utf8');
      } catch {
        // no job logged anything
      }
      rmSync(hostRunDir, { recursive: true, force: true });
      return fallbackLines(summarizeClientLog(log));
    },
  };
}

/**
 * Waits until the daemon's log says it is connected to the scheduler. iceccd
 * retries the scheduler only when its main loop wakes up (every few seconds
 * when idle): a connection to its socket wakes it, so the wait pokes it.
 */
async function waitForConnection(daemonDir: string, timeoutMs: number, done: Promise<unknown>): Promise<boolean> {
  let exited = false;
  void done.then(() => { exited = true; }, () => { exited = true; });
  const logFile = join(daemonDir, 'daemon.log');
  const deadline = Date.now() + timeoutMs;
  while (!exited && Date.now() < deadline) {
    if (existsSync(logFile) && readFileSync(logFile, 'utf8').includes('Connected to scheduler')) return true;
    const poke = createConnection({ path: join(daemonDir, SOCKET_NAME) });
    poke.once('connect', () => poke.destroy());
    poke.once('error', () => poke.destroy());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
