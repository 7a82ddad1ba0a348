// Applies an OCI image (layout directory or tar) or a `docker save` archive
// onto a fresh directory, as `crossroot create DIR --from-image FILE` does.
// Every blob is checked against its digest before it is used; each layer's
// diffID before anything of it is written. Per layer: its whiteouts are
// applied to what the lower layers left (never through a symbolic link), then
// it is extracted with the hostile-tarball protections of --from-tar
// (extractRootTarball), then its xattrs are set (never through a link).
import { chmodSync, createReadStream, existsSync, lchownSync, lstatSync, lutimesSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import * as tar from 'tar';
import { CrossrootError, UsageError } from '../../core/errors.ts';
import { blobPath, isIndexMediaType, readConfig, readDockerManifest, readIndex, readManifest } from '../../core/image/oci.ts';
import type { Descriptor, ParsedConfig } from '../../core/image/oci.ts';
import { formatPlatform, platformMatches } from '../../core/image/platform.ts';
import { formatXattrDump, normalizeEntryPath } from '../../core/image/layer-rules.ts';
import type { Whiteout } from '../../core/image/layer-rules.ts';
import { extractRootTarball } from '../create/root-tarball.ts';
import { runProcess } from '../process/process.ts';
import { scanLayer } from './layer-scan.ts';
import type { LayerScan } from './layer-scan.ts';

export interface ApplyImageOptions {
  /** Debian port to choose from an index (required when it lists several platforms). */
  readonly debianArch?: string | undefined;
  readonly onStage?: ((stage: string) => void) | undefined;
}

export interface AppliedImage {
  readonly architecture: string;
  readonly variant: string | undefined;
  readonly layers: number;
  readonly config: string;
  readonly warnings: readonly string[];
}

function invalid(message: string): CrossrootError {
  return new CrossrootError('IMAGE_INVALID', message, { hint: 'the image is damaged or was tampered with; nothing was kept' });
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** A regular file inside `dir` reached without any symbolic link, or an error. */
function plainFile(dir: string, relative: string): string {
  let path = dir;
  for (const part of relative.split('/')) {
    path = join(path, part);
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      throw invalid(`read image: '${relative}' is missing`);
    }
    if (stat.isSymbolicLink()) throw invalid(`read image: '${relative}' is reached through a symbolic link`);
  }
  if (!statSync(path).isFile()) throw invalid(`read image: '${relative}' is not a file`);
  return path;
}

/** A blob of the layout, checked against its descriptor's digest and size. */
async function verifiedBlob(layout: string, descriptor: Descriptor): Promise<string> {
  const path = plainFile(layout, blobPath(descriptor.digest));
  const size = statSync(path).size;
  if (size !== descriptor.size) throw invalid(`verify blob '${descriptor.digest}': it has ${size} bytes, the manifest says ${descriptor.size}`);
  const actual = await sha256File(path);
  if (actual !== descriptor.digest) throw invalid(`verify blob '${descriptor.digest}': its content hashes to '${actual}'`);
  return path;
}

const ARCHIVE_MEMBER = /^(oci-layout|index\.json|manifest\.json|repositories|blobs|blobs\/[a-z0-9]+|blobs\/[a-z0-9]+\/[0-9a-f]{64}|[0-9a-f]{64}(\.json|\.tar)?|[0-9a-f]{64}\/(layer\.tar|json|VERSION))\/?$/;

/** Unpacks the image archive's known members (files and directories only) into `staging`. */
async function unpackArchive(file: string, staging: string): Promise<void> {
  mkdirSync(staging, { mode: 0o700 });
  const problems: string[] = [];
  await tar.x({
    file, cwd: staging, preservePaths: false, strict: false, preserveOwner: false,
    filter: (path, entry) => {
      const type = (entry as { type?: string }).type ?? '';
      return (type === 'File' || type === 'Directory') && ARCHIVE_MEMBER.test(path.replace(/^\.\//, ''));
    },
    onwarn: (code, message) => {
      if (code !== 'TAR_ENTRY_INFO') problems.push(String(message));
    },
  });
  if (problems.length > 0) throw invalid(`unpack image '${file}': ${problems[0] ?? ''}`);
}

interface Chosen {
  readonly config: ParsedConfig;
  readonly configDigest: string;
  readonly layers: readonly string[];
}

function wants(config: ParsedConfig, debianArch: string | undefined): boolean {
  return debianArch === undefined || platformMatches(config, debianArch);
}

function chooseOne<T>(candidates: readonly T[], describe: (candidate: T) => string, debianArch: string | undefined): T {
  const only = candidates[0];
  if (candidates.length === 1 && only !== undefined) return only;
  const listed = candidates.map(describe).join(', ');
  if (candidates.length === 0) {
    throw new CrossrootError('IMAGE_INVALID', `choose image: none of its platforms is '${debianArch ?? '?'}'`, { hint: `it holds: ${listed === '' ? 'nothing' : listed}` });
  }
  throw new UsageError(`choose image: it holds ${candidates.length} platforms (${listed})`, { hint: "pick one with '--arch', e.g. '--arch arm64'" });
}

/** The manifests an OCI layout offers (nested indexes followed), attestations left out. */
async function ociManifests(layout: string, descriptors: readonly Descriptor[], depth = 0): Promise<Descriptor[]> {
  if (depth > 4) throw invalid('read image index: indexes nest too deep');
  const found: Descriptor[] = [];
  for (const descriptor of descriptors) {
    if (descriptor.platform?.os === 'unknown') continue;
    if (isIndexMediaType(descriptor.mediaType)) {
      const text = readFileSync(await verifiedBlob(layout, descriptor), 'utf8');
      found.push(...await ociManifests(layout, readIndex(`index '${descriptor.digest}'`, text), depth + 1));
    } else {
      found.push(descriptor);
    }
  }
  return found;
}

async function chooseOci(layout: string, debianArch: string | undefined): Promise<Chosen> {
  const top = readIndex('index.json', readFileSync(plainFile(layout, 'index.json'), 'utf8'));
  const manifests = await ociManifests(layout, top);
  const fitting = manifests.filter((entry) => entry.platform === undefined || debianArch === undefined || platformMatches(entry.platform, debianArch));
  const descriptor = chooseOne(fitting.length > 0 ? fitting : manifests.filter(() => debianArch === undefined),
    (entry) => (entry.platform === undefined ? entry.digest.slice(0, 19) : formatPlatform(entry.platform)), debianArch);
  const manifest = readManifest(`manifest '${descriptor.digest}'`, readFileSync(await verifiedBlob(layout, descriptor), 'utf8'));
  const config = readConfig(`config '${manifest.config.digest}'`, readFileSync(await verifiedBlob(layout, manifest.config), 'utf8'));
  if (!wants(config, debianArch)) throw new CrossrootError('IMAGE_INVALID', `choose image: it is '${formatPlatform(config)}', not '${debianArch ?? ''}'`);
  const layers: string[] = [];
  for (const layer of manifest.layers) layers.push(await verifiedBlob(layout, layer));
  return { config, configDigest: manifest.config.digest, layers };
}

async function chooseDocker(dir: string, debianArch: string | undefined): Promise<Chosen> {
  const images = readDockerManifest(readFileSync(plainFile(dir, 'manifest.json'), 'utf8'));
  const read = await Promise.all(images.map(async (image) => {
    const path = plainFile(dir, image.config);
    const digest = await sha256File(path);
    const named = /([0-9a-f]{64})(\.json)?$/.exec(image.config)?.[1];
    if (named !== undefined && `sha256:${named}` !== digest) throw invalid(`verify config '${image.config}': its content hashes to '${digest}'`);
    return { image, digest, config: readConfig(`config '${image.config}'`, readFileSync(path, 'utf8')) };
  }));
  const chosen = chooseOne(read.filter((entry) => wants(entry.config, debianArch)),
    (entry) => `${formatPlatform(entry.config)} ${entry.image.tags.join(' ')}`.trim(), debianArch);
  return { config: chosen.config, configDigest: chosen.digest, layers: chosen.image.layers.map((layer) => plainFile(dir, layer)) };
}

/** The path inside `root` of a root-relative path whose parents are all real directories; null when absent. */
function insideWithoutLinks(root: string, relative: string, what: string): string | null {
  let path = root;
  const parts = relative.split('/').filter((part) => part !== '');
  for (const [i, part] of parts.entries()) {
    path = join(path, part);
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      return null;
    }
    if (i < parts.length - 1 && !stat.isDirectory()) {
      throw new CrossrootError('UNSAFE_ARCHIVE', `${what} '${relative}': it goes through '${parts.slice(0, i + 1).join('/')}', which is ${stat.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}`, {
        hint: 'the image tries to reach outside the root; nothing was kept',
      });
    }
  }
  return path;
}

function applyWhiteouts(root: string, whiteouts: readonly Whiteout[]): void {
  for (const whiteout of whiteouts) {
    if (whiteout.kind === 'remove') {
      const path = insideWithoutLinks(root, whiteout.target, 'apply whiteout');
      if (path !== null) rmSync(path, { recursive: true, force: true });
      continue;
    }
    const dir = whiteout.dir === '' ? root : insideWithoutLinks(root, `${whiteout.dir}/.`, 'apply opaque whiteout');
    if (dir === null) continue;
    const target = whiteout.dir === '' ? root : join(root, whiteout.dir);
    if (!lstatSync(target).isDirectory()) continue;
    for (const name of readdirSync(target)) rmSync(join(target, name), { recursive: true, force: true });
  }
}

/** Where a deferred entry goes: its parents made real directories (never links), what lower layers had there removed. */
function freshPlace(root: string, path: string, what: string): string {
  const parts = path.split('/');
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part);
    if (insideWithoutLinks(root, relative(root, dir), what) === null) mkdirSync(dir, { mode: 0o755 });
    else if (!lstatSync(dir).isDirectory()) throw new CrossrootError('UNSAFE_ARCHIVE', `${what} '${path}': '${relative(root, dir)}' is not a directory`, { hint: 'the image tries to reach outside the root; nothing was kept' });
  }
  const place = join(dir, parts.at(-1) ?? '');
  rmSync(place, { recursive: true, force: true });
  return place;
}

