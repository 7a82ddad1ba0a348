// A real icecream cluster on one machine for tests and benchmarks: network
// namespaces made here (a bridge in a "switch" namespace; the scheduler, each
// helper and the client in one namespace each, joined by veth pairs whose
// 10.213.X.0/24 addresses exist only inside those namespaces, so no traffic
// leaves the machine), Debian's icecc-scheduler and iceccd started in them,
// all state in one temporary directory. Each helper reads an idle /proc/stat
// (a bind in its own mount namespace): iceccd refuses jobs while the machine
// it runs on is busy, and here that machine is shared with everything else. stop() removes every process,
// namespace and directory made here, even after a failure half-way, and the
// /run/icecc directory iceccd (as root) creates on the host when it was not
// there before.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePasswd } from '../../src/core/users/passwd.ts';
import { runProcess } from '../../src/runner/process/process.ts';
import type { RunResult } from '../../src/runner/process/process.ts';
import { parseListcs } from '../../src/core/icecream/icecream-plan.ts';
import { mountsUnder } from '../../src/runner/host/mounts.ts';

const NETNS_DIR = '/run/netns';

export interface Helper {
  readonly name: string;
  readonly address: string;
  readonly netns: string;
  readonly log: string;
  pid: number;
  done: Promise<RunResult> | null;
}

export interface IcecreamCluster {
  readonly prefix: string;
  readonly dir: string;
  readonly scheduler: string;
  readonly clientNetns: string;
  readonly schedulerLog: string;
  readonly helpers: readonly Helper[];
  /** argv prefix that runs a program in the client's namespace. */
  inClient(argv: readonly string[]): string[];
  /** SIGKILLs a helper's daemon and the compilers it started (its process group). */
  killHelper(helper: Helper): Promise<void>;
  stop(): Promise<void>;
}

async function must(argv: readonly string[]): Promise<void> {
  const result = await runProcess(argv, { timeoutMs: 30_000 });
  assert.equal(result.exitCode, 0, `${argv.join(' ')}: ${result.stderr}`);
}

function iceccIds(): { uid: number; gid: number } {
  const entry = parsePasswd(readFileSync('/etc/passwd', 'utf8')).find((user) => user.name === 'icecc');
  assert.ok(entry !== undefined, "Debian's icecc package makes the user 'icecc' (scripts/setup.sh installs it)");
  return { uid: entry.uid, gid: entry.gid };
}

/** Removes the namespaces of a cluster whose test process was killed before it could (crice<pid>-*). */
async function removeStaleNamespaces(): Promise<void> {
  const list = await runProcess(['ip', 'netns', 'list']);
  for (const line of list.stdout.split('\n')) {
    const match = /^(crice(\d+)-\S+)/.exec(line);
    if (match?.[1] !== undefined && !existsSync(`/proc/${match[2] ?? ''}`)) await runProcess(['ip', 'netns', 'delete', match[1]]);
  }
}

