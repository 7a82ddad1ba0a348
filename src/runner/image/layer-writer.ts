// Writes a root as one image layer: a tar stream of the tree as Linux sees
// it (sorted, modes, owners, hard links, symlinks, xattrs as
// SCHILY.xattr.* PAX records), gzipped or not, to a file, while computing
// the sha256 of the tar (the diffID) and of the file (the blob digest).
// Memory stays bounded: one directory's names and one 1 MiB buffer at a time.
import { createWriteStream } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createGzip } from 'node:zlib';
import { Transform } from 'node:stream';
import type { Duplex, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Header } from 'tar';
import { EXPORT_EXCLUDED, clampMtime, exportKind } from '../../core/image/layer-rules.ts';
import type { XattrMap } from '../../core/image/layer-rules.ts';
import { XATTR_PREFIX, concat, encodePaxRecords, utf8 } from '../../core/image/tar-format.ts';

export interface LayerStats {
  readonly diffId: string;
  readonly digest: string;
  readonly size: number;
  readonly entries: number;
  readonly bytes: number;
  readonly skipped: number;
  /** The newest mtime written (after clamping), seconds. */
  readonly newestMtime: number;
}

export interface LayerOptions {
  readonly root: string;
  readonly output: string;
  readonly gzip: boolean;
  readonly clamp: number | null;
  readonly xattrs: XattrMap;
  readonly onProgress?: ((entries: number, bytes: number) => void) | undefined;
}

const CHUNK = 1 << 20;

/** A 1 MiB write buffer in front of a stream, with back-pressure, hashing what passes. */
export class BufferedSink {
  private buffer = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  constructor(private readonly target: Writable, private readonly hash: Hash) {}

  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      const n = Math.min(bytes.length - offset, CHUNK - this.used);
      this.buffer.set(bytes.subarray(offset, offset + n), this.used);
      this.used += n;
      offset += n;
      if (this.used === CHUNK) await this.flush();
    }
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    const chunk = this.buffer.subarray(0, this.used);
    this.hash.update(chunk);
    this.buffer = Buffer.allocUnsafe(CHUNK);
    this.used = 0;
    if (!this.target.write(chunk)) await new Promise<void>((resolve, reject) => {
      const done = (error?: unknown): void => {
        this.target.off('drain', done);
        this.target.off('error', done);
        if (error === undefined) resolve(); else reject(error as Error);
      };
      this.target.on('drain', done);
      this.target.on('error', done);
    });
  }
}

export interface Member {
  readonly path: string;
  readonly type: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'FIFO';
  readonly stat: Pick<Stats, 'mode' | 'uid' | 'gid'>;
  readonly mtime: number;
  readonly size: number;
  readonly linkpath: string;
  readonly xattrs: ReadonlyMap<string, Uint8Array> | undefined;
}

export function encodeHeader(member: Member): Uint8Array {
  const fields = {
    path: member.path, mode: member.stat.mode & 0o7777, uid: member.stat.uid, gid: member.stat.gid,
    size: member.size, mtime: new Date(member.mtime * 1000), type: member.type, linkpath: member.linkpath,
    uname: '', gname: '', devmaj: 0, devmin: 0,
  };
  const header = new Header(fields);
  const block = Buffer.alloc(512);
  const needPax = header.encode(block, 0);
  if (!needPax && member.xattrs === undefined) return block;
  const records: [string, Uint8Array][] = [];
  if (needPax) {
    records.push(['path', utf8(member.path)]);
    if (member.linkpath !== '') records.push(['linkpath', utf8(member.linkpath)]);
    if (member.stat.uid > 0o7777777) records.push(['uid', utf8(String(member.stat.uid))]);
    if (member.stat.gid > 0o7777777) records.push(['gid', utf8(String(member.stat.gid))]);
    if (member.size > 0o77777777777) records.push(['size', utf8(String(member.size))]);
  }
  for (const [name, value] of [...(member.xattrs ?? [])].sort(([a], [b]) => (a < b ? -1 : 1))) records.push([`${XATTR_PREFIX}${name}`, value]);
  const body = encodePaxRecords(records);
  const paxBlock = Buffer.alloc(512);
  const base = member.path.replace(/\/$/, '').split('/').at(-1) ?? '';
  new Header({ path: `PaxHeader/${base}`.slice(0, 99), mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: fields.mtime, type: 'ExtendedHeader', linkpath: '', uname: '', gname: '' }).encode(paxBlock, 0);
  return concat([paxBlock, body, new Uint8Array((512 - (body.length % 512)) % 512), block]);
}

