// Stage 2 of `crossroot run`: PID 1 of the run's PID namespace, started by
// runner/enter.ts as `unshare --user --mount --pid --fork --kill-child --
// node stage2.js` with a socket on fd 3. While it boots,
// crossroot maps its ids and sets the run up from outside (enter-setup.ts);
// then stage 2 starts the command, passes signals on, waits, removes what the
// run created temporarily in the root, and exits with the command's status.
//
// Protocol on fd 3 (one JSON document per line):
//   crossroot -> stage 2: a Stage2Input once the setup is done (exec null:
//     setup failed, just clean up), then {"signal": NAME} to forward one.
//     EOF means crossroot died (even by SIGKILL): kill everything and exit.
//   stage 2 -> crossroot: {"error": {...}} when the command cannot start;
//     {"profile": {...}} when the command ends, with --profile (stage 2
//     samples the run's procfs every 100 ms: core/profile.ts).
// When this process exits the kernel kills every process left in the PID
// namespace, and the mount namespace (all the run's mounts) goes with the
// last of them. Keep the imports few: startup time is run overhead.
import { readdirSync, readFileSync, readlinkSync, rmdirSync, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import type { ProfileReport } from '../../core/enter/profile.ts';
import { PROFILE_INTERVAL_MS, ProfileRecorder, parseProcStat, programOf } from '../../core/enter/profile.ts';
import type { TemporaryEntry } from './enter-setup.ts';
import type { RunningProcess } from '../process/process.ts';
import { exitStatusOf, runProcess, startProcess } from '../process/process.ts';
import { jsonLine, onJsonLines } from '../process/json-lines.ts';

export interface Stage2Input {
  /** Entries to remove at the end (mount points unmounted first). */
  readonly temporary: readonly TemporaryEntry[];
  /** The command chain; null when the setup failed. */
  readonly exec: readonly string[] | null;
  readonly env: Readonly<Record<string, string>>;
  /** --profile: the run's procfs (a host path in this namespace) and the root, else null. */
  readonly profileProc: { readonly dir: string; readonly rootDir: string } | null;
}

export type Stage2Message =
  | { readonly error: { readonly code: string; readonly message: string } }
  | { readonly profile: ProfileReport };

/** Signals stage 2 passes on to the command when they reach it directly. */
const FORWARDED = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGCONT', 'SIGWINCH'] as const;
/** Keyboard signals: the terminal already sent them to the command (same process group). */
const IGNORED = ['SIGINT', 'SIGQUIT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'] as const;

const channel = new Socket({ fd: 3, readable: true, writable: true });
let temporary: readonly TemporaryEntry[] = [];
let command: RunningProcess | undefined;
let finishing: Promise<never> | undefined;

function send(message: Stage2Message): void {
  if (!channel.destroyed) channel.write(jsonLine(message));
}

/** Removes what the run created in the root (mount points are unmounted first; the namespace is still ours). */
async function cleanUp(): Promise<void> {
  const mounted = temporary.filter((entry) => entry.mounted).map((entry) => entry.path);
  if (mounted.length > 0) await runProcess(['umount', '--lazy', ...mounted], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } }).catch(() => undefined);
  for (const entry of [...temporary].reverse()) {
    if (entry.kind === 'mount') continue;
    try {
      if (entry.kind === 'dir') rmdirSync(entry.path);
      else unlinkSync(entry.path);
    } catch {
      // not empty (the command put something there) or already gone: leave it
    }
  }
}

/** Kills every other process of the PID namespace (we are its PID 1). */
function killEverything(): void {
  try {
    process.kill(-1, 'SIGKILL');
  } catch {
    // nothing left
  }
}

/** Ends the run once: whoever comes first (command exit, crossroot's death) decides the status. */
function finish(code: number): Promise<never> {
  finishing ??= (async () => {
    killEverything();
    await cleanUp();
    channel.end();
    process.exit(code);
  })();
  return finishing;
}

/** One look at every process of the run (the run's procfs lists only them; PID 1 is us). */
function sample(recorder: ProfileRecorder, procDir: string, rootDir: string): void {
  let names: string[];
  try {
    names = readdirSync(procDir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name) || name === '1') continue;
    const read = (file: string): string | null => {
      try {
        return readFileSync(`${procDir}/${name}/${file}`, 'latin1');
      } catch {
        return null;
      }
    };
    const stat = parseProcStat(read('stat') ?? '');
    if (stat === null) continue;
    recorder.see(stat, () => {
      let exe: string | null;
      try {
        exe = readlinkSync(`${procDir}/${name}/exe`);
      } catch {
        exe = null;
      }
      return programOf(exe, read('cmdline') ?? '', rootDir, stat.comm);
    });
  }
}

/** Our waited-for children's CPU time (the command and all it waited for), in clock ticks. */
function childrenTicks(): number {
  try {
    return parseProcStat(readFileSync('/proc/self/stat', 'latin1'))?.childTicks ?? 0;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  for (const signal of IGNORED) process.on(signal, () => { /* delivered to the command by the terminal */ });
  for (const signal of FORWARDED) process.on(signal, () => { command?.kill(signal); });
  channel.on('error', () => { /* EOF handling below */ });
  // crossroot is gone (exit or SIGKILL): nothing of the run may survive it.
  channel.on('close', () => { void finish(137); });
  const input = await new Promise<Stage2Input>((resolve) => {
    let received = false;
    onJsonLines(channel, (value) => {
      const message = value as Stage2Input | { signal: NodeJS.Signals };
      if ('signal' in message) command?.kill(message.signal);
      else if (!received) {
        received = true;
        resolve(message);
      }
    });
  });
  temporary = input.temporary;
  if (input.exec === null) await finish(1);
  let status: number;
  const profile = input.profileProc;
  const recorder = profile === null ? null : new ProfileRecorder();
  const timer = profile === null || recorder === null ? null
    : setInterval(() => { sample(recorder, profile.dir, profile.rootDir); }, PROFILE_INTERVAL_MS);
  try {
    command = startProcess(input.exec ?? [], { env: input.env });
    const result = await command.done;
    if (timer !== null) clearInterval(timer);
    if (profile !== null && recorder !== null) {
      sample(recorder, profile.dir, profile.rootDir); // what the command left running
      send({ profile: recorder.report(childrenTicks()) });
    }
    status = exitStatusOf(result);
  } catch (error) {
    if (timer !== null) clearInterval(timer);
    send({ error: { code: 'SPAWN', message: error instanceof Error ? error.message : String(error) } });
    status = 1;
  }
  await finish(status);
}

await main();
