// Which process a pid names, across pid reuse: the pid and the kernel's start
// time of that process (field 22 of /proc/PID/stat, clock ticks since boot).
// A lock or directory stamped with both belongs to a process that is gone
// once the pid is free or names a process started at another time.
import { readFileSync } from 'node:fs';

/** Field 22 of /proc/PID/stat, or null when there is no such process. */
export function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and ')': count from its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the process that had `pid` and `startTime` still runs (not a recycled pid). */
export function processAlive(pid: number, startTime: string): boolean {
  return startTimeOf(pid) === startTime;
}
