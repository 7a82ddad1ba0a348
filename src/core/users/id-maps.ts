// The uid/gid maps of a user namespace crossroot creates (run, create, the
// removal of a rootless tree): the identity over every id as root; otherwise
// the user as 0 plus its first /etc/subuid and /etc/subgid range from 1 up,
// which newuidmap/newgidmap write after checking the same files. Pure: the
// runner reads the files and writes the maps (runner/host/userns.ts).
import { CrossrootError } from '../errors.ts';
import type { IdRange } from './subordinate-ids.ts';

/** One line of /proc/PID/uid_map: `inside` .. `inside+count-1` are `outside` .. in the parent. */
export interface IdMapLine {
  readonly inside: number;
  readonly outside: number;
  readonly count: number;
}

export interface IdMaps {
  readonly kind: 'identity' | 'subid';
  readonly uid: readonly IdMapLine[];
  readonly gid: readonly IdMapLine[];
}

/** The whole 32-bit range: (uid_t)-1 is reserved, so 4294967295 ids from 0. */
const IDENTITY: readonly IdMapLine[] = [{ inside: 0, outside: 0, count: 4294967295 }];

/** Whose ranges count and what they are: the effective user (named by its passwd entry). */
export interface IdMapFacts {
  readonly euid: number;
  readonly egid: number;
  /** The euid's passwd name, or null (then only "uid:start:count" lines match). */
  readonly name: string | null;
  readonly subuid: readonly IdRange[];
  readonly subgid: readonly IdRange[];
}

/** The maps for a namespace of the user in `facts`; USERNS_BLOCKED when a rootless user has no ranges. */
export function planIdMaps(facts: IdMapFacts): IdMaps {
  if (facts.euid === 0) return { kind: 'identity', uid: IDENTITY, gid: IDENTITY };
  const who = facts.name ?? String(facts.euid);
  const subuid = facts.subuid[0];
  const subgid = facts.subgid[0];
  if (subuid === undefined || subgid === undefined) {
    throw new CrossrootError('USERNS_BLOCKED', `map ids for '${who}': no range in ${subuid === undefined ? '/etc/subuid' : '/etc/subgid'}`, {
      hint: `as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${who} (and install uidmap for newuidmap)`,
    });
  }
  return {
    kind: 'subid',
    uid: [{ inside: 0, outside: facts.euid, count: 1 }, { inside: 1, outside: subuid.start, count: subuid.count }],
    gid: [{ inside: 0, outside: facts.egid, count: 1 }, { inside: 1, outside: subgid.start, count: subgid.count }],
  };
}

/** The text written to /proc/PID/uid_map or gid_map (one write). */
export function idMapText(lines: readonly IdMapLine[]): string {
  return lines.map((line) => `${line.inside} ${line.outside} ${line.count}\n`).join('');
}

/** The argv tail of newuidmap/newgidmap after the pid. */
export function newIdMapArgs(lines: readonly IdMapLine[]): string[] {
  return lines.flatMap((line) => [String(line.inside), String(line.outside), String(line.count)]);
}

/** How many gids are mapped from 0 (devpts' gid=5 needs more than 5). */
export function mappedCount(lines: readonly IdMapLine[]): number {
  return lines.reduce((sum, line) => sum + line.count, 0);
}
