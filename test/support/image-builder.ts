// Hand-made OCI image layouts for the import tests: arbitrary layer entries
// (hostile ones included), optionally with digests that lie.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';

export interface LayerEntry {
  readonly path: string;
  readonly type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link';
  readonly content?: Uint8Array | string;
  readonly linkpath?: string;
  readonly mode?: number;
}

export function tarBytes(entries: readonly LayerEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const content = typeof entry.content === 'string' ? Buffer.from(entry.content) : Buffer.from(entry.content ?? new Uint8Array());
    const type = entry.type ?? 'File';
    const block = Buffer.alloc(512);
    new Header({
      path: entry.path, type, mode: entry.mode ?? (type === 'Directory' ? 0o755 : 0o644), uid: 0, gid: 0,
      size: type === 'File' ? content.length : 0, mtime: new Date(1_700_000_000_000), linkpath: entry.linkpath ?? '', uname: '', gname: '',
    }).encode(block, 0);
    parts.push(block);
    if (type === 'File') parts.push(content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const sha = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export interface ImageSpec {
  readonly layers: readonly (readonly LayerEntry[])[];
  readonly architecture?: string;
  readonly variant?: string;
  /** Replace a layer blob after its digest was taken. */
  readonly tamperLayer?: number;
  /** Write a wrong diff_id for this layer. */
  readonly lieDiffId?: number;
}

function writeBlob(layout: string, bytes: Uint8Array): { digest: string; size: number } {
  const digest = sha(bytes);
  writeFileSync(join(layout, 'blobs/sha256', digest.slice(7)), bytes);
  return { digest, size: bytes.length };
}

/** Writes one image's blobs; returns its manifest descriptor. */
function writeImage(layout: string, spec: ImageSpec): { mediaType: string; digest: string; size: number; platform: Record<string, string> } {
  const layers = spec.layers.map((entries, i) => {
    const tar = tarBytes(entries);
    const gz = gzipSync(tar);
    const blob = writeBlob(layout, gz);
    if (spec.tamperLayer === i) writeFileSync(join(layout, 'blobs/sha256', blob.digest.slice(7)), gzipSync(tarBytes([...entries, { path: 'evil', content: 'x' }])));
    return { blob, diffId: spec.lieDiffId === i ? sha(Buffer.from('lie')) : sha(tar) };
  });
  const platform = { architecture: spec.architecture ?? 'amd64', os: 'linux', ...(spec.variant === undefined ? {} : { variant: spec.variant }) };
  const config = writeBlob(layout, Buffer.from(JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) }, config: {} })));
  const manifest = writeBlob(layout, Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layers.map((layer) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer.blob })),
  })));
  return { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, platform };
}

/** An OCI layout directory at `layout` holding the images (several: an index of platforms). */
export function writeLayout(layout: string, images: readonly ImageSpec[]): string {
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const manifests = images.map((image) => writeImage(layout, image));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  return layout;
}
