// A root filesystem tarball unpacked into a directory, no entry ever written
// outside it (unsafeEntryReason: absolute or `..` paths, links out of the
// tree; node-tar resolves every entry under the destination): the part that
// `create --from-tar` (tar-import.ts) and `create --from-image`'s layers
// (runner/image/import.ts) share.
import { createReadStream } from 'node:fs';
import { readFileHead } from '../fs/file-head.ts';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { CrossrootError } from '../../core/errors.ts';
import { checkResult, runProcess } from '../process/process.ts';
import { isRoot } from './build-namespace.ts';

type Compression = 'gzip' | 'xz' | 'zstd' | 'bzip2' | 'none';

function sniffCompression(file: string): Compression {
  const head = readFileHead(file, 6);
  const starts = (...bytes: number[]): boolean => bytes.every((byte, i) => head[i] === byte);
  if (starts(0x1f, 0x8b)) return 'gzip';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
  return 'none';
}

/** Why an archive entry would escape the target, or null when it stays inside. */
export function unsafeEntryReason(path: string, type: string, linkpath: string | undefined): string | null {
  const parts = path.split('/');
  if (path.startsWith('/')) return `entry '${path}' has an absolute path`;
  if (parts.includes('..')) return `entry '${path}' climbs out with '..'`;
  if (type === 'Link' && linkpath !== undefined) {
    if (linkpath.startsWith('/')) return `hard link '${path}' points at the absolute path '${linkpath}'`;
    if (linkpath.split('/').includes('..')) return `hard link '${path}' points out with '..' ('${linkpath}')`;
  }
  return null;
}

/** Extracts a rootfs tarball into `dest` (must be a fresh directory); throws UNSAFE_ARCHIVE on an escaping entry. */
export async function extractRootTarball(file: string, dest: string, options: { readonly skip?: (path: string, type: string) => boolean } = {}): Promise<void> {
  const compression = sniffCompression(file);
  const problems: string[] = [];
  const extractor = tar.x({
    cwd: dest,
    preservePaths: false, // strips '/', refuses '..', refuses to write through symlinks
    strict: false,
    chmod: true,
    processUmask: 0,
    umask: 0,
    preserveOwner: isRoot(),
    filter: (path, entry) => {
      const header = entry as { type?: string; linkpath?: string };
      const reason = unsafeEntryReason(path, header.type ?? '', header.linkpath);
      if (reason !== null) problems.push(reason);
      return reason === null && options.skip?.(path, header.type ?? '') !== true;
    },
    onwarn: (code, message) => {
      if (code === 'TAR_ENTRY_ERROR' || code === 'TAR_SYMLINK_ERROR' || /symbolic link|escape/.test(String(message))) problems.push(String(message));
    },
  });
  if (compression === 'gzip' || compression === 'none') {
    await pipeline(createReadStream(file), extractor).catch((error: unknown) => { throw notAnArchive(file, error); });
  } else {
    const argv = { xz: ['xz', '-dc', '--', file], zstd: ['zstd', '-dcq', '--', file], bzip2: ['bzip2', '-dc', '--', file] }[compression];
    const through = new PassThrough();
    const extracted = pipeline(through, extractor).catch((error: unknown) => { throw notAnArchive(file, error); });
    const result = await runProcess(argv, { stdoutSink: through });
    await extracted;
    checkResult(result, { code: 'CREATE_FAILED', action: `import '${file}'` });
  }
  if (problems.length > 0) {
    throw new CrossrootError('UNSAFE_ARCHIVE', `import '${file}': ${problems[0] ?? ''}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, {
      hint: 'the archive tries to write outside the root; nothing was kept',
    });
  }
}

/** node-tar's "this is no tar" as crossroot's error; anything else unchanged. */
function notAnArchive(file: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'TAR_BAD_ARCHIVE' && code !== 'TAR_ABORT' && code !== 'Z_DATA_ERROR') return error;
  return new CrossrootError('NOT_AN_ARCHIVE', `import '${file}': not a tar archive`, {
    hint: 'give --from-tar a root filesystem tarball (.tar, .tar.gz, .tar.xz, .tar.zst)',
  });
}
