// /etc/passwd and /etc/group of a root, parsed as text (pure). Used to turn
// `--user NAME|UID[:GROUP]` into numeric ids inside the root and to find the
// login shell and home directory for `crossroot shell`. Malformed lines are
// skipped, as getpwent(3) does; nothing here trusts the root's contents.
import { CrossrootError } from '../errors.ts';

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

/** Largest id a uid_map can express (2^32 - 2: (uid_t)-1 is reserved). */
export const MAX_ID = 4294967294;

function parseId(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return null;
  const value = Number(text);
  return value <= MAX_ID ? value : null;
}

export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 7 || line.startsWith('#')) continue;
    const [name = '', , uidText, gidText, , home = '', shell = ''] = fields;
    const uid = parseId(uidText);
    const gid = parseId(gidText);
    if (name === '' || uid === null || gid === null) continue;
    entries.push({ name, uid, gid, home, shell });
  }
  return entries;
}

export function parseGroup(text: string): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 4 || line.startsWith('#')) continue;
    const [name = '', , gidText, members = ''] = fields;
    const gid = parseId(gidText);
    if (name === '' || gid === null) continue;
    entries.push({ name, gid, members: members.split(',').map((member) => member.trim()).filter((member) => member !== '') });
  }
  return entries;
}

export interface ResolvedUser {
  readonly name: string | null;
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups (the primary gid excluded), sorted, unique. */
  readonly groups: readonly number[];
  readonly home: string;
  readonly shell: string;
}

export const DEFAULT_SHELL = '/bin/sh';

/**
 * `spec` is NAME, UID, NAME:GROUP or UID:GID (GROUP a name or a number). A
 * name must exist in the root's passwd; a bare number need not (like
 * `chroot --userspec`), it then gets gid = uid unless given, home '/' and
 * /bin/sh. Supplementary groups come from the group file's member lists.
 */
export function resolveUser(spec: string, passwd: readonly PasswdEntry[], groups: readonly GroupEntry[]): ResolvedUser {
  const [userPart = '', groupPart] = spec.split(':', 2);
  const notFound = (what: string): CrossrootError => new CrossrootError('USER_NOT_FOUND',
    `resolve user '${spec}': ${what} is not in the root's /etc/${what.startsWith('group') ? 'group' : 'passwd'}`, {
      hint: 'create the user inside the root first (crossroot run DIR -- useradd NAME), or give numeric ids (UID:GID)',
    });
  const numericUid = parseId(userPart);
  const entry = passwd.find((candidate) => candidate.name === userPart)
    ?? (numericUid === null ? undefined : passwd.find((candidate) => candidate.uid === numericUid));
  if (entry === undefined && numericUid === null) throw notFound(`user '${userPart}'`);
  const uid = entry?.uid ?? numericUid ?? 0;
  let gid = entry?.gid ?? uid;
  if (groupPart !== undefined && groupPart !== '') {
    const numericGid = parseId(groupPart);
    const group = groups.find((candidate) => candidate.name === groupPart);
    if (group === undefined && numericGid === null) throw notFound(`group '${groupPart}'`);
    gid = group?.gid ?? numericGid ?? gid;
  }
  const name = entry?.name ?? null;
  const supplementary = name === null ? [] : groups
    .filter((group) => group.members.includes(name) && group.gid !== gid)
    .map((group) => group.gid);
  return {
    name,
    uid,
    gid,
    groups: [...new Set(supplementary)].sort((a, b) => a - b),
    home: entry?.home !== undefined && entry.home.startsWith('/') ? entry.home : '/',
    shell: entry?.shell !== undefined && entry.shell.startsWith('/') ? entry.shell : DEFAULT_SHELL,
  };
}