/** The layer's symbolic links and FIFOs, each replacing what lower layers had at its path. */
async function createDeferred(root: string, scan: LayerScan): Promise<void> {
  const owner = process.getuid?.() === 0;
  for (const link of scan.symlinks) {
    const path = freshPlace(root, link.path, 'create symbolic link');
    symlinkSync(link.target, path);
    if (owner) lchownSync(path, link.uid, link.gid);
    lutimesSync(path, link.mtime, link.mtime);
  }
  for (const fifo of scan.fifos) {
    const path = freshPlace(root, fifo.path, 'create FIFO');
    const made = await runProcess(['mkfifo', '-m', (fifo.mode & 0o7777).toString(8), '--', path]);
    if (made.exitCode !== 0) throw new CrossrootError('IO', `create FIFO '${fifo.path}': ${made.stderr.trim()}`);
    if (owner) lchownSync(path, fifo.uid, fifo.gid);
  }
}

function restoreModes(root: string, modes: ReadonlyMap<string, number>): void {
  for (const [relative, mode] of modes) {
    const path = insideWithoutLinks(root, relative, 'set the mode of');
    if (path !== null && !lstatSync(path).isSymbolicLink()) chmodSync(path, mode);
  }
}

async function applyXattrs(root: string, xattrs: ReadonlyMap<string, ReadonlyMap<string, Uint8Array>>, scratch: string): Promise<string | null> {
  const entries: { path: string; attrs: ReadonlyMap<string, Uint8Array> }[] = [];
  for (const [relative, attrs] of xattrs) {
    const path = insideWithoutLinks(root, relative, 'set extended attributes of');
    if (path !== null) entries.push({ path, attrs });
  }
  if (entries.length === 0) return null;
  const dump = `${scratch}.xattrs-${randomBytes(3).toString('hex')}`;
  writeFileSync(dump, formatXattrDump(entries), { mode: 0o600 });
  try {
    const result = await runProcess(['setfattr', '-h', `--restore=${dump}`]);
    if (result.exitCode === null) throw new CrossrootError('SPAWN', "import image: 'setfattr' cannot be run", { hint: 'install the attr package (apt-get install attr)' });
    return result.exitCode === 0 ? null : `some extended attributes could not be set: ${result.stderr.trim().split('\n')[0] ?? ''}`;
  } finally {
    rmSync(dump, { force: true });
  }
}

