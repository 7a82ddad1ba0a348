// A listing of a tree as Linux sees it, to compare two trees: one line per
// path with type, mode, owner, size, content digest, link target, hard-link
// group and xattrs.
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { runProcess } from '../../src/runner/process/process.ts';
import { parseXattrDump } from '../../src/core/image/layer-rules.ts';

export interface ListingOptions {
  /** Top-level names to leave out. */
  readonly exclude?: readonly string[];
  readonly owners?: boolean;
  /** Leave out device nodes and sockets (images never hold them). */
  readonly skipDevices?: boolean;
  /**
   * Owners as `umoci unpack --rootless` records them: in the
   * user.rootlesscontainers xattr (protobuf: 1 uid, 2 gid; 2^32-1 means the
   * unpacking user, i.e. 0), the file itself being the user's.
   */
  readonly rootlessOwners?: boolean;
}

const NOOP_ID = 4294967295;

function rootlessOwner(value: Uint8Array | undefined): [number, number] {
  const ids = [0, 0];
  let i = 0;
  while (value !== undefined && i < value.length) {
    const field = (value[i++] ?? 0) >> 3;
    let number = 0;
    let scale = 1;
    for (;;) {
      const byte = value[i++] ?? 0;
      number += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) break;
    }
    if (field === 1 || field === 2) ids[field - 1] = number === NOOP_ID ? 0 : number;
  }
  return [ids[0] ?? 0, ids[1] ?? 0];
}

export async function treeListing(root: string, options: ListingOptions = {}): Promise<string[]> {
  const dump = await runProcess(['getfattr', '--absolute-names', '-R', '-P', '-h', '-d', '-m', '-', '-e', 'base64', '--', root]);
  const xattrs = parseXattrDump(dump.stdout, root);
  const lines: string[] = [];
  const inodes = new Map<string, string>();
  const walk = (relative: string): void => {
    const path = relative === '' ? root : join(root, relative);
    const stat = lstatSync(path);
    if (options.skipDevices === true && (stat.isCharacterDevice() || stat.isBlockDevice() || stat.isSocket())) return;
    const type = stat.isDirectory() ? 'd' : stat.isSymbolicLink() ? 'l' : stat.isFile() ? 'f' : stat.isFIFO() ? 'p' : 'x';
    let detail = '';
    if (type === 'f') {
      const key = `${stat.dev}:${stat.ino}`;
      const first = inodes.get(key);
      if (first === undefined) inodes.set(key, relative);
      detail = `${stat.size} ${createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16)}${stat.nlink > 1 ? ` link=${first ?? relative}` : ''}`;
    } else if (type === 'l') {
      detail = `-> ${readlinkSync(path)}`;
    }
    const own = xattrs.get(relative);
    const [uid, gid] = options.rootlessOwners === true ? rootlessOwner(own?.get('user.rootlesscontainers')) : [stat.uid, stat.gid];
    if (options.rootlessOwners === true) own?.delete('user.rootlesscontainers');
    const attrs = [...(own ?? [])].map(([name, value]) => `${name}=${Buffer.from(value).toString('base64')}`).sort().join(',');
    const owner = options.owners === false ? '' : ` ${uid}:${gid}`;
    lines.push(`${relative === '' ? '.' : relative} ${type} ${(stat.mode & 0o7777).toString(8)}${owner} ${detail}${attrs === '' ? '' : ` [${attrs}]`}`);
    if (type !== 'd') return;
    for (const name of readdirSync(path).sort()) {
      if (relative === '' && options.exclude?.includes(name) === true) continue;
      walk(relative === '' ? name : `${relative}/${name}`);
    }
  };
  walk('');
  return lines;
}

/** The first lines where two listings differ (for an assertion message). */
export function listingDiff(a: readonly string[], b: readonly string[]): string {
  const setB = new Set(b);
  const setA = new Set(a);
  const onlyA = a.filter((line) => !setB.has(line)).slice(0, 8);
  const onlyB = b.filter((line) => !setA.has(line)).slice(0, 8);
  return `only in the first:\n  ${onlyA.join('\n  ')}\nonly in the second:\n  ${onlyB.join('\n  ')}`;
}
