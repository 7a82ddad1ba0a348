// User namespaces: whose subordinate ids count, the id maps of the namespaces
// crossroot creates and how they are written from outside, and whether this
// process lives in the initial user namespace (so whose binfmt_misc it changes).
//
// Whose ranges count has one answer for run, create and doctor: the passwd
// name of the effective uid (what newuidmap checks), never $USER or SUDO_USER.
//
// binfmt_misc (Linux >= 6.7) has one instance per user namespace that mounted one; writes from a
// process in a non-initial user namespace need CAP_SYS_ADMIN over the instance's owner, so any
// registration that succeeds there lands in a namespace's PRIVATE instance, never in the host's
// (init_binfmt_misc) — which is what tonistiigi/binfmt#261 users run into unknowingly.
// The test: /proc/self/uid_map of the initial user namespace is the identity map of the whole
// 32-bit range ("0 0 4294967295"); every other namespace maps less (e.g. "0 1000 1" after
// `unshare --map-root-user`). Comparing /proc/self/ns/user with /proc/1/ns/user is not used:
// pid 1 may itself be in a user namespace (containers), and reading its link needs ptrace rights.
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { CrossrootError } from '../../core/errors.ts';
import type { IdMaps } from '../../core/users/id-maps.ts';
import { idMapText, newIdMapArgs, planIdMaps } from '../../core/users/id-maps.ts';
import { parsePasswd } from '../../core/users/passwd.ts';
import type { IdRange } from '../../core/users/subordinate-ids.ts';
import { parseSubIds } from '../../core/users/subordinate-ids.ts';
import { runChecked } from '../process/process.ts';

export type InstanceNamespace = 'host' | 'private';

/** True when uid_map is the identity over every uid (the initial user namespace). */
export function isIdentityUidMap(uidMap: string): boolean {
  const lines = uidMap.trim().split('\n').map((line) => line.trim().split(/\s+/));
  return lines.length === 1 && lines[0]?.[0] === '0' && lines[0][1] === '0' && lines[0][2] === '4294967295';
}

export function currentInstanceNamespace(uidMapPath = '/proc/self/uid_map'): InstanceNamespace {
  try {
    return isIdentityUidMap(readFileSync(uidMapPath, 'utf8')) ? 'host' : 'private';
  } catch {
    return 'host';
  }
}

export const PRIVATE_INSTANCE_NOTE = 'these registrations are not visible outside this user namespace';

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The user whose /etc/subuid and /etc/subgid ranges count: the effective uid, named by /etc/passwd. */
export function subordinateUser(euid: number = process.geteuid?.() ?? 0): { readonly name: string | null; readonly uid: number } {
  const entry = parsePasswd(readText('/etc/passwd') ?? '').find((candidate) => candidate.uid === euid);
  return { name: entry?.name ?? null, uid: euid };
}

/** The ranges of `user` in /etc/subuid or /etc/subgid (empty when unreadable). */
export function subordinateRanges(file: '/etc/subuid' | '/etc/subgid', user: { readonly name: string | null; readonly uid: number }): IdRange[] {
  return parseSubIds(readText(file) ?? '', user);
}

/** The id maps of a namespace crossroot creates for this process's user (USERNS_BLOCKED without ranges). */
export function idMapsOfThisUser(): IdMaps {
  const user = subordinateUser();
  return planIdMaps({
    euid: user.uid,
    egid: process.getegid?.() ?? 0,
    name: user.name,
    subuid: user.uid === 0 ? [] : subordinateRanges('/etc/subuid', user),
    subgid: user.uid === 0 ? [] : subordinateRanges('/etc/subgid', user),
  });
}

/**
 * Waits until process `pid` is in a user namespace other than ours (unshare(1)
 * has called unshare(2): its maps can be written). False when it is gone,
 * `exited` settles first, or 10 s pass.
 */
export async function waitForUserNamespace(pid: number, exited?: Promise<unknown>): Promise<boolean> {
  const own = readlinkSync('/proc/self/ns/user');
  let gone = false;
  void exited?.then(() => { gone = true; }, () => { gone = true; });
  const deadline = Date.now() + 10_000;
  while (!gone && Date.now() < deadline) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/user`) !== own) return true;
    } catch {
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return false;
}

/** Writes the maps of `pid`'s user namespace: directly as root, with newuidmap/newgidmap otherwise. */
export async function writeIdMaps(pid: number, maps: IdMaps): Promise<void> {
  if (maps.kind === 'identity') {
    try {
      writeFileSync(`/proc/${pid}/uid_map`, idMapText(maps.uid));
      writeFileSync(`/proc/${pid}/gid_map`, idMapText(maps.gid));
    } catch (error) {
      throw new CrossrootError('USERNS_BLOCKED', `write the uid/gid maps of process '${pid}': ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        hint: 'check that user namespaces are allowed (crossroot doctor)',
      });
    }
    return;
  }
  for (const [tool, lines] of [['newuidmap', maps.uid], ['newgidmap', maps.gid]] as const) {
    await runChecked([tool, String(pid), ...newIdMapArgs(lines)], {
      code: 'USERNS_BLOCKED',
      action: `map ids with ${tool}`,
      hint: 'install uidmap (newuidmap/newgidmap) and check the ranges in /etc/subuid and /etc/subgid',
    });
  }
}
