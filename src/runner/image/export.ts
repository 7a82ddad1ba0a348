// `crossroot export`: roots as an OCI image layout (a tar) or a `docker save`
// archive, without a daemon. Each root becomes one layer (layer-writer.ts)
// in a temporary directory beside the output; the JSON documents are built
// by core/image/oci.ts; the archive is written to a partial file and renamed
// onto the output only when complete. The same roots give the same bytes.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { CrossrootError, UsageError } from '../../core/errors.ts';
import { MEDIA, OCI_LAYOUT, REF_NAME, blobPath, dockerManifest, imageConfig, imageIndex, imageManifest } from '../../core/image/oci.ts';
import type { Descriptor } from '../../core/image/oci.ts';
import { formatPlatform, platformOfDebianArch } from '../../core/image/platform.ts';
import type { OciPlatform } from '../../core/image/platform.ts';
import { parseSourceDateEpoch, parseXattrDump } from '../../core/image/layer-rules.ts';
import type { XattrMap } from '../../core/image/layer-rules.ts';
import { readMarker } from '../create/target.ts';
import { detectRootArch } from '../fs/root-arch.ts';
import { resolveHostPathInRoot } from '../fs/root-fs.ts';
import { runProcess } from '../process/process.ts';
import { BufferedSink, copyFile, encodeHeader, writeLayer } from './layer-writer.ts';
import type { LayerStats } from './layer-writer.ts';

export type ImageFormat = 'oci' | 'docker';

export interface ExportOptions {
  readonly roots: readonly string[];
  readonly output: string;
  readonly format?: ImageFormat | undefined;
  readonly tag?: string | undefined;
  /** SOURCE_DATE_EPOCH (default: the environment's). */
  readonly sourceDateEpoch?: string | undefined;
  readonly onProgress?: ((event: ExportProgress) => void) | undefined;
}

export interface ExportProgress {
  readonly stage: 'layer' | 'archive';
  readonly debianArch: string;
  readonly entries: number;
  readonly bytes: number;
}

export interface ExportedImage {
  readonly root: string;
  readonly debianArch: string;
  readonly platform: string;
  readonly manifest: string;
  readonly config: string;
  readonly layer: string;
  readonly diffId: string;
  readonly layerSize: number;
  readonly entries: number;
  readonly skipped: number;
}

export interface ExportResult {
  readonly output: string;
  readonly format: ImageFormat;
  readonly tag: string;
  readonly index: string | null;
  readonly size: number;
  readonly seconds: number;
  readonly images: readonly ExportedImage[];
}

interface Blob {
  readonly digest: string;
  readonly size: number;
  readonly bytes?: Uint8Array;
  readonly file?: string;
}

function jsonBlob(text: string): Blob {
  const bytes = new TextEncoder().encode(text);
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length, bytes };
}

/** Extended attributes of every file of the root, in one getfattr walk (node has no xattr calls). */
async function readXattrs(root: string): Promise<XattrMap> {
  const result = await runProcess(['getfattr', '--absolute-names', '-R', '-P', '-h', '-d', '-m', '-', '-e', 'base64', '--', root]);
  if (result.exitCode === null || (result.exitCode !== 0 && result.stdout === '' && /not found|ENOENT/i.test(result.stderr))) {
    throw new CrossrootError('SPAWN', "export: 'getfattr' cannot be run", { hint: 'install the attr package (apt-get install attr)' });
  }
  return parseXattrDump(result.stdout, root);
}

/** The root user's login shell inside the root, or /bin/sh. */
function rootShell(root: string): string {
  try {
    const passwd = readFileSync(resolveHostPathInRoot(root, '/etc/passwd').hostPath, 'utf8');
    const shell = /^root:[^:]*:0:[^:]*:[^:]*:[^:]*:(\/[^:\n]+)$/m.exec(passwd)?.[1];
    if (shell !== undefined && existsSync(resolveHostPathInRoot(root, shell).hostPath)) return shell;
  } catch { /* no passwd: the default */ }
  return '/bin/sh';
}

