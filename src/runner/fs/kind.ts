// What is at a host path, without following a final symlink (lstat).
import { lstatSync } from 'node:fs';

export type FileKind = 'file' | 'dir' | 'symlink' | 'other';

/** The kind of the entry at `hostPath`, or null when there is none (or it cannot be looked at). */
export function kindOf(hostPath: string): FileKind | null {
  try {
    const stat = lstatSync(hostPath);
    if (stat.isSymbolicLink()) return 'symlink';
    if (stat.isDirectory()) return 'dir';
    if (stat.isFile()) return 'file';
    return 'other';
  } catch {
    return null;
  }
}