export async function copyFile(sink: BufferedSink, path: string, size: number): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, size - done), done);
      if (bytesRead === 0) break; // shrank while we read: padded with zeros below
      await sink.write(chunk.subarray(0, bytesRead));
      done += bytesRead;
    }
    if (done < size) await sink.write(new Uint8Array(size - done));
    const pad = (512 - (size % 512)) % 512;
    if (pad > 0) await sink.write(new Uint8Array(pad));
  } finally {
    await handle.close();
  }
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Streams the tree at `root` as a tar into `sink`. */
async function writeTree(options: LayerOptions, sink: BufferedSink): Promise<{ entries: number; bytes: number; skipped: number; newest: number }> {
  const rootStat = await lstat(options.root);
  const links = new Map<string, string>();
  const counts = { entries: 0, bytes: 0, skipped: 0, newest: 0 };
  const emit = async (relative: string, stat: Stats): Promise<boolean> => {
    const kind = exportKind(stat);
    if (kind === 'skip') {
      counts.skipped++;
      return false;
    }
    const mtime = clampMtime(stat.mtimeMs / 1000, options.clamp);
    counts.newest = Math.max(counts.newest, mtime);
    const host = relative === '' ? options.root : `${options.root}/${relative}`;
    const xattrs = options.xattrs.get(relative);
    const base = { stat, mtime, xattrs };
    counts.entries++;
    if (kind === 'directory') {
      await sink.write(encodeHeader({ ...base, path: relative === '' ? './' : `${relative}/`, type: 'Directory', size: 0, linkpath: '' }));
      return true;
    }
    if (kind === 'symlink') {
      await sink.write(encodeHeader({ ...base, path: relative, type: 'SymbolicLink', size: 0, linkpath: await readlink(host) }));
      return false;
    }
    if (kind === 'fifo') {
      await sink.write(encodeHeader({ ...base, path: relative, type: 'FIFO', size: 0, linkpath: '' }));
      return false;
    }
    const key = `${stat.dev}:${stat.ino}`;
    const first = stat.nlink > 1 ? links.get(key) : undefined;
    if (first !== undefined) {
      await sink.write(encodeHeader({ ...base, path: relative, type: 'Link', size: 0, linkpath: first }));
      return false;
    }
    if (stat.nlink > 1) links.set(key, relative);
    await sink.write(encodeHeader({ ...base, path: relative, type: 'File', size: stat.size, linkpath: '' }));
    await copyFile(sink, host, stat.size);
    counts.bytes += stat.size;
    options.onProgress?.(counts.entries, counts.bytes);
    return false;
  };
  const visit = async (relative: string, stat: Stats): Promise<void> => {
    const descend = await emit(relative, stat);
    // Another filesystem mounted inside the root (a run's /proc, a bind): its directory only.
    if (!descend || stat.dev !== rootStat.dev) return;
    const host = relative === '' ? options.root : `${options.root}/${relative}`;
    const names = (await readdir(host)).sort(byteOrder);
    for (const name of names) {
      if (relative === '' && (EXPORT_EXCLUDED as readonly string[]).includes(name)) continue;
      const child = relative === '' ? name : `${relative}/${name}`;
      await visit(child, await lstat(`${host}/${name}`));
    }
  };
  await visit('', rootStat);
  await sink.write(new Uint8Array(1024)); // two zero blocks end the archive
  await sink.flush();
  return counts;
}

/** Writes the layer file; returns its digests and what went in. */
export async function writeLayer(options: LayerOptions): Promise<LayerStats> {
  const diffHash = createHash('sha256');
  const blobHash = createHash('sha256');
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      blobHash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const file = createWriteStream(options.output, { mode: 0o644 });
  // gzip -n: no name, no time in the header; level 6 like gzip(1)'s default.
  const front: Duplex = options.gzip ? createGzip({ level: 6 }) : counter;
  const written = options.gzip ? pipeline(front, counter, file) : pipeline(counter, file);
  const sink = new BufferedSink(front, diffHash);
  let counts;
  try {
    counts = await writeTree(options, sink);
  } catch (error) {
    front.destroy(error as Error);
    await written.catch(() => { /* the walk's error is the one to report */ });
    throw error;
  }
  front.end();
  await written;
  const diffId = `sha256:${diffHash.digest('hex')}`;
  return {
    diffId, digest: options.gzip ? `sha256:${blobHash.digest('hex')}` : diffId, size,
    entries: counts.entries, bytes: counts.bytes, skipped: counts.skipped, newestMtime: counts.newest,
  };
}
