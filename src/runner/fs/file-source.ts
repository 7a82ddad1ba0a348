// File-backed byte sources for the core's readers. Synchronous on purpose:
// parseElf does a handful of small reads per file, and sync reads through a
// small page cache are far cheaper than promises for that pattern.
import { closeSync, fstatSync, openSync, readSync, statSync, constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { pagedSource, type ByteSource } from '../../core/bytes/byte-reader.ts';
import { CrossrootError, ioFailureMessage } from '../../core/errors.ts';

const PAGE_SIZE = 4096;
const MAX_CACHED_PAGES = 16;

export type FileSource = ByteSource & { readonly path: string; close(): void };

function ioError(action: string, path: string, error: unknown): CrossrootError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new CrossrootError('NOT_FOUND', ioFailureMessage(action, path, 'ENOENT'), { cause: error });
  }
  return new CrossrootError('IO', ioFailureMessage(action, path, code ?? String(error)), { cause: error });
}

function requireRegular(stats: Stats, path: string): void {
  if (!stats.isFile()) {
    throw new CrossrootError('NOT_A_FILE', `open '${path}': not a regular file`, {
      hint: 'give the path of a regular file (directories, devices and FIFOs are not read)',
    });
  }
}

/** Opens a regular file (symlinks followed) without blocking on FIFOs or devices. */
function openRegular(path: string): { fd: number; size: number } {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    throw ioError('open', path, error);
  }
  requireRegular(stats, path);
  let fd: number;
  try {
    // O_NONBLOCK: if the path was swapped for a FIFO after the stat, open must not hang.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    throw ioError('open', path, error);
  }
  try {
    const opened = fstatSync(fd);
    requireRegular(opened, path);
    return { fd, size: opened.size };
  } catch (error) {
    closeSync(fd);
    throw error instanceof CrossrootError ? error : ioError('open', path, error);
  }
}

function readAt(fd: number, path: string, position: number, length: number): Uint8Array {
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    let got: number;
    try {
      got = readSync(fd, buffer, filled, length - filled, position + filled);
    } catch (error) {
      throw ioError('read', path, error);
    }
    if (got === 0) break; // the file shrank since it was opened
    filled += got;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

/**
 * A ByteSource over an fd the caller keeps open (and closes): reads go
 * through a small cache of 4 KiB pages; reads larger than two pages go
 * straight to the file. `path` names the file in errors.
 */
export function fdSource(fd: number, size: number, path: string): ByteSource & { dropCache(): void } {
  const pages = new Map<number, Uint8Array>();
  const page = (index: number): Uint8Array => {
    const cached = pages.get(index);
    if (cached !== undefined) return cached;
    const bytes = readAt(fd, path, index * PAGE_SIZE, Math.min(PAGE_SIZE, size - index * PAGE_SIZE));
    if (pages.size >= MAX_CACHED_PAGES) {
      const oldest = pages.keys().next();
      if (oldest.done !== true) pages.delete(oldest.value);
    }
    pages.set(index, bytes);
    return bytes;
  };
  const paged = pagedSource(size, PAGE_SIZE, page, { above: 2 * PAGE_SIZE, read: (offset, length) => readAt(fd, path, offset, length) });
  return { size, read: (offset, length) => paged.read(offset, length), dropCache: () => pages.clear() };
}

/** A ByteSource over a regular file (see fdSource). Call close(). */
export function openFileSource(path: string): FileSource {
  const { fd, size } = openRegular(path);
  const paged = fdSource(fd, size, path);
  let closed = false;
  return {
    path,
    size,
    read(offset: number, length: number): Uint8Array {
      if (closed) throw new CrossrootError('IO', `read '${path}': the file is closed`);
      return paged.read(offset, length);
    },
    close(): void {
      if (closed) return;
      closed = true;
      paged.dropCache();
      closeSync(fd);
    },
  };
}

/** The first `n` bytes of a regular file (fewer when it is shorter). */
export function readHead(path: string, n: number): Uint8Array {
  const { fd, size } = openRegular(path);
  try {
    return readAt(fd, path, 0, Math.max(0, Math.min(n, size)));
  } finally {
    closeSync(fd);
  }
}

/** Runs `use` with an open file source and closes it afterwards. */
export function withFileSource<T>(path: string, use: (source: FileSource) => T): T {
  const source = openFileSource(path);
  try {
    return use(source);
  } finally {
    source.close();
  }
}
