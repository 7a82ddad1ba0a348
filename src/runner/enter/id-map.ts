// The run's user namespace id maps: the identity map as root, the user's
// /etc/subuid and /etc/subgid ranges through newuidmap/newgidmap otherwise.
// Written from outside, into the helper's new user namespace.
import { readFileSync, writeFileSync } from 'node:fs';
import { CrossrootError } from '../../core/errors.ts';
import { parsePasswd } from '../../core/users/passwd.ts';
import { parseSubIds } from '../../core/users/subordinate-ids.ts';
import { runChecked } from '../process/process.ts';

export interface IdMapping {
  readonly kind: 'identity' | 'subid';
  readonly uidLines: string;
  readonly gidLines: string;
  /** newuidmap/newgidmap argv tails (rootless). */
  readonly uidArgs: readonly string[];
  readonly gidArgs: readonly string[];
  /** Number of ids mapped from 0 (for devpts gid=5). */
  readonly gidCount: number;
}

function subIdRange(file: string, user: string, id: number): { start: number; count: number } | null {
  try {
    return parseSubIds(readFileSync(file, 'utf8'), { name: user, uid: id })[0] ?? null;
  } catch {
    return null;
  }
}

export function idMapping(hostEnv: Readonly<Record<string, string | undefined>>): IdMapping {
  const uid = process.geteuid?.() ?? 0;
  const gid = process.getegid?.() ?? 0;
  if (uid === 0) {
    return { kind: 'identity', uidLines: '0 0 4294967295\n', gidLines: '0 0 4294967295\n', uidArgs: [], gidArgs: [], gidCount: 4294967295 };
  }
  const name = userName(uid) ?? hostEnv['USER'] ?? String(uid);
  const subuid = subIdRange('/etc/subuid', name, uid);
  const subgid = subIdRange('/etc/subgid', name, uid);
  if (subuid === null || subgid === null) {
    throw new CrossrootError('USERNS_BLOCKED', `map ids for '${name}': no range in ${subuid === null ? '/etc/subuid' : '/etc/subgid'}`, {
      hint: `as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${name} (and install uidmap for newuidmap)`,
    });
  }
  return {
    kind: 'subid',
    uidLines: '',
    gidLines: '',
    uidArgs: ['0', String(uid), '1', '1', String(subuid.start), String(subuid.count)],
    gidArgs: ['0', String(gid), '1', '1', String(subgid.start), String(subgid.count)],
    gidCount: 1 + subgid.count,
  };
}

function userName(uid: number): string | null {
  try {
    for (const entry of parsePasswd(readFileSync('/etc/passwd', 'utf8'))) if (entry.uid === uid) return entry.name;
  } catch {
    // no passwd
  }
  return null;
}

export async function writeMaps(pid: number, mapping: IdMapping): Promise<void> {
  if (mapping.kind === 'identity') {
    writeFileSync(`/proc/${pid}/uid_map`, mapping.uidLines);
    writeFileSync(`/proc/${pid}/gid_map`, mapping.gidLines);
    return;
  }
  for (const [tool, args] of [['newuidmap', mapping.uidArgs], ['newgidmap', mapping.gidArgs]] as const) {
    await runChecked([tool, String(pid), ...args], {
      code: 'USERNS_BLOCKED',
      action: `map ids with ${tool}`,
      hint: 'install uidmap (newuidmap/newgidmap) and check the ranges in /etc/subuid and /etc/subgid',
    });
  }
}

