// Whether this process lives in the initial user namespace, and so whose binfmt_misc it changes.
//
// binfmt_misc (Linux >= 6.7) has one instance per user namespace that mounted one; writes from a
// process in a non-initial user namespace need CAP_SYS_ADMIN over the instance's owner, so any
// registration that succeeds there lands in a namespace's PRIVATE instance, never in the host's
// (init_binfmt_misc) — which is what tonistiigi/binfmt#261 users run into unknowingly.
// The test: /proc/self/uid_map of the initial user namespace is the identity map of the whole
// 32-bit range ("0 0 4294967295"); every other namespace maps less (e.g. "0 1000 1" after
// `unshare --map-root-user`). Comparing /proc/self/ns/user with /proc/1/ns/user is not used:
// pid 1 may itself be in a user namespace (containers), and reading its link needs ptrace rights.
import { readFileSync } from 'node:fs';

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
