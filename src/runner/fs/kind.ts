// What is at a host path, without following a final symlink (lstat).
import { lstatSync } from 'node:fs';

export type FileKind = 'file' | 'dir' | 'symlink' | 'other';

/** The kind of the entry at `hostPath`, or null when there is none (or it cannot be looked at). */
export function kindOf(hostPath: string): FileKind | null {
  try {
    // A missing entry is a common answer (a run's plan asks for many): no exception for it.
    const stat = lstatSync(hostPath, { throwIfNoEntry: false });
    if (stat === undefined) return null;
    if (stat.isSymbolicLink()) return 'symlink';
    if (stat.isDirectory()) return 'dir';
    if (stat.isFile()) return 'file';
    return 'other';
  } catch {
    return null;
  }
}