async function applyLayers(chosen: Chosen, dest: string, scratch: string, options: ApplyImageOptions): Promise<string[]> {
  if (chosen.config.diffIds.length !== chosen.layers.length) {
    throw invalid(`read image config: it lists ${chosen.config.diffIds.length} diff_ids for ${chosen.layers.length} layers`);
  }
  const warnings: string[] = [];
  for (const [i, layer] of chosen.layers.entries()) {
    options.onStage?.(`checking layer ${i + 1} of ${chosen.layers.length}`);
    const scan = await scanLayer(layer);
    if (scan.diffId !== chosen.config.diffIds[i]) throw invalid(`verify layer ${i + 1}: its content hashes to '${scan.diffId}', the config says '${chosen.config.diffIds[i] ?? ''}'`);
    if (scan.problems.length > 0) {
      throw new CrossrootError('UNSAFE_ARCHIVE', `import layer ${i + 1}: ${scan.problems[0] ?? ''}${scan.problems.length > 1 ? ` (and ${scan.problems.length - 1} more)` : ''}`, {
        hint: 'the image tries to write outside the root; nothing was kept',
      });
    }
    options.onStage?.(`applying layer ${i + 1} of ${chosen.layers.length}`);
    applyWhiteouts(dest, scan.whiteouts);
    await extractRootTarball(layer, dest, { skip: (path, type) => type === 'SymbolicLink' || type === 'FIFO' || scan.whiteoutPaths.has(normalizeEntryPath(path)) });
    await createDeferred(dest, scan);
    restoreModes(dest, scan.modes);
    const warning = await applyXattrs(dest, scan.xattrs, scratch);
    if (warning !== null) warnings.push(warning);
  }
  return warnings;
}

