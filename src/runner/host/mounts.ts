// The mount table of this process's mount namespace, read once per question
// (parsing lives in core/host/mount-table.ts).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { mountPoints, mountPointsUnder } from '../../core/host/mount-table.ts';

/** /proc/self/mounts, or '' when it cannot be read. */
export function readMountTable(path = '/proc/self/mounts'): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Mount points at or under `dir` in this mount namespace (octal escapes decoded); `mountsText` instead of reading the table. */
export function mountsUnder(dir: string, mountsText: string = readMountTable()): string[] {
  return mountPointsUnder(mountsText, resolve(dir));
}

/** The mount points of /proc/self/mountinfo, or null when it cannot be read. */
export function mountInfoPoints(): Set<string> | null {
  const text = readMountTable('/proc/self/mountinfo');
  return text === '' ? null : new Set(mountPoints(text, 'mountinfo'));
}
