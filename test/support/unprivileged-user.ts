// A real unprivileged user for rootless end-to-end tests (needs root, shadow's
// useradd/userdel and util-linux's setpriv).
//
//   const user = await createUnprivilegedUser(base);   // base: a 0755 directory
//   const run = await user.crossroot(['run', dir, '--', 'id', '-u']);
//   ...
//   await user.remove();                              // always, in a finally/after
//
// The user gets a home under `base` and one subuid and one subgid range of
// 65536 ids (useradd's own when /etc/login.defs makes it add one, else one
// appended here that overlaps no other line). Commands run through
// `setpriv --reuid --regid --init-groups --reset-env`, with HOME, USER, PATH
// (node's directory first), XDG_CACHE_HOME and TMPDIR (so tsx's cache, which
// lives in os.tmpdir(), stays in the home) set. `remove()` deletes the user
// and its home (userdel -r), its subuid/subgid lines and its tsx cache in /tmp
// should one exist; files of its subordinate ids under `base` are the
// caller's to remove (as root, from the host side).
import { cliCommand } from './cli.ts';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runProcess } from '../../src/runner/process/process.ts';
import type { RunResult } from '../../src/runner/process/process.ts';
import { subordinateRanges } from '../../src/runner/host/userns.ts';

const TSX = import.meta.resolve('tsx');
const SUBID_FILES = ['/etc/subuid', '/etc/subgid'] as const;
const RANGE = 65536;

export interface IdRange {
  readonly start: number;
  readonly count: number;
}

export interface UnprivilegedUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly subuid: IdRange;
  readonly subgid: IdRange;
  /** Runs argv as the user (cwd: the home unless given); `env` adds to the user's clean environment. */
  run(argv: readonly string[], options?: { env?: Record<string, string>; timeoutMs?: number; cwd?: string }): Promise<RunResult>;
  /** Runs the crossroot CLI (from source, under tsx) as the user. */
  crossroot(args: readonly string[], options?: { env?: Record<string, string>; timeoutMs?: number }): Promise<RunResult>;
  /** PIDs of processes running as the user or one of its subordinate uids. */
  processes(): number[];
  /** Deletes the user, its home, its subuid/subgid lines and its tsx cache. */
  remove(): Promise<void>;
}

/** The first start (a multiple of RANGE, at least 200000) after every range in both files. */
function freeRangeStart(): number {
  let end = 200_000;
  for (const file of SUBID_FILES) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch { /* absent: nothing taken */ }
    for (const line of text.split('\n')) {
      const [, start, count] = line.trim().split(':');
      if (/^\d+$/.test(start ?? '') && /^\d+$/.test(count ?? '')) end = Math.max(end, Number(start) + Number(count));
    }
  }
  return Math.ceil(end / RANGE) * RANGE;
}

function removeSubIdLines(name: string, uid: number): void {
  for (const file of SUBID_FILES) {
    if (!existsSync(file)) continue;
    const kept = readFileSync(file, 'utf8').split('\n').filter((line) => !line.startsWith(`${name}:`) && !line.startsWith(`${String(uid)}:`));
    writeFileSync(file, kept.join('\n'));
  }
}

