// Reads a layer's metadata without extracting it: the sha256 of the
// uncompressed tar (its diffID, checked before anything is written), the
// whiteouts to apply before the layer, the xattrs to apply after it (node-tar
// drops SCHILY.xattr.* records), and the entries that would escape the root.
import { createReadStream } from 'node:fs';
import { readFileHead } from '../fs/file-head.ts';
import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { CrossrootError } from '../../core/errors.ts';
import { XATTR_PREFIX, decodePaxRecords, decodeTarHeader, fromUtf8, paddedSize } from '../../core/image/tar-format.ts';
import type { TarHeader } from '../../core/image/tar-format.ts';
import { isExportedXattr, normalizeEntryPath, whiteoutOf } from '../../core/image/layer-rules.ts';
import { unsafeEntryReason } from '../create/root-tarball.ts';
import type { Whiteout, XattrMap } from '../../core/image/layer-rules.ts';

export interface LayerScan {
  readonly diffId: string;
  readonly whiteouts: readonly Whiteout[];
  /** Entry paths (normalized) that are whiteouts: not to be extracted. */
  readonly whiteoutPaths: ReadonlySet<string>;
  readonly xattrs: XattrMap;
  readonly problems: readonly string[];
  readonly entries: number;
  /** Created after the layer is extracted (node-tar refuses links whose target is a link, and has no FIFOs). */
  readonly symlinks: readonly DeferredSymlink[];
  readonly fifos: readonly DeferredFifo[];
  /**
   * Modes to set again after extraction: set-id, sticky and group/other write
   * bits, which the umask drops at creation and chown(2) clears afterwards.
   */
  readonly modes: ReadonlyMap<string, number>;
}

export interface DeferredFifo {
  readonly path: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface DeferredSymlink {
  readonly path: string;
  readonly target: string;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
}

const MAX_META = 1 << 20;

export type LayerCompression = 'gzip' | 'none';

export function layerCompression(file: string): LayerCompression {
  const head = readFileHead(file, 4);
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    throw new CrossrootError('IMAGE_INVALID', `read layer '${file}': zstd-compressed layers are not supported`, { hint: "convert the image first: skopeo copy --dest-compress-format gzip ..." });
  }
  return 'none';
}

