// The JSON documents of an OCI image layout and of a `docker save` archive:
// built here as data (key order fixed, so the bytes and their digests are
// stable) and checked here when read back from an untrusted image.
import { CrossrootError, UsageError } from '../errors.ts';
import type { OciPlatform } from './platform.ts';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerTar: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

export const OCI_LAYOUT = '{"imageLayoutVersion":"1.0.0"}';
export const REF_NAME = 'org.opencontainers.image.ref.name';

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: OciPlatform | undefined;
  readonly annotations?: Readonly<Record<string, string>> | undefined;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST.test(value);
}

/** blobs/sha256/HEX of a digest already checked by isDigest. */
export function blobPath(digest: string): string {
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}

export interface ImageConfigInput {
  readonly platform: OciPlatform;
  /** ISO 8601, the clamp time: the same for the same root. */
  readonly created: string;
  readonly diffId: string;
  readonly shell: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly createdBy: string;
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The image config (what `docker inspect` shows) of a one-layer root image. */
export function imageConfig(input: ImageConfigInput): string {
  const { platform } = input;
  return JSON.stringify({
    created: input.created,
    architecture: platform.architecture,
    ...(platform.variant === undefined ? {} : { variant: platform.variant }),
    os: platform.os,
    config: { Env: [`PATH=${DEFAULT_PATH}`], Cmd: [input.shell], Labels: sortedRecord(input.labels) },
    rootfs: { type: 'layers', diff_ids: [input.diffId] },
    history: [{ created: input.created, created_by: input.createdBy, comment: 'a root filesystem exported by crossroot' }],
  });
}

function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function descriptorJson(descriptor: Descriptor): Record<string, unknown> {
  return {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(descriptor.platform === undefined ? {} : { platform: descriptor.platform }),
    ...(descriptor.annotations === undefined ? {} : { annotations: sortedRecord(descriptor.annotations) }),
  };
}

export function imageManifest(config: Descriptor, layers: readonly Descriptor[]): string {
  return JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.manifest, config: descriptorJson(config), layers: layers.map(descriptorJson) });
}

export function imageIndex(manifests: readonly Descriptor[]): string {
  return JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.index, manifests: manifests.map(descriptorJson) });
}

/** manifest.json of `docker save`: paths inside the archive, and the tags. */
export function dockerManifest(images: readonly { config: string; layers: readonly string[]; tags: readonly string[] }[]): string {
  return JSON.stringify(images.map((image) => ({ Config: image.config, RepoTags: image.tags, Layers: image.layers })));
}

/** NAME:TAG as given, checked against the reference grammar's common subset. */
export function checkTag(tag: string): string {
  if (!/^[a-z0-9]+(?:[._/-][a-z0-9]+|__|-+[a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) {
    throw new UsageError(`parse option '--tag': '${tag}' is not NAME:TAG`, { hint: "lower-case name, then ':' and a tag, e.g. 'myroot:arm64'" });
  }
  return tag;
}

// --- reading untrusted documents ------------------------------------------

function invalid(what: string, why: string): CrossrootError {
  return new CrossrootError('IMAGE_INVALID', `read image ${what}: ${why}`, { hint: 'the image is damaged or not an OCI/docker image; nothing was kept' });
}

function parseJson(what: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return invalid(what, 'it is not JSON');
  }
}

function asObject(what: string, value: unknown): Record<string, unknown> {
  if (value instanceof CrossrootError) throw value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(what, 'it is not a JSON object');
  return value as Record<string, unknown>;
}

function readPlatform(value: unknown): OciPlatform | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { architecture, os, variant } = value as Record<string, unknown>;
  if (typeof architecture !== 'string' || typeof os !== 'string') return undefined;
  return { os, architecture, ...(typeof variant === 'string' && variant !== '' ? { variant } : {}) };
}

export function readDescriptor(what: string, value: unknown): Descriptor {
  const object = asObject(what, value);
  const { mediaType, digest, size, annotations } = object;
  if (!isDigest(digest)) throw invalid(what, `the digest '${String(digest)}' is not sha256:<64 hex digits>`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(what, `the size '${String(size)}' is not a byte count`);
  const platform = readPlatform(object['platform']);
  const notes = typeof annotations === 'object' && annotations !== null ? annotations as Record<string, string> : undefined;
  return { mediaType: typeof mediaType === 'string' ? mediaType : '', digest, size, platform, annotations: notes };
}

/** The manifests (or nested indexes) an index lists. */
export function readIndex(what: string, text: string): Descriptor[] {
  const manifests = asObject(what, parseJson(what, text))['manifests'];
  if (!Array.isArray(manifests)) throw invalid(what, "it has no 'manifests' list");
  return manifests.map((entry, i) => readDescriptor(`${what} entry ${i}`, entry));
}

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MEDIA.index || mediaType === MEDIA.dockerList;
}

export interface ParsedManifest {
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

export function readManifest(what: string, text: string): ParsedManifest {
  const object = asObject(what, parseJson(what, text));
  const layers = object['layers'];
  if (!Array.isArray(layers)) throw invalid(what, "it has no 'layers' list");
  return { config: readDescriptor(`${what} config`, object['config']), layers: layers.map((layer, i) => readDescriptor(`${what} layer ${i}`, layer)) };
}

export interface ParsedConfig {
  readonly architecture: string;
  readonly variant: string | undefined;
  readonly os: string;
  readonly diffIds: readonly string[];
}

export function readConfig(what: string, text: string): ParsedConfig {
  const object = asObject(what, parseJson(what, text));
  const rootfs = asObject(`${what} rootfs`, object['rootfs']);
  const diffIds = rootfs['diff_ids'];
  if (!Array.isArray(diffIds) || !diffIds.every(isDigest)) throw invalid(what, 'its rootfs.diff_ids are not a list of sha256 digests');
  const { architecture, variant, os } = object;
  if (typeof architecture !== 'string' || typeof os !== 'string') throw invalid(what, "it has no 'architecture' and 'os'");
  return { architecture, variant: typeof variant === 'string' && variant !== '' ? variant : undefined, os, diffIds };
}

export interface DockerImage {
  readonly config: string;
  readonly layers: readonly string[];
  readonly tags: readonly string[];
}

/** Paths inside a docker archive: relative, no '..', no empty parts. */
function archivePath(what: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.startsWith('/') || value.split('/').some((part) => part === '..' || part === '')) {
    throw invalid(what, `the path '${String(value)}' is not a plain relative path`);
  }
  return value;
}

export function readDockerManifest(text: string): DockerImage[] {
  const what = 'manifest.json';
  const value = parseJson(what, text);
  if (value instanceof CrossrootError) throw value;
  if (!Array.isArray(value) || value.length === 0) throw invalid(what, 'it is not a non-empty list');
  return value.map((entry, i) => {
    const object = asObject(`${what} entry ${i}`, entry);
    const layers = object['Layers'];
    if (!Array.isArray(layers)) throw invalid(what, `entry ${i} has no 'Layers' list`);
    const tags = Array.isArray(object['RepoTags']) ? object['RepoTags'].filter((tag): tag is string => typeof tag === 'string') : [];
    return { config: archivePath(what, object['Config']), layers: layers.map((layer) => archivePath(what, layer)), tags };
  });
}