/** What to tell the user when the image's stated platform is not that of its ELF files (they win). */
export function imagePlatformWarnings(applied: AppliedImage, debianArch: string): string[] {
  if (platformMatches(applied, debianArch)) return [];
  return [`the image says it is '${formatPlatform(applied)}' but its ELF files are '${debianArch}': the root is recorded as '${debianArch}'`];
}

/** Applies the image at `source` (file or OCI layout directory) onto the fresh directory `dest`. */
export async function applyImage(source: string, dest: string, options: ApplyImageOptions = {}): Promise<AppliedImage> {
  if (!existsSync(source)) throw new CrossrootError('NOT_FOUND', `import image '${source}': no such file or directory`);
  const isDir = statSync(source).isDirectory();
  const staging = `${dest}.image`;
  try {
    if (!isDir) {
      options.onStage?.('unpacking the image archive');
      await unpackArchive(source, staging);
    }
    const layout = isDir ? source : staging;
    options.onStage?.('verifying digests');
    let chosen: Chosen;
    if (existsSync(join(layout, 'index.json'))) chosen = await chooseOci(layout, options.debianArch);
    else if (existsSync(join(layout, 'manifest.json'))) chosen = await chooseDocker(layout, options.debianArch);
    else throw invalid(`read image '${source}': it has neither index.json (OCI) nor manifest.json (docker)`);
    const warnings = await applyLayers(chosen, dest, staging, options);
    return { architecture: chosen.config.architecture, variant: chosen.config.variant, layers: chosen.layers.length, config: chosen.configDigest, warnings };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