/** Starts a scheduler and `helpers` iceccd helpers (`jobs` each), and waits until the scheduler lists them all. */
export async function startCluster(options: { helpers: number; jobs: number; subnet: number }): Promise<IcecreamCluster> {
  await removeStaleNamespaces();
  const prefix = `crice${String(process.pid)}`;
  const dir = mkdtempSync(join(tmpdir(), 'crossroot-icecream-cluster-'));
  chmodSync(dir, 0o755); // the daemons run as 'icecc' and keep their state below it
  const ids = iceccIds();
  const hadRunIcecc = existsSync('/run/icecc');
  // `ip netns add` makes /run/netns a mount point (a bind of itself) and never undoes it.
  const hadNetnsDir = existsSync(NETNS_DIR);
  const hadNetnsMount = mountsUnder(NETNS_DIR).includes(NETNS_DIR);
  const namespaces: string[] = [];
  const processes: { pid: number; done: Promise<RunResult> }[] = [];
  const net = `10.213.${String(options.subnet)}`;
  const helpers: Helper[] = [];
  const stateDir = (name: string): string => {
    const path = join(dir, name);
    mkdirSync(path, { mode: 0o755 });
    chownSync(path, ids.uid, ids.gid);
    return path;
  };
  const start = (netns: string, argv: readonly string[], env: Record<string, string> = {}): { pid: number; done: Promise<RunResult> } => {
    const entry: { pid: number; done: Promise<RunResult> } = { pid: 0, done: Promise.resolve({} as RunResult) };
    entry.done = runProcess(['ip', 'netns', 'exec', netns, ...argv], { env: { ...process.env, ...env }, onSpawn: (spawned) => { entry.pid = spawned; } });
    processes.push(entry);
    return entry;
  };
  const stop = async (): Promise<void> => {
    for (const entry of processes) {
      // ip netns exec execs the daemon: the pid is the daemon's; its process group holds its compilers.
      for (const target of [-entry.pid, entry.pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    await Promise.all(processes.map((entry) => entry.done.catch(() => undefined)));
    for (const netns of namespaces.reverse()) await runProcess(['ip', 'netns', 'delete', netns]);
    // Another cluster's namespaces still under it keep it (umount: EBUSY, rmdir: ENOTEMPTY).
    if (!hadNetnsMount && readdirSync(NETNS_DIR).length === 0) await runProcess(['umount', NETNS_DIR]);
    if (!hadNetnsDir && mountsUnder(NETNS_DIR).length === 0) {
      try { rmdirSync(NETNS_DIR); } catch { /* not empty: in use */ }
    }
    rmSync(dir, { recursive: true, force: true });
    if (!hadRunIcecc) rmSync('/run/icecc', { recursive: true, force: true });
  };
  try {
    const sw = `${prefix}-sw`;
    await must(['ip', 'netns', 'add', sw]);
    namespaces.push(sw);
    await must(['ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    await must(['ip', '-n', sw, 'link', 'set', 'br0', 'up']);
    const names = ['sched', ...Array.from({ length: options.helpers }, (_, i) => `h${String(i + 1)}`), 'cli'];
    for (const [index, name] of names.entries()) {
      const netns = `${prefix}-${name}`;
      await must(['ip', 'netns', 'add', netns]);
      namespaces.push(netns);
      // Interface names have at most 15 characters: 'ci' + the pid + the index.
      const [a, b] = [`ci${String(process.pid)}x${String(index)}a`, `ci${String(process.pid)}x${String(index)}b`];
      await must(['ip', 'link', 'add', a, 'netns', netns, 'type', 'veth', 'peer', 'name', b, 'netns', sw]);
      await must(['ip', '-n', sw, 'link', 'set', b, 'master', 'br0', 'up']);
      await must(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
      await must(['ip', '-n', netns, 'addr', 'add', `${net}.${String(index + 1)}/24`, 'dev', a]);
      await must(['ip', '-n', netns, 'link', 'set', a, 'up']);
    }
    const idleStat = join(dir, 'idle-proc-stat');
    writeFileSync(idleStat, 'cpu  0 0 0 100000 0 0 0 0 0 0\ncpu0 0 0 0 100000 0 0 0 0 0 0\n');
    const schedulerDir = stateDir('scheduler');
    start(`${prefix}-sched`, ['icecc-scheduler', '-l', join(schedulerDir, 'scheduler.log'), '-vvv']);
    const scheduler = `${net}.1`;
    for (let i = 1; i <= options.helpers; i++) {
      const name = `helper${String(i)}`;
      const state = stateDir(name);
      const envDir = join(state, 'env');
      mkdirSync(envDir);
      chownSync(envDir, ids.uid, ids.gid);
      const netns = `${prefix}-h${String(i)}`;
      const log = join(state, 'iceccd.log');
      // Each helper stands for a machine of its own: in a private mount namespace it reads an idle /proc/stat,
      // else the other processes on this shared machine make iceccd report full load and refuse every job.
      const entry = start(netns, ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$0" /proc/stat && exec "$@"', idleStat,
        'iceccd', '-s', scheduler, '-b', envDir, '-l', log, '-vvv', '-N', name, '-m', String(options.jobs)],
        { ICECC_TEST_SOCKET: join(state, 'iceccd.socket') });
      helpers.push({ name, address: `${net}.${String(i + 1)}`, netns, log, pid: entry.pid, done: entry.done });
    }
    const deadline = Date.now() + 60_000;
    let listed = 0;
    while (Date.now() < deadline) {
      try {
        listed = parseListcs(await listcs(`${prefix}-cli`, scheduler)).length;
      } catch (error) {
        if (process.env['ICECREAM_CLUSTER_DEBUG'] !== undefined) console.error(error);
        listed = 0;
      }
      if (listed === options.helpers) break;
      await sleep(500);
    }
    assert.equal(listed, options.helpers, 'every helper logged in to the scheduler');
    return {
      prefix, dir, scheduler, clientNetns: `${prefix}-cli`, schedulerLog: join(schedulerDir, 'scheduler.log'), helpers,
      inClient: (argv) => ['ip', 'netns', 'exec', `${prefix}-cli`, ...argv],
      killHelper: async (helper) => {
        for (const target of [-helper.pid, helper.pid]) {
          try {
            process.kill(target, 'SIGKILL');
          } catch {
            // gone
          }
        }
        await helper.done?.catch(() => undefined);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

const ASK = new URL('./icecream-ask.ts', import.meta.url).pathname;

/** The scheduler's `listcs` answer, asked from inside the client's namespace (its address exists only there). */
export async function listcs(netns: string, scheduler: string): Promise<string> {
  const result = await runProcess(['ip', 'netns', 'exec', netns, process.execPath, '--import', import.meta.resolve('tsx'), ASK, scheduler, 'listcs'], { timeoutMs: 20_000 });
  if (result.exitCode !== 0) throw new Error(result.stderr);
  return result.stdout;
}

/** The helpers the scheduler's log shows jobs finished on ("END <id> status=0 ... server=<name>"). */
export function helpersWithJobs(schedulerLog: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of readFileSync(schedulerLog, 'utf8').split('\n')) {
    const server = / END \d+ status=0 .* server=(\S+)/.exec(line)?.[1];
    if (server !== undefined) counts.set(server, (counts.get(server) ?? 0) + 1);
  }
  return counts;
}
