// Managed roots: one default root per architecture (the current Debian stable
// with a C toolchain), created on first use by `crossroot run --arch ARCH`.
// They live in managedRootsDir(): /var/lib/crossroot/roots as root,
// ~/.local/share/crossroot/roots otherwise, $CROSSROOT_HOME/roots when set.
import { lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CrossrootError } from '../../core/errors.ts';
import { TOOLCHAIN_PACKAGES, defaultSuiteFor, canonicalSuite, resolveTargetArch } from '../../core/create/create-plan.ts';
import type { ProgressState, RootMarker } from '../../core/create/create-plan.ts';
import { cacheRoot, createRoot } from '../create/create.ts';
import { crossrootHome } from '../accelerate/accelerate.ts';
import { removeTree } from '../create/build-namespace.ts';
import { processesUsing, readMarker } from '../create/target.ts';
import { mountsUnder } from '../host/mounts.ts';
import type { CreateResult } from '../create/create.ts';
import type { HeldLock, LockOwner } from './root-lock.ts';
import { heldLocks, lockPath, tryLock } from './root-lock.ts';

export function managedRootsDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const home = env['CROSSROOT_HOME'];
  if (home !== undefined && home !== '') return join(resolve(home), 'roots');
  if (process.getuid?.() === 0) return '/var/lib/crossroot/roots';
  const data = env['XDG_DATA_HOME'];
  return join(data !== undefined && data !== '' ? data : join(homedir(), '.local/share'), 'crossroot/roots');
}

/** The suite of managed roots for a Debian port: stable, or the newest release that still has the port. */
export function managedSuite(debianArch: string): string {
  return defaultSuiteFor(debianArch);
}

/** The managed root's directory for an architecture (any spelling): <roots>/<debianArch>. */
export function managedRootPath(arch: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const { debianArch } = resolveTargetArch(arch);
  return join(managedRootsDir(env), debianArch);
}

export interface EnsureOptions {
  readonly progress?: ((state: ProgressState, seconds: number) => void) | undefined;
  /** Quiet (no progress) when true. */
  readonly json?: boolean | undefined;
  /** Create if missing (default true). */
  readonly create?: boolean | undefined;
  /** Where CROSSROOT_HOME / CROSSROOT_CACHE are read (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Called once when another crossroot is creating the root and this one waits (with a description of the owner). */
  readonly waiting?: ((owner: string) => void) | undefined;
}

export interface EnsuredRoot {
  readonly dir: string;
  readonly created: boolean;
  readonly marker: RootMarker;
  readonly result: CreateResult | null;
}

/** How often a waiting crossroot looks whether the creator is done. */
const WAIT_POLL_MS = 250;

export function describeOwner(owner: LockOwner): string {
  return owner.pid === 0 ? 'another crossroot (starting)' : `crossroot pid ${String(owner.pid)} since ${owner.since} (${owner.stage})`;
}

/**
 * The managed root for `arch`, created on first use (Debian stable +
 * build-essential). Concurrent first uses: one creates under the root's lock
 * (root-lock.ts), the others wait for it (and say so), then use the root.
 */