/** Decompressed bytes of a layer file. */
export function openLayer(file: string): Readable {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  if (layerCompression(file) === 'none') return raw;
  const gunzip = createGunzip();
  raw.on('error', (error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
}

interface Pending {
  path?: string;
  linkpath?: string;
  uid?: number;
  gid?: number;
  mtime?: number;
  xattrs?: Map<string, Uint8Array>;
}

class Scanner {
  readonly whiteouts: Whiteout[] = [];
  readonly whiteoutPaths = new Set<string>();
  readonly xattrs: XattrMap = new Map();
  readonly problems: string[] = [];
  readonly symlinks: DeferredSymlink[] = [];
  readonly fifos: DeferredFifo[] = [];
  readonly modes = new Map<string, number>();
  /** Every directory some entry of this layer lies under. */
  readonly parents = new Set<string>();
  entries = 0;
  ended = false;
  private pending: Pending = {};

  /** Handles one header; returns what to do with its data: collect it (meta) or skip it. */
  header(header: TarHeader): 'collect' | 'skip' {
    if (header.type === 'pax' || header.type === 'gnu-longname' || header.type === 'gnu-longlink') {
      if (header.size > MAX_META) this.problems.push(`entry '${header.path}' has a ${header.size}-byte extended header`);
      return 'collect';
    }
    if (header.type === 'pax-global') return 'skip';
    this.entry(header);
    this.pending = {};
    return 'skip';
  }

  meta(header: TarHeader, body: Uint8Array): void {
    if (header.type === 'gnu-longname') this.pending.path = fromUtf8(body).replace(/\0.*$/s, '');
    else if (header.type === 'gnu-longlink') this.pending.linkpath = fromUtf8(body).replace(/\0.*$/s, '');
    else {
      for (const [key, value] of decodePaxRecords(body)) {
        if (key === 'path') this.pending.path = fromUtf8(value);
        else if (key === 'linkpath') this.pending.linkpath = fromUtf8(value);
        else if (key === 'uid' || key === 'gid' || key === 'mtime') this.pending[key] = Math.floor(Number(fromUtf8(value)));
        else if (key.startsWith(XATTR_PREFIX) && isExportedXattr(key.slice(XATTR_PREFIX.length))) {
          (this.pending.xattrs ??= new Map()).set(key.slice(XATTR_PREFIX.length), value);
        }
      }
    }
  }

  private entry(header: TarHeader): void {
    this.entries++;
    const raw = this.pending.path ?? header.path;
    const linkpath = this.pending.linkpath ?? header.linkpath;
    // The rules of --from-tar, in node-tar's type names.
    const reason = unsafeEntryReason(raw, header.type === 'link' ? 'Link' : header.type, linkpath);
    if (reason !== null) {
      this.problems.push(reason);
      return;
    }
    const path = normalizeEntryPath(raw);
    let whiteout: Whiteout | null;
    try {
      whiteout = whiteoutOf(path);
    } catch (error) {
      this.problems.push((error as Error).message);
      return;
    }
    if (whiteout !== null) {
      this.whiteouts.push(whiteout);
      this.whiteoutPaths.add(path);
      return;
    }
    for (let slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) this.parents.add(path.slice(0, slash));
    if (this.pending.xattrs !== undefined) this.xattrs.set(path, this.pending.xattrs);
    if ((header.type === 'file' || header.type === 'directory') && (header.mode & 0o7022) !== 0) this.modes.set(path, header.mode);
    else this.modes.delete(path);
    const { uid = header.uid, gid = header.gid, mtime = header.mtime } = this.pending;
    if (header.type === 'symlink') this.symlinks.push({ path, target: linkpath, uid, gid, mtime });
    if (header.type === 'fifo') this.fifos.push({ path, mode: header.mode, uid, gid });
  }

  /** Entries under a symbolic link of the same layer would be written through it. */
  finish(): void {
    for (const link of this.symlinks) {
      if (this.parents.has(link.path)) this.problems.push(`entries of the layer lie under its symbolic link '${link.path}' (-> '${link.target}')`);
    }
  }
}

/** Scans the decompressed layer stream block by block, holding one header or extended header at a time. */
export async function scanLayer(file: string): Promise<LayerScan> {
  const hash = createHash('sha256');
  const scanner = new Scanner();
  let buffered: Buffer[] = [];
  let have = 0;
  let need = 512;
  let skip = 0;
  let current: TarHeader | null = null;
  let state: 'header' | 'meta' = 'header';
  for await (const chunk of openLayer(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    let offset = 0;
    while (offset < chunk.length && !scanner.ended) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - offset);
        skip -= n;
        offset += n;
        continue;
      }
      const n = Math.min(need - have, chunk.length - offset);
      buffered.push(chunk.subarray(offset, offset + n));
      have += n;
      offset += n;
      if (have < need) continue;
      const block = Buffer.concat(buffered);
      buffered = [];
      have = 0;
      if (state === 'meta' && current !== null) {
        scanner.meta(current, block.subarray(0, current.size));
        state = 'header';
        need = 512;
        continue;
      }
      let header: TarHeader | null;
      try {
        header = decodeTarHeader(block);
      } catch {
        throw new CrossrootError('IMAGE_INVALID', `read layer '${file}': a tar header is damaged`, { hint: 'the image is damaged; nothing was kept' });
      }
      if (header === null) {
        scanner.ended = true;
        break;
      }
      current = header;
      if (scanner.header(header) === 'collect' && header.size <= MAX_META) {
        state = 'meta';
        need = paddedSize(header.size);
        if (need === 0) {
          state = 'header';
          need = 512;
        }
      } else {
        skip = paddedSize(header.size);
      }
    }
  }
  scanner.finish();
  return {
    diffId: `sha256:${hash.digest('hex')}`, symlinks: scanner.symlinks, fifos: scanner.fifos, modes: scanner.modes,
    whiteouts: scanner.whiteouts, whiteoutPaths: scanner.whiteoutPaths, xattrs: scanner.xattrs,
    problems: scanner.problems, entries: scanner.entries,
  };
}
