// The lock that makes one crossroot create a managed root while the others
// wait: a directory `<roots>/.<name>.creating` made with mkdir(2), which
// fails when it exists (atomic on every local filesystem), holding
// owner.json: who creates (pid and the kernel's start time of that process,
// so that a recycled pid is not taken for the owner), since when, and the
// stage reached. A lock whose owner is gone (killed while creating) is
// stale: the next one to come removes it and creates. (Node has no flock(2).)
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive, startTimeOf } from '../host/process-identity.ts';

export interface LockOwner {
  readonly pid: number;
  /** Field 22 of /proc/PID/stat: tells a recycled pid apart. */
  readonly startTime: string;
  /** ISO time the creation started. */
  readonly since: string;
  /** The stage of the creation, as its progress says. */
  readonly stage: string;
}

const SUFFIX = '.creating';

export function lockPath(rootsDir: string, name: string): string {
  return join(rootsDir, `.${name}${SUFFIX}`);
}

export function readOwner(lock: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(join(lock, 'owner.json'), 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid !== 'number' || typeof owner.startTime !== 'string') return null;
    return { pid: owner.pid, startTime: owner.startTime, since: String(owner.since ?? ''), stage: String(owner.stage ?? '') };
  } catch {
    return null;
  }
}

/** Whether the lock's owner still runs (the same process, not a recycled pid). */
export function ownerAlive(owner: LockOwner): boolean {
  return processAlive(owner.pid, owner.startTime);
}

function writeOwner(lock: string, owner: LockOwner): void {
  const file = join(lock, 'owner.json');
  writeFileSync(`${file}.tmp`, `${JSON.stringify(owner)}\n`);
  renameSync(`${file}.tmp`, file);
}

export interface HeldLock {
  /** Records the stage reached (for `roots list`). */
  stage(text: string): void;
  release(): void;
}

/**
 * Takes the lock, or returns the live owner that holds it. A stale lock (its
 * owner gone, or never written after a grace second) is removed and taken.
 */
export function tryLock(lock: string): HeldLock | LockOwner {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      mkdirSync(lock, { mode: 0o755 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readOwner(lock);
      if (owner !== null && ownerAlive(owner)) return owner;
      if (owner === null && ageMs(lock) < 5000) return { pid: 0, startTime: '', since: '', stage: 'starting' };
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    const owner: LockOwner = { pid: process.pid, startTime: startTimeOf(process.pid) ?? '', since: new Date().toISOString(), stage: 'starting' };
    writeOwner(lock, owner);
    let released = false;
    return {
      stage: (text) => { if (!released) writeOwner(lock, { ...owner, stage: text }); },
      release: () => {
        released = true;
        rmSync(lock, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`lock '${lock}': it keeps changing`);
}

/** Milliseconds since the lock directory was made (its owner writes owner.json right after). */
function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** The locks under `rootsDir` with a live owner: name -> owner. */
export function heldLocks(rootsDir: string): Map<string, LockOwner> {
  const held = new Map<string, LockOwner>();
  let names: string[];
  try {
    names = readdirSync(rootsDir);
  } catch {
    return held;
  }
  for (const entry of names) {
    if (!entry.startsWith('.') || !entry.endsWith(SUFFIX)) continue;
    const owner = readOwner(join(rootsDir, entry));
    if (owner !== null && ownerAlive(owner)) held.set(entry.slice(1, -SUFFIX.length), owner);
  }
  return held;
}

/** Runs `work` holding the lock at `lock`, waiting (polling) while a live owner holds it. */
export async function withLock<T>(lock: string, work: () => Promise<T>, pollMs = 500): Promise<T> {
  for (;;) {
    const held = tryLock(lock);
    if ('release' in held) {
      try {
        return await work();
      } finally {
        held.release();
      }
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
