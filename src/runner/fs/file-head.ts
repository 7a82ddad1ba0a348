// The first bytes of a file (fewer when it is shorter): what format sniffing reads.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export function readFileHead(path: string, length: number): Uint8Array {
  const head = new Uint8Array(length);
  const fd = openSync(path, 'r');
  try {
    return head.subarray(0, readSync(fd, head, 0, length, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * The first bytes of a regular file at a path crossroot does not trust (in a
 * root): never through a final symlink, never blocking on a FIFO; null for
 * anything else or when it cannot be read.
 */
export function readRegularFileHead(path: string, length: number): Uint8Array | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    if (!fstatSync(fd).isFile()) return null;
    const head = new Uint8Array(length);
    return head.subarray(0, readSync(fd, head, 0, length, 0));
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
