// Where a create lands: what is at DIR and whether it may be replaced, the
// marker that makes a finished root, and the rename of the finished partial
// tree into place (an interrupted create never leaves anything at DIR that
// looks finished; partial trees of creates that died are removed).
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CrossrootError } from '../../core/errors.ts';
import { MARKER_DIR, MARKER_FILE, PARTIAL_INFIX, parseMarker, partialDirFor } from '../../core/create/create-plan.ts';
import type { RootMarker } from '../../core/create/create-plan.ts';
import { resolveHostPathInRoot } from '../fs/root-fs.ts';
import { mountsUnder } from '../host/mounts.ts';
import { isRoot, removeTree } from './build-namespace.ts';

export type TargetState = 'absent' | 'empty' | 'root';

/** The marker of a finished crossroot root at `dir`, or null. Never follows a symlinked .crossroot. */
export function readMarker(dir: string): RootMarker | null {
  try {
    if (!lstatSync(join(dir, MARKER_DIR)).isDirectory()) return null;
    const file = join(dir, MARKER_FILE);
    if (!lstatSync(file).isFile()) return null;
    return parseMarker(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** PIDs of processes whose root or cwd is at or under `dir`. */
export function processesUsing(dir: string): number[] {
  const prefix = resolve(dir);
  const inside = (path: string): boolean => path === prefix || path.startsWith(`${prefix}/`);
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    for (const link of ['root', 'cwd']) {
      try {
        if (inside(readlinkSync(`/proc/${name}/${link}`, 'utf8'))) {
          pids.push(Number(name));
          break;
        }
      } catch { /* gone, or not ours to look at */ }
    }
  }
  return pids;
}

function isEmptyDir(path: string): boolean {
  return readdirSync(path).length === 0;
}

/** What is at DIR now, and whether create may replace it. */
export function checkTarget(dir: string, force: boolean): TargetState {
  let stat;
  try {
    stat = lstatSync(dir);
  } catch {
    return 'absent';
  }
  if (!stat.isDirectory()) {
    throw new CrossrootError('ROOT_EXISTS', `create root '${dir}': it exists and is not a directory`, { hint: 'pick another directory' });
  }
  if (isEmptyDir(dir)) return 'empty';
  if (readMarker(dir) === null) {
    throw new CrossrootError('ROOT_EXISTS', `create root '${dir}': the directory is not empty and is not a crossroot root`, {
      hint: 'pick an empty or new directory; crossroot never overwrites other files',
    });
  }
  if (!force) {
    throw new CrossrootError('ROOT_EXISTS', `create root '${dir}': a crossroot root is already there`, { hint: 'add --force to replace it' });
  }
  return 'root';
}

/**
 * Removes partial siblings of `dir` left by creates that died (their PID is gone).
 * A rootless create's leftovers hold files of subordinate ids, which only a
 * namespace that maps them can remove (removeTree).
 */
export async function removeStalePartials(dir: string): Promise<void> {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}${PARTIAL_INFIX}`;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1] ?? '0');
    if (pid > 0 && existsSync(`/proc/${pid}`)) continue;
    const path = join(parent, name);
    if (mountsUnder(path).length > 0) continue;
    try {
      if (lstatSync(path).uid !== process.getuid?.() && !isRoot()) continue; // another user's
      await removeTree(path);
    } catch { /* busy or not ours to remove: left for doctor */ }
  }
}

export function writeMarker(root: string, marker: RootMarker): void {
  // The directory is ours (just built); refuse anything but a plain directory there.
  const markerDir = join(root, MARKER_DIR);
  if (existsSync(markerDir) && !lstatSync(markerDir).isDirectory()) rmSync(markerDir, { force: true });
  mkdirSync(markerDir, { recursive: true, mode: 0o755 });
  writeFileSync(join(root, MARKER_FILE), `${JSON.stringify(marker, null, 2)}\n`, { mode: 0o644 });
}

/** Renames the finished partial tree onto DIR (replacing an older crossroot root there when forced). */
export async function putInPlace(partial: string, dir: string, existing: TargetState): Promise<void> {
  if (existing === 'root') {
    if (mountsUnder(dir).length > 0 || processesUsing(dir).length > 0) {
      throw new CrossrootError('ROOT_IN_USE', `replace root '${dir}': it is in use`, { hint: 'stop what runs inside it first' });
    }
    const old = `${dir}.crossroot-old-${process.pid}-${randomBytes(3).toString('hex')}`;
    renameSync(dir, old);
    renameSync(partial, dir);
    await removeTree(old);
    return;
  }
  renameSync(partial, dir); // an empty DIR is replaced atomically
}

/** Writes a file the root lacks (never through a symlink, never over an entry, even a dangling link). */
export function addMissingInsideRoot(root: string, rootRelative: string, text: string): void {
  const resolved = resolveHostPathInRoot(root, `/${rootRelative}`, { followFinal: false });
  if (resolved.links.length > 0) return;
  try {
    lstatSync(resolved.hostPath);
    return; // something is there: the root's own
  } catch { /* absent */ }
  try {
    writeFileSync(resolved.hostPath, text, { mode: 0o644, flag: 'wx' });
  } catch { /* a parent is missing or not a directory: a run shadows it instead */ }
}

/** Removes bootstrap-only files, refusing to follow any symlink out of the root. */
export function removeInsideRoot(root: string, rootRelative: string): void {
  const resolved = resolveHostPathInRoot(root, `/${rootRelative}`, { followFinal: false });
  if (resolved.links.length > 0) return; // a link on the way: not the file we wrote
  try {
    if (lstatSync(resolved.hostPath).isFile()) rmSync(resolved.hostPath);
  } catch { /* absent */ }
}


/** A fresh partial sibling of `dir` (removing those of dead creates first). */
export async function makePartialDir(dir: string): Promise<string> {
  mkdirSync(dirname(dir), { recursive: true });
  await removeStalePartials(dir);
  const partial = partialDirFor(dir, `${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(partial, { mode: 0o755 });
  return partial;
}