function platformOfRoot(root: string): { debianArch: string; platform: OciPlatform } {
  const found = detectRootArch(root);
  if (found === null || found.debianArch === null) {
    throw new CrossrootError('NOT_A_ROOT', `export '${root}': it holds no ELF program of a Debian port`, { hint: 'export a root made by crossroot create (or any Debian root filesystem)' });
  }
  const platform = platformOfDebianArch(found.debianArch);
  if (platform === null) throw new CrossrootError('UNKNOWN_ARCH', `export '${root}': OCI has no platform name for '${found.debianArch}'`);
  return { debianArch: found.debianArch, platform };
}

interface BuiltImage {
  readonly summary: ExportedImage;
  readonly platform: OciPlatform;
  readonly blobs: readonly Blob[];
  readonly manifest: Blob;
  readonly configPath: string;
  readonly layerPath: string;
}

async function buildImage(root: string, index: number, temp: string, options: ExportOptions, format: ImageFormat, clamp: number | null): Promise<BuiltImage> {
  const { debianArch, platform } = platformOfRoot(root);
  const layerFile = join(temp, `layer-${index}`);
  const xattrs = await readXattrs(root);
  const layer: LayerStats = await writeLayer({
    root, output: layerFile, gzip: format === 'oci', clamp, xattrs,
    onProgress: (entries, bytes) => options.onProgress?.({ stage: 'layer', debianArch, entries, bytes }),
  });
  const created = new Date((clamp ?? layer.newestMtime) * 1000).toISOString().replace('.000Z', 'Z');
  const marker = readMarker(root);
  const labels: Record<string, string> = { 'dev.crossroot.debian-arch': debianArch };
  if (marker !== null) {
    labels['dev.crossroot.suite'] = marker.suite;
    labels['dev.crossroot.variant'] = marker.variant;
    labels['org.opencontainers.image.description'] = `Debian ${marker.suite} ${debianArch} root filesystem (${marker.variant})`;
  }
  const config = jsonBlob(imageConfig({
    platform, created, diffId: layer.diffId, shell: rootShell(root), labels,
    createdBy: `crossroot export (${formatPlatform(platform)} root of ${basename(root)})`,
  }));
  const layerBlob: Blob = { digest: layer.digest, size: layer.size, file: layerFile };
  const manifest = jsonBlob(imageManifest(
    { mediaType: MEDIA.config, digest: config.digest, size: config.size },
    [{ mediaType: format === 'oci' ? MEDIA.layerGzip : MEDIA.layerTar, digest: layer.digest, size: layer.size }],
  ));
  return {
    platform, manifest, configPath: blobPath(config.digest), layerPath: blobPath(layer.digest),
    blobs: format === 'oci' ? [config, layerBlob, manifest] : [config, layerBlob],
    summary: {
      root, debianArch, platform: formatPlatform(platform), manifest: manifest.digest, config: config.digest,
      layer: layer.digest, diffId: layer.diffId, layerSize: layer.size, entries: layer.entries, skipped: layer.skipped,
    },
  };
}

interface ArchiveMember {
  readonly path: string;
  readonly blob: Blob | null;
}

/** The outer archive: plain tar, fixed modes and times, members in the given order. */
async function writeArchive(output: string, members: readonly ArchiveMember[], mtime: number, onBytes: (bytes: number) => void): Promise<number> {
  const through = new PassThrough();
  const written = pipeline(through, createWriteStream(output, { mode: 0o644 }));
  const sink = new BufferedSink(through, createHash('sha256'));
  let total = 0;
  for (const { path, blob } of members) {
    const stat = { mode: blob === null ? 0o755 : 0o644, uid: 0, gid: 0 };
    await sink.write(encodeHeader({ path, type: blob === null ? 'Directory' : 'File', stat, mtime, size: blob?.size ?? 0, linkpath: '', xattrs: undefined }));
    if (blob?.bytes !== undefined) {
      await sink.write(blob.bytes);
      await sink.write(new Uint8Array((512 - (blob.size % 512)) % 512));
    } else if (blob?.file !== undefined) {
      await copyFile(sink, blob.file, blob.size);
    }
    total += blob?.size ?? 0;
    onBytes(total);
  }
  await sink.write(new Uint8Array(1024));
  await sink.flush();
  through.end();
  await written;
  return statSync(output).size;
}

