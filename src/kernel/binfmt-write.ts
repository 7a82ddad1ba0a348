// Changing a binfmt_misc instance: register an entry, enable or disable one, remove one.
//
// Each change is ONE write(2) (the kernel parses each write as a whole record), into an
// instance that really is binfmt_misc (statfs f_type BINFMTFS_MAGIC and its `register` and
// `status` files): a typo in --binfmt-dir must never create files somewhere else. Names are
// checked before any write so that `status` (whose `-1` removes EVERY entry) and `register`
// can never be the target of an entry operation.
//
// Errors become CrossrootError BINFMT_WRITE with the errno in the message and a hint.
import { closeSync, constants, openSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CrossrootError } from '../core/errors.ts';
import { RESERVED_NAMES, toRecordBytes } from '../core/binfmt/rule.ts';
import { BINFMTFS_MAGIC, isBinfmtDir } from './binfmt-fs.ts';

export type BinfmtWriteAction = 'register' | 'enable' | 'disable' | 'remove';

/** The hint for an errno of a binfmt_misc write. */
function hintFor(errno: string, action: BinfmtWriteAction, dir: string, what: string): string | undefined {
  switch (errno) {
    case 'EEXIST':
      return `an entry named '${what}' already exists: remove it first ('crossroot binfmt uninstall ${what}') or pick another name`;
    case 'EINVAL':
      return action === 'register'
        ? `check the register string with 'crossroot binfmt check'; flag F needs Linux >= 4.8`
        : 'write 0 (disable), 1 (enable) or -1 (remove)';
    case 'ENOENT':
      return action === 'register'
        ? 'flag F opens the interpreter now: it must exist at that path (install the emulator, or fix the path)'
        : `there is no entry '${what}' in '${dir}': see 'crossroot binfmt status --binfmt-dir ${dir}'`;
    case 'EACCES':
    case 'EPERM':
      return 'binfmt_misc changes need root in the user namespace that owns the instance: run as root (sudo), '
        + 'or use a private instance: unshare --user --map-root-user --mount, mount -t binfmt_misc none DIR, then --binfmt-dir DIR';
    case 'EROFS':
      return `'${dir}' is mounted read-only here (a container?): register on the host or mount a private instance`;
    case 'ENAMETOOLONG':
      return 'entry names are at most 255 bytes';
    default:
      return undefined;
  }
}

function writeError(action: BinfmtWriteAction, dir: string, what: string, errno: string, cause?: unknown): CrossrootError {
  const verb = action === 'register' ? `register binfmt_misc entry '${what}'` : `${action} binfmt_misc entry '${what}'`;
  return new CrossrootError('BINFMT_WRITE', `${verb} in '${dir}': ${errno}`, { hint: hintFor(errno, action, dir, what), cause });
}

/** Refuses anything but a mounted binfmt_misc instance. */
export function assertBinfmtInstance(dir: string): void {
  let type: number | bigint | undefined;
  try {
    type = statfsSync(dir).type;
  } catch {
    type = undefined;
  }
  if (type === undefined || Number(type) !== BINFMTFS_MAGIC || !isBinfmtDir(dir)) {
    throw new CrossrootError('BINFMT_NOT_MOUNTED', `write binfmt_misc at '${dir}': it is not a mounted binfmt_misc instance`, {
      hint: `mount it (mount -t binfmt_misc binfmt_misc '${dir}') or pass the right --binfmt-dir`,
    });
  }
}

/** An entry name that may be written to: not register/status, not '.', '..', no '/' or NUL. */
export function assertEntryName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')
    || (RESERVED_NAMES as readonly string[]).includes(name)) {
    throw new CrossrootError('BINFMT_WRITE', `change binfmt_misc entry '${name}': it is not an entry name`, {
      hint: '\'register\' and \'status\' are the instance\'s control files, not entries',
    });
  }
}

/** One write(2) of `bytes` to `path`; returns the errno name or null. */
function writeOnce(path: Buffer, bytes: Uint8Array): { errno: string; cause: unknown } | null {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW);
    const written = writeSync(fd, bytes, 0, bytes.length);
    return written === bytes.length ? null : { errno: 'EIO', cause: new Error(`short write: ${written} of ${bytes.length} bytes`) };
  } catch (error) {
    return { errno: (error as NodeJS.ErrnoException).code ?? 'EIO', cause: error };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function entryFile(dir: string, name: string): Buffer {
  return Buffer.concat([Buffer.from(join(dir, '/')), Buffer.from(name, 'latin1')]);
}

/** The name field of a register string (bytes between the first two delimiters), for messages. */
function nameOf(record: Uint8Array): string {
  const delimiter = record[0];
  const end = record.indexOf(delimiter ?? 0, 1);
  return Buffer.from(record.subarray(1, end < 0 ? Math.min(record.length, 64) : end)).toString('latin1');
}

/** Registers an entry: `registerString` (a byte string or bytes) written to `dir/register` in one write. */
export function registerEntry(dir: string, registerString: string | Uint8Array): void {
  assertBinfmtInstance(dir);
  const record = toRecordBytes(registerString);
  const failure = writeOnce(Buffer.from(join(dir, 'register')), record);
  if (failure !== null) throw writeError('register', dir, nameOf(record), failure.errno, failure.cause);
}

/** Enables (1) or disables (0) one entry. */
export function setEntryEnabled(dir: string, name: string, enabled: boolean): void {
  assertEntryName(name);
  assertBinfmtInstance(dir);
  const failure = writeOnce(entryFile(dir, name), Uint8Array.of(enabled ? 0x31 : 0x30));
  if (failure !== null) throw writeError(enabled ? 'enable' : 'disable', dir, name, failure.errno, failure.cause);
}

/** Removes one entry (-1). */
export function removeEntry(dir: string, name: string): void {
  assertEntryName(name);
  assertBinfmtInstance(dir);
  const failure = writeOnce(entryFile(dir, name), Uint8Array.of(0x2d, 0x31));
  if (failure !== null) throw writeError('remove', dir, name, failure.errno, failure.cause);
}
