// The build namespace: a fresh user+mount+PID namespace (create-stage.ts is
// its PID 1) with the user's id maps and a private binfmt_misc instance, in
// which a rootless create bootstraps, copies and removes trees whose files
// belong to subordinate ids. Everything mounted there dies with it, also on
// SIGKILL of crossroot (setpriv's pdeathsig kills unshare, whose --kill-child
// kills the namespace's PID 1 and with it every process inside).
import { existsSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { CrossrootError } from '../../core/errors.ts';
import { nodeScriptArgv, runProcess } from '../process/process.ts';
import { LineSplitter, lastJsonLine } from '../process/json-lines.ts';
import { idMapsOfThisUser, waitForUserNamespace, writeIdMaps } from '../host/userns.ts';
import { mountsUnder } from '../host/mounts.ts';
import type { StageInput, StageReport } from './create-stage.ts';

export const isRoot = (): boolean => process.getuid?.() === 0;

/** The user's proxies, and SOURCE_DATE_EPOCH, with which mmdebstrap makes a root reproducible (timestamps of logs, caches). */
const STAGE_ENV_KEEP = ['http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'SOURCE_DATE_EPOCH'];

function stageEnv(hostEnv: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LC_ALL: 'C.UTF-8',
    DEBIAN_FRONTEND: 'noninteractive',
    HOME: isRoot() ? '/root' : homedir(),
  };
  for (const key of STAGE_ENV_KEEP) {
    const value = hostEnv[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

export interface NamespaceRun {
  readonly ok: boolean;
  readonly report: StageReport | null;
  readonly output: string;
  readonly signal: NodeJS.Signals | null;
}

/**
 * Runs commands in a fresh user+mount+PID namespace with a private
 * binfmt_misc instance holding `register` (if any) and the given bind mounts.
 * `onLine` sees every output line as it comes. `onPid` gets the PID of the
 * namespace's outermost process (killing it ends everything inside).
 * `hostEnv` is where the proxies and SOURCE_DATE_EPOCH come from.
 */
export async function runInBuildNamespace(
  stage: Omit<StageInput, 'env' | 'binfmtDir'>,
  hooks: { onLine?: (line: string) => void; onPid?: (pid: number) => void } = {},
  hostEnv: Readonly<Record<string, string | undefined>> = process.env,
): Promise<NamespaceRun> {
  const maps = idMapsOfThisUser();
  const env = stageEnv(hostEnv);
  const input: StageInput = { ...stage, binfmtDir: '/proc/sys/fs/binfmt_misc', env };
  const lines = new LineSplitter();
  const tail: string[] = [];
  let mapError: unknown = null;
  const result = await runProcess([
    'setpriv', '--pdeathsig', 'KILL', '--',
    'unshare', '--user', '--mount', '--pid', '--fork', '--kill-child=SIGKILL', '--propagation', 'private', '--',
    ...nodeScriptArgv(import.meta.url, 'create-stage'),
  ], {
    input: JSON.stringify(input),
    env: { ...env },
    onSpawn: (pid) => {
      hooks.onPid?.(pid);
      // unshare(1) has to have called unshare(2) before its maps can be written; gone already: the run reports it.
      waitForUserNamespace(pid).then((inside) => (inside ? writeIdMaps(pid, maps) : undefined)).catch((error: unknown) => {
        mapError = error;
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      });
    },
    onOutput: (stream, chunk) => {
      if (stream !== 'stderr') return;
      for (const line of lines.push(chunk)) {
        tail.push(line);
        if (tail.length > 400) tail.shift();
        hooks.onLine?.(line);
      }
    },
  });
  if (mapError !== null) throw mapError;
  const last = lines.end();
  if (last !== null) tail.push(last);
  // undefined when killed before reporting
  const report = (lastJsonLine(result.stdout) ?? null) as StageReport | null;
  return { ok: result.exitCode === 0 && report?.ok === true, report, output: tail.join('\n'), signal: result.signal };
}

/**
 * Removes a tree we built. A rootless build's files belong to the user's
 * subordinate ids (and may be unreadable to the user: a 0700 directory of
 * uid 100041 is _apt's): what a plain removal cannot remove is removed inside
 * a namespace that maps them.
 */
export async function removeTree(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (mountsUnder(path).length > 0) {
    throw new CrossrootError('ROOT_IN_USE', `remove '${path}': something is still mounted under it`, { hint: `see: grep ' ${path}' /proc/self/mounts` });
  }
  try {
    rmSync(path, { recursive: true, force: true });
    return;
  } catch (error) {
    if (isRoot()) throw error;
  }
  const removal = await runInBuildNamespace({ register: null, binds: [], commands: [['rm', '-rf', '--one-file-system', '--', path]] });
  if (!removal.ok || existsSync(path)) {
    const lastLine = removal.output.trim().split('\n').at(-1) ?? '';
    const why = lastLine !== '' ? lastLine : (removal.report?.message ?? 'it is still there');
    throw new CrossrootError('IO', `remove '${path}': ${why}`, {
      hint: 'check /etc/subuid and /etc/subgid: the tree holds files of ids outside them',
    });
  }
}

