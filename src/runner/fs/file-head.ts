// The first bytes of a file (fewer when it is shorter): what format sniffing reads.
import { closeSync, openSync, readSync } from 'node:fs';

export function readFileHead(path: string, length: number): Uint8Array {
  const head = new Uint8Array(length);
  const fd = openSync(path, 'r');
  try {
    return head.subarray(0, readSync(fd, head, 0, length, 0));
  } finally {
    closeSync(fd);
  }
}
