// /etc/subuid and /etc/subgid: the id ranges a user may map into a user
// namespace (newuidmap/newgidmap check the same lines).

export interface IdRange {
  readonly start: number;
  readonly count: number;
}

/** /etc/subuid lines "name:start:count" (or "uid:start:count") for this user. */
export function parseSubIds(text: string, user: { readonly name: string | null; readonly uid: number }): IdRange[] {
  const ranges: IdRange[] = [];
  for (const line of text.split('\n')) {
    const [owner, start, count] = line.trim().split(':');
    if (owner === undefined || start === undefined || count === undefined || line.trim().startsWith('#')) continue;
    if (owner !== user.name && owner !== String(user.uid)) continue;
    const range = { start: Number(start), count: Number(count) };
    if (Number.isInteger(range.start) && Number.isInteger(range.count) && range.count > 0) ranges.push(range);
  }
  return ranges;
}
