// Reading a binfmt_misc instance: its status and its entries in matching order.
//
// Matching order is newest registration first (the kernel adds each entry at the head of its list),
// but the files carry no sequence number, so the order has to be recovered from the directory:
//  - readdir order: binfmt_misc directories are libfs dcache_readdir() over the root dentry's
//    children, and a new dentry is added at the head of that list. Measured on 6.18 in a private
//    instance: readdir lists entries newest first, then `register`, `status`; an entry removed
//    and registered again moves to the front, and a failed lookup of a name before it was
//    registered does not disturb the order (libfs dentries are not kept negative).
//  - inode numbers are NOT usable: they come from get_next_ino(), which hands out per-CPU batches,
//    so an entry registered later on another CPU can get a smaller number (seen on 6.18: 8094,
//    11542, 8093 for three consecutive registrations).
//  - mtimes have coarse (jiffy) resolution: consecutive registrations share one.
// So on a real instance (statfs type BINFMTFS_MAGIC) readdir order is the matching order. Node's
// readdirSync() sorts names (libuv scandir), so the directory is read with opendir()/readSync().
// A directory that is not binfmt_misc (a copy, a test fixture) has no such order: its entries are
// ordered by mtime, newest first, then by name, the closest stand-in for registration time.
import { closeSync, openSync, opendirSync, readSync, statSync, statfsSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BinfmtEntry } from '../core/binfmt/entry.ts';
import { DEFAULT_BINFMT_DIR } from '../core/binfmt/entry.ts';
import { parseEntryText } from '../core/binfmt/rule.ts';
import { CrossrootError } from '../core/errors.ts';

export { DEFAULT_BINFMT_DIR } from '../core/binfmt/entry.ts';

/** statfs f_type of binfmt_misc ("BINM"). */
export const BINFMTFS_MAGIC = 0x42494e4d;
/** An entry file is at most a page of text; anything larger is not an entry. */
const MAX_ENTRY_BYTES = 8192;

export interface BinfmtInstance {
  readonly dir: string;
  /** The instance-wide switch (`status` reads "enabled" or "disabled"). */
  readonly enabled: boolean;
  /** Newest first: the order the kernel tries them. */
  readonly entries: BinfmtEntry[];
  /** 'kernel': a real binfmt_misc, order from readdir; 'mtime': another directory, order by mtime. */
  readonly order: 'kernel' | 'mtime';
}

export function binfmtNotMounted(dir: string, why: string): CrossrootError {
  return new CrossrootError('BINFMT_NOT_MOUNTED', `read binfmt_misc at '${dir}': ${why}`, {
    hint: dir === DEFAULT_BINFMT_DIR
      ? `mount it: mount -t binfmt_misc binfmt_misc ${DEFAULT_BINFMT_DIR}`
      : `mount it: mount -t binfmt_misc binfmt_misc '${dir}' (or pass --binfmt-dir DIR)`,
  });
}

/** Whether `dir` looks like a binfmt_misc instance (has `register` and `status`). */
export function isBinfmtDir(dir: string): boolean {
  return existsSync(join(dir, 'register')) && existsSync(join(dir, 'status'));
}

/** Reads a small file as a byte string (latin1); null when it vanished meanwhile. */
function readSmallFile(path: string | Buffer): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CrossrootError('BINFMT_READ', `read binfmt_misc file '${String(path)}': ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  try {
    const buffer = Buffer.alloc(MAX_ENTRY_BYTES + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > MAX_ENTRY_BYTES) {
        throw new CrossrootError('BINFMT_READ', `read binfmt_misc file '${String(path)}': it is larger than '${MAX_ENTRY_BYTES}' bytes`);
      }
    }
    return buffer.subarray(0, length).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

/** Names in the directory's own order (readdir), not sorted, as byte strings (latin1). */
function listInDirectoryOrder(dir: string): string[] {
  const handle = opendirSync(dir, { encoding: 'buffer' as BufferEncoding });
  const names: string[] = [];
  try {
    for (let entry = handle.readSync(); entry !== null; entry = handle.readSync()) {
      const name: unknown = entry.name;
      names.push(Buffer.isBuffer(name) ? name.toString('latin1') : String(name));
    }
  } finally {
    handle.closeSync();
  }
  return names;
}

function isRealInstance(dir: string): boolean {
  try {
    return statfsSync(dir).type === BINFMTFS_MAGIC;
  } catch {
    return false;
  }
}

/** `dir`/`name` for a byte-string name: Linux paths are bytes, so the name must not go through UTF-8. */
function entryPath(dir: string, name: string): Buffer {
  return Buffer.concat([Buffer.from(join(dir, '/')), Buffer.from(name, 'latin1')]);
}

/** Whether a file of that name exists in the instance (what makes a registration EEXIST). */
export function entryExists(dir: string, name: string): boolean {
  return existsSync(entryPath(dir, name));
}

/** The status and entries of the binfmt_misc instance at `dir`, newest entry first. */
export function readInstance(dir: string = DEFAULT_BINFMT_DIR): BinfmtInstance {
  if (!isBinfmtDir(dir)) {
    if (dir !== DEFAULT_BINFMT_DIR && !existsSync(dir)) {
      throw new CrossrootError('BINFMT_NOT_MOUNTED', `read binfmt_misc at '${dir}': the directory does not exist`, {
        hint: 'check the path given to --binfmt-dir',
      });
    }
    throw binfmtNotMounted(dir, 'it has no \'register\' and \'status\' files');
  }
  const status = readSmallFile(join(dir, 'status'));
  if (status === null) throw binfmtNotMounted(dir, 'its \'status\' file vanished');
  const enabled = status.trim() === 'enabled';
  if (!enabled && status.trim() !== 'disabled') {
    throw new CrossrootError('BINFMT_READ', `read binfmt_misc status in '${dir}': it reads '${status.trim()}', not 'enabled' or 'disabled'`);
  }
  const real = isRealInstance(dir);
  let names = listInDirectoryOrder(dir).filter((name) => name !== 'register' && name !== 'status');
  if (!real) {
    const mtimes = new Map(names.map((name) => [name, statSync(entryPath(dir, name), { bigint: true }).mtimeNs]));
    names = names.sort((a, b) => {
      const difference = (mtimes.get(b) ?? 0n) - (mtimes.get(a) ?? 0n);
      return difference > 0n ? 1 : difference < 0n ? -1 : a < b ? -1 : a > b ? 1 : 0;
    });
  }
  const entries: BinfmtEntry[] = [];
  for (const name of names) {
    const text = readSmallFile(entryPath(dir, name));
    if (text === null) continue; // removed between readdir and read
    entries.push(parseEntryText(name, text));
  }
  return { dir, enabled, entries, order: real ? 'kernel' : 'mtime' };
}