function uidsOf(pid: string): number[] {
  try {
    const line = /^Uid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
    return line.trim().split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

/** useradd/userdel of two test files running at once contend for /etc/passwd's lock: wait, then retry. */
async function withPasswdLock(argv: readonly string[]): Promise<RunResult> {
  for (let attempt = 0; ; attempt++) {
    const result = await runProcess(argv);
    if (result.exitCode === 0 || !/cannot lock|try again later/i.test(result.stderr) || attempt >= 60) return result;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The repository as the user can read it. CI may clone under a directory
 * other users cannot enter (/root is 0700): then the sources and
 * node_modules are copied to `base`, which the caller removes.
 */
async function repoReadableBy(uid: number, gid: number, base: string): Promise<string> {
  const probe = await runProcess(['setpriv', '--reuid', String(uid), '--regid', String(gid), '--init-groups', '--',
    'test', '-r', join(REPO, 'src/cli/bin.ts')]);
  if (probe.exitCode === 0) return REPO;
  const copy = join(base, 'crossroot-repo');
  if (!existsSync(join(copy, 'package.json'))) {
    mkdirSync(copy, { recursive: true, mode: 0o755 });
    for (const entry of ['package.json', 'tsconfig.json', 'src', 'node_modules']) {
      const copied = await runProcess(['cp', '-a', join(REPO, entry), copy]);
      if (copied.exitCode !== 0) throw new Error(`copy '${entry}' for the unprivileged user: ${copied.stderr.trim()}`);
    }
  }
  return copy;
}

export async function createUnprivilegedUser(base: string): Promise<UnprivilegedUser> {
  const name = `crtest${String(process.pid)}${Math.random().toString(36).slice(2, 6)}`;
  const home = join(base, name);
  const added = await withPasswdLock(['useradd', '--create-home', '--home-dir', home, '--shell', '/bin/sh', '--user-group', name]);
  if (added.exitCode !== 0) throw new Error(`useradd ${name}: ${added.stderr.trim()}`);
  const uid = Number((await runProcess(['id', '-u', name])).stdout.trim());
  const gid = Number((await runProcess(['id', '-g', name])).stdout.trim());
  try {
    // useradd adds ranges itself when login.defs has SUB_UID_MIN...; they count the same.
    if (subordinateRanges('/etc/subuid', { name, uid }).length === 0 || subordinateRanges('/etc/subgid', { name, uid }).length === 0) {
      removeSubIdLines(name, uid);
      const start = freeRangeStart();
      for (const file of SUBID_FILES) appendFileSync(file, `${name}:${String(start)}:${String(RANGE)}\n`);
    }
    const subuid = subordinateRanges('/etc/subuid', { name, uid })[0];
    const subgid = subordinateRanges('/etc/subgid', { name, uid })[0];
    if (subuid === undefined || subgid === undefined) throw new Error(`no subordinate ranges for ${name}`);
    const tmp = join(home, '.cache', 'tmp');
    mkdirSync(tmp, { recursive: true, mode: 0o700 });
    for (const dir of [join(home, '.cache'), tmp]) chownSync(dir, uid, gid);

    const run: UnprivilegedUser['run'] = (argv, options = {}) => {
      const env = {
        HOME: home, USER: name, LOGNAME: name,
        PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
        XDG_CACHE_HOME: join(home, '.cache'), TMPDIR: tmp, LC_ALL: 'C.UTF-8',
        ...options.env,
      };
      return runProcess([
        'setpriv', '--reuid', String(uid), '--regid', String(gid), '--init-groups', '--reset-env', '--',
        'env', ...Object.entries(env).map(([key, value]) => `${key}=${value}`), ...argv,
      ], { cwd: options.cwd ?? home, timeoutMs: options.timeoutMs ?? 60_000 });
    };
    const repo = await repoReadableBy(uid, gid, base);
    const bin = join(repo, 'src/cli/bin.ts');
    const tsx = pathToFileURL(join(repo, relative(REPO, fileURLToPath(TSX)))).href;
    const inSubuids = (id: number): boolean => id === uid || (id >= subuid.start && id < subuid.start + subuid.count);
    return {
      name, uid, gid, home, subuid, subgid, run,
      crossroot: (args, options = {}) => run(cliCommand(args, { bin, tsx }), options),
      processes: () => readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && uidsOf(pid).some(inSubuids)).map(Number),
      remove: async () => {
        const deleted = await withPasswdLock(['userdel', '--remove', name]);
        removeSubIdLines(name, uid);
        rmSync(home, { recursive: true, force: true });
        rmSync(join(tmpdir(), `tsx-${String(uid)}`), { recursive: true, force: true });
        if (deleted.exitCode !== 0 && !/mail spool|not found/.test(deleted.stderr)) throw new Error(`userdel ${name}: ${deleted.stderr.trim()}`);
      },
    };
  } catch (error) {
    await withPasswdLock(['userdel', '--remove', name]);
    removeSubIdLines(name, uid);
    throw error;
  }
}
