// Predicts open_exec(path) for the calling process: the errno the kernel would give, or null.
// Used where the kernel opens an interpreter right away (binfmt_misc flag F at registration).
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/**
 * The errno name open_exec() would fail with, or null when it would open: path lookup errors
 * (ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, EACCES on a directory without search permission) as
 * stat(2) reports them, EACCES for anything but a regular file (directories included), and
 * EACCES when execute permission is missing or the mount is noexec (access(2) X_OK checks both).
 * Not predicted: ETXTBSY (the file is open for writing) and LSM denials.
 * `path` is a byte string (latin1); a relative path is resolved against `cwd`.
 */
export function openExecErrno(path: string, cwd: string): string | null {
  const bytes = Buffer.from(path, 'latin1');
  const full = isAbsolute(path) ? bytes : Buffer.concat([Buffer.from(resolve(cwd) + '/'), bytes]);
  try {
    if (!statSync(full).isFile()) return 'EACCES';
    accessSync(full, constants.X_OK);
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'EIO';
  }
}