export async function ensureManagedRoot(arch: string, options: EnsureOptions = {}): Promise<EnsuredRoot> {
  const env = options.env ?? process.env;
  const dir = managedRootPath(arch, env);
  const { debianArch } = resolveTargetArch(arch);
  let announced = false;
  for (;;) {
    const existing = readMarker(dir);
    if (existing !== null) return { dir, created: false, marker: existing, result: null };
    if (options.create === false) {
      throw new CrossrootError('NOT_A_ROOT', `use managed root '${dir}': it does not exist yet`, { hint: `crossroot run --arch ${arch} creates it` });
    }
    mkdirSync(managedRootsDir(env), { recursive: true });
    const lock = tryLock(lockPath(managedRootsDir(env), debianArch));
    if ('release' in lock) {
      try {
        return await createManagedRoot(dir, debianArch, env, options, lock);
      } finally {
        lock.release();
      }
    }
    if (!announced) options.waiting?.(describeOwner(lock));
    announced = true;
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
}

async function createManagedRoot(dir: string, debianArch: string, env: Readonly<Record<string, string | undefined>>, options: EnsureOptions, lock: HeldLock): Promise<EnsuredRoot> {
  const again = readMarker(dir); // made while this one waited for the lock
  if (again !== null) return { dir, created: false, marker: again, result: null };
  let lastStage = '';
  const result = await createRoot({
    dir, arch: debianArch, suite: canonicalSuite(managedSuite(debianArch)), includes: [...TOOLCHAIN_PACKAGES],
    cacheRoot: cacheRoot(env),
    home: crossrootHome(env),
    env,
    onProgress: (state, seconds) => {
      if (state.stage !== lastStage) lock.stage(state.stage);
      lastStage = state.stage;
      if (options.json !== true) options.progress?.(state, seconds);
    },
  });
  const marker = readMarker(dir);
  if (marker === null) throw new CrossrootError('CREATE_FAILED', `create managed root '${dir}': no marker after create`);
  return { dir, created: true, marker, result };
}

export interface ManagedRoot {
  readonly arch: string;
  readonly debianArch: string;
  readonly dir: string;
  readonly suite: string;
  readonly variant: string;
  readonly includes: readonly string[];
  readonly created: string;
  readonly tool: string;
  /** 'creating': another crossroot is creating it now (`creator` says who); the other fields are empty then. */
  readonly state: 'ready' | 'creating';
  readonly creator: LockOwner | null;
}

export function listManagedRoots(env: Readonly<Record<string, string | undefined>> = process.env): ManagedRoot[] {
  const base = managedRootsDir(env);
  let names: string[];
  try {
    names = readdirSync(base).sort();
  } catch {
    return [];
  }
  const roots: ManagedRoot[] = [];
  const creating = heldLocks(base);
  for (const name of names) {
    const dir = join(base, name);
    const marker = readMarker(dir);
    if (marker === null) continue;
    creating.delete(name);
    roots.push({
      arch: marker.arch, debianArch: marker.debianArch || name, dir, suite: marker.suite, variant: marker.variant,
      includes: marker.includes, created: marker.created, tool: marker.tool, state: 'ready', creator: null,
    });
  }
  for (const [name, owner] of creating) {
    roots.push({ arch: name, debianArch: name, dir: join(base, name), suite: '', variant: '', includes: [], created: '', tool: '', state: 'creating', creator: owner });
  }
  return roots.sort((a, b) => (a.debianArch < b.debianArch ? -1 : a.debianArch > b.debianArch ? 1 : 0));
}

/** Why the root is busy: mount points under it and processes inside it (empty when free). */
export function rootUsers(dir: string): { mounts: string[]; pids: number[] } {
  return { mounts: mountsUnder(dir), pids: processesUsing(dir) };
}

/**
 * Removes the managed root of `arch`. Refuses while it is in use (a mount under
 * it in our namespace, or a process whose root or cwd is inside), and when the
 * directory is not a crossroot root. The removal never follows symlinks inside
 * the tree (it unlinks them), and the root directory itself must be a real
 * directory, not a symlink. A rootless root holds files of the user's
 * subordinate ids: it is removed inside a user namespace that maps them.
 */
export async function removeManagedRoot(arch: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<string> {
  const dir = managedRootPath(arch, env);
  const creator = heldLocks(managedRootsDir(env)).get(resolveTargetArch(arch).debianArch);
  if (creator !== undefined) {
    throw new CrossrootError('ROOT_IN_USE', `remove managed root '${dir}': it is being created by ${describeOwner(creator)}`, { hint: 'let the creation finish first' });
  }
  let stat;
  try {
    stat = lstatSync(dir);
  } catch {
    throw new CrossrootError('NOT_FOUND', `remove managed root '${dir}': it does not exist`);
  }
  if (!stat.isDirectory() || readMarker(dir) === null) {
    throw new CrossrootError('NOT_A_ROOT', `remove managed root '${dir}': it is not a crossroot root`, { hint: 'crossroot only removes roots it created' });
  }
  const users = rootUsers(dir);
  if (users.mounts.length > 0 || users.pids.length > 0) {
    throw new CrossrootError('ROOT_IN_USE', `remove managed root '${dir}': it is in use`
      + (users.mounts.length > 0 ? ` (mounted: '${users.mounts[0] ?? ''}')` : '')
      + (users.pids.length > 0 ? ` (process '${String(users.pids[0])}' runs inside)` : ''), {
      hint: 'let the runs inside it finish first',
    });
  }
  if (process.getuid?.() !== 0 && readMarker(dir)?.ownerUid !== process.getuid?.()) {
    throw new CrossrootError('ROOT_NOT_OWNED', `remove managed root '${dir}': it belongs to another user`);
  }
  await removeTree(dir);
  return dir;
}