function blobMembers(blobs: readonly Blob[]): ArchiveMember[] {
  const unique = new Map(blobs.map((blob) => [blob.digest, blob]));
  const sorted = [...unique.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1));
  return [{ path: 'blobs/', blob: null }, { path: 'blobs/sha256/', blob: null }, ...sorted.map((blob) => ({ path: blobPath(blob.digest), blob }))];
}

function defaultTag(images: readonly BuiltImage[]): string {
  return images.length === 1 ? `crossroot-${images[0]?.summary.debianArch ?? 'root'}:latest` : 'crossroot:latest';
}

function archiveMembers(images: readonly BuiltImage[], format: ImageFormat, tag: string): { members: ArchiveMember[]; index: string | null } {
  if (format === 'docker') {
    const manifest = jsonBlob(dockerManifest(images.map((image) => ({ config: image.configPath, layers: [image.layerPath], tags: [tag] }))));
    return { members: [{ path: 'manifest.json', blob: manifest }, ...blobMembers(images.flatMap((image) => image.blobs))], index: null };
  }
  const names = { [REF_NAME]: tag, 'io.containerd.image.name': tag };
  const platformed: Descriptor[] = images.map((image) => ({ mediaType: MEDIA.manifest, digest: image.manifest.digest, size: image.manifest.size, platform: image.platform }));
  const blobs = images.flatMap((image) => image.blobs);
  let top: Descriptor;
  let index: string | null = null;
  const only = platformed[0];
  if (platformed.length === 1 && only !== undefined) {
    top = { ...only, annotations: names };
  } else {
    const nested = jsonBlob(imageIndex(platformed));
    blobs.push(nested);
    index = nested.digest;
    top = { mediaType: MEDIA.index, digest: nested.digest, size: nested.size, annotations: names };
  }
  return {
    members: [
      { path: 'oci-layout', blob: jsonBlob(OCI_LAYOUT) },
      { path: 'index.json', blob: jsonBlob(imageIndex([top])) },
      ...blobMembers(blobs),
    ],
    index,
  };
}

/** A file the walk could not read (EACCES in a rootless root, a file removed meanwhile) as a one-line error. */
function asIoError(error: unknown): unknown {
  const { code, path } = error as NodeJS.ErrnoException;
  if (typeof code !== 'string' || typeof path !== 'string') return error;
  return new CrossrootError('IO', `export: cannot read '${path}': ${code}`, {
    hint: code === 'EACCES' ? 'export as the user that owns the root (root for a root made as root)' : 'the root changed while it was exported; try again',
  });
}

export async function exportImage(options: ExportOptions): Promise<ExportResult> {
  const started = performance.now();
  const format = options.format ?? 'oci';
  const output = resolve(options.output);
  if (options.roots.length === 0) throw new UsageError('export: no root given');
  if (format === 'docker' && options.roots.length > 1) {
    throw new UsageError('export: a docker archive holds one platform per tag', { hint: 'use --format oci for a multi-platform image index' });
  }
  let clamp: number | null;
  try {
    clamp = parseSourceDateEpoch(options.sourceDateEpoch ?? process.env['SOURCE_DATE_EPOCH']);
  } catch (error) {
    throw new UsageError(`export: ${(error as Error).message}`);
  }
  mkdirSync(dirname(output), { recursive: true });
  const temp = `${output}.crossroot-tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(temp, { mode: 0o700 });
  const partial = join(temp, 'archive');
  try {
    const images: BuiltImage[] = [];
    for (const [index, root] of options.roots.entries()) images.push(await buildImage(resolve(root), index, temp, options, format, clamp));
    const tag = options.tag ?? defaultTag(images);
    const { members, index } = archiveMembers(images, format, tag);
    const mtime = clamp ?? 0;
    const debianArch = images.map((image) => image.summary.debianArch).join(',');
    const size = await writeArchive(partial, members, mtime, (bytes) => options.onProgress?.({ stage: 'archive', debianArch, entries: 0, bytes }));
    renameSync(partial, output);
    return { output, format, tag, index, size, seconds: (performance.now() - started) / 1000, images: images.map((image) => image.summary) };
  } catch (error) {
    throw asIoError(error);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
