// The host directory of an icecream run (the daemon's socket and log, the
// client's binds; iceccd runs on the host, so it cannot live in the run's
// namespaces). The run removes it when it ends; a run killed by SIGKILL
// cannot, so its name says whose it is (core/icecream/run-dir-name.ts) and
// every run that makes one first removes those of runs that are gone.
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_DIR_PREFIX, parseRunDirName, runDirPrefix } from '../../core/icecream/run-dir-name.ts';
import { processAlive, startTimeOf } from '../host/process-identity.ts';

/**
 * Removes the run directories in `parent` left by runs that are gone, this
 * user's only (another user's are not ours to judge); returns their paths.
 * Best effort: one that cannot be removed stays for the next run.
 */
export function removeStaleRunDirs(parent: string = tmpdir()): string[] {
  let names: string[];
  try {
    names = readdirSync(parent).filter((name) => name.startsWith(RUN_DIR_PREFIX));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const owner = parseRunDirName(name);
    if (owner === null || processAlive(owner.pid, owner.startTime)) continue;
    const path = join(parent, name);
    try {
      const stat = lstatSync(path);
      if (!stat.isDirectory() || stat.uid !== process.geteuid?.()) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return removed;
}

/** A fresh run directory in `parent`, named for this process, after removing stale ones. */
export function createRunDir(parent: string = tmpdir()): string {
  removeStaleRunDirs(parent);
  return mkdtempSync(join(parent, runDirPrefix(process.pid, startTimeOf(process.pid) ?? '0')));
}
