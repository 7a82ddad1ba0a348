// `crossroot scan`: an inventory of the ELF files under directory trees.
//
// Built for speed, in the spirit of scanelf: synchronous I/O, and per entry
// the fewest system calls that can answer. Directories are listed with their
// d_type (readdir withFileTypes: no stat per entry) and cost nothing more:
// mount points come from /proc/self/mountinfo, and only a mount point is
// checked with statfs, so that proc-like pseudo filesystems (proc, sysfs,
// debugfs, ...) are not entered. Symlinks are never followed; only regular
// files are opened (O_NOFOLLOW | O_NONBLOCK, so a file swapped for a link or
// FIFO between readdir and open can neither redirect nor hang the scan). A
// non-ELF file costs open + one 4 KiB read + close; an ELF file adds fstat and
// usually one more read (its dynamic section), and only what scan prints is
// parsed (summarizeElf: no notes, no dynamic strings).
import { closeSync, constants, fstatSync, openSync, readSync, readdirSync, realpathSync, statSync, statfsSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { archOfElf, debianArchOf } from '../../core/arch/arch.ts';
import type { ArchName } from '../../core/arch/arch.ts';
import { looksLikeElf, summarizeElf } from '../../core/elf/elf.ts';
import type { ByteSource, ElfType } from '../../core/elf/elf.ts';
import { pagedSource } from '../../core/bytes/byte-reader.ts';
import { isCrossrootError, ioFailureMessage } from '../../core/errors.ts';
import { mountInfoPoints } from '../host/mounts.ts';

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW | constants.O_NOCTTY;

/** statfs f_type of filesystems whose files are not files (linux/magic.h). */
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0xcafe4a11, 'bpf'],
  [0x42494e4d, 'binfmt_misc'],
  [0x6e736673, 'nsfs'],
  [0xf97cff8c, 'selinuxfs'],
  [0x50494446, 'pidfs'],
  [0x1cd1, 'devpts'],
  [0x67596969, 'rpc_pipefs'],
  [0x19800202, 'mqueue'],
  [0x65735546, 'fusectl'],
  [0x73717368, 'configfs'],
  [0xde5e81e4, 'efivarfs'],
  [0x6165676c, 'pstore'],
]);

export interface ScanFileRecord {
  readonly path: string;
  /** Canonical catalog name, or null when no QEMU target runs the file. */
  readonly arch: ArchName | null;
  readonly debianArch: string | null;
  readonly class: 32 | 64 | null;
  readonly endian: 'little' | 'big' | null;
  readonly machine: number | null;
  readonly type: ElfType | null;
  readonly static: boolean | null;
  readonly interpreter: string | null;
  /** Set when the file starts with the ELF magic but its header cannot be read. */
  readonly error?: { readonly code: string; readonly message: string };
}

export interface ScanProblem {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

export interface ScanResult {
  readonly roots: readonly string[];
  readonly total: {
    /** Regular files looked at. */
    readonly files: number;
    readonly elf: number;
    readonly directories: number;
    /** Files and directories that could not be read (listed in `errors`). */
    readonly unreadable: number;
    /** Directories not entered because they are on a pseudo filesystem (listed in `skipped`). */
    readonly skippedDirectories: number;
  };
  /** ELF files per canonical architecture; `unknown` for ELF files no catalog entry names. */
  readonly byArch: Readonly<Record<string, number>>;
  readonly byDebianArch: Readonly<Record<string, number>>;
  readonly files: readonly ScanFileRecord[];
  readonly errors: readonly ScanProblem[];
  readonly skipped: readonly { readonly path: string; readonly filesystem: string }[];
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? 'EIO';
}

const PAGE_SIZE = 4096;
/** Pages one file may hold in reused buffers; a file that needs more gets fresh ones. */
const POOLED_PAGES = 8;

/**
 * 4 KiB page buffers reused from file to file (no garbage per file). A file's
 * pages are valid until the next file starts: the summary keeps no bytes.
 */
class PagePool {
  private readonly buffers: Uint8Array[] = [];
  private used = 0;

  /** The first page of the next file (the buffer the probe read goes into). */
  first(): Uint8Array {
    this.used = 0;
    return this.take();
  }

  take(): Uint8Array {
    if (this.used >= POOLED_PAGES) return new Uint8Array(PAGE_SIZE);
    let buffer = this.buffers[this.used];
    if (buffer === undefined) {
      buffer = new Uint8Array(PAGE_SIZE);
      this.buffers.push(buffer);
    }
    this.used++;
    return buffer;
  }
}

/**
 * A ByteSource over an open descriptor through 4 KiB pages, page 0 already
 * read: the ELF header, program headers and PT_INTERP share it, so a typical
 * ELF file costs one more read (its dynamic section) in all.
 */
function fdSource(fd: number, size: number, firstPage: Uint8Array, pool: PagePool): ByteSource {
  const pages = new Map<number, Uint8Array>([[0, firstPage]]);
  const page = (index: number): Uint8Array => {
    let bytes = pages.get(index);
    if (bytes === undefined) {
      const length = Math.min(PAGE_SIZE, size - index * PAGE_SIZE);
      bytes = pool.take();
      let filled = 0;
      while (filled < length) {
        const got = readSync(fd, bytes, filled, length - filled, index * PAGE_SIZE + filled);
        if (got === 0) break;
        filled += got;
      }
      bytes = bytes.subarray(0, filled);
      pages.set(index, bytes);
    }
    return bytes;
  };
  return pagedSource(size, PAGE_SIZE, page);
}

/** archOfElf and debianArchOf, memoized: a tree holds few distinct (class, endian, machine, flags). */
class ArchMemo {
  private readonly known = new Map<string, { arch: ArchName | null; debianArch: string | null }>();

  of(facts: { class: 32 | 64; endian: 'little' | 'big'; machine: number; flags: number }): { arch: ArchName | null; debianArch: string | null } {
    const key = `${facts.class}${facts.endian}${facts.machine}:${facts.flags}`;
    let names = this.known.get(key);
    if (names === undefined) {
      names = { arch: archOfElf(facts)?.name ?? null, debianArch: debianArchOf(facts) };
      this.known.set(key, names);
    }
    return names;
  }
}

class Scanner {
  readonly files: ScanFileRecord[] = [];
  readonly errors: ScanProblem[] = [];
  readonly skipped: { path: string; filesystem: string }[] = [];
  fileCount = 0;
  directoryCount = 0;
  private readonly pages = new PagePool();
  private readonly arches = new ArchMemo();

  /** Opens a file believed to be regular and records it when it is ELF. */
  examine(path: string): void {
    let fd: number;
    try {
      fd = openSync(path, OPEN_FLAGS);
    } catch (error) {
      const code = errnoOf(error);
      // ELOOP: replaced by a symlink since readdir; not a regular file any more.
      if (code !== 'ELOOP' && code !== 'ENOENT') this.problem(path, code, ioFailureMessage('open', path, code));
      return;
    }
    try {
      this.fileCount++;
      // One read serves both: the ELF magic test, and page 0 of an ELF file.
      const head = this.pages.first();
      let got: number;
      try {
        got = readSync(fd, head, 0, PAGE_SIZE, 0);
      } catch (error) {
        const code = errnoOf(error);
        // EISDIR/EAGAIN etc: not a regular file after all (swapped since readdir).
        this.problem(path, code, ioFailureMessage('read', path, code));
        return;
      }
      if (got < 4 || !looksLikeElf(head)) return;
      this.files.push(this.elfRecord(path, fd, head.subarray(0, got)));
    } finally {
      closeSync(fd);
    }
  }

  private elfRecord(path: string, fd: number, head: Uint8Array): ScanFileRecord {
    try {
      const { size } = fstatSync(fd);
      const firstPage = head.length > size ? head.subarray(0, size) : head;
      const elf = summarizeElf(fdSource(fd, size, firstPage, this.pages));
      const { arch, debianArch } = this.arches.of(elf);
      return {
        path,
        arch,
        debianArch,
        class: elf.class,
        endian: elf.endian,
        machine: elf.machine,
        type: elf.type,
        static: elf.static,
        interpreter: elf.interpreter,
      };
    } catch (error) {
      const code = isCrossrootError(error) ? error.code : errnoOf(error);
      const message = error instanceof Error ? error.message : String(error);
      return {
        path, arch: null, debianArch: null, class: null, endian: null, machine: null, type: null, static: null,
        interpreter: null, error: { code, message: `read ELF '${path}': ${message}` },
      };
    }
  }

  problem(path: string, code: string, message: string): void {
    this.errors.push({ path, code, message });
  }

  /**
   * Walks a directory tree depth-first without following symlinks. Mount
   * points come from /proc/self/mountinfo, so a subdirectory costs no system
   * call of its own; only a mount point is checked (statfs) for a pseudo
   * filesystem. Without a readable mountinfo, every directory is stat'ed and
   * a change of device marks a mount point.
   */
  walk(root: string): void {
    const rootDevice = this.deviceOf(root);
    if (rootDevice === null) return;
    const mounts = this.mounts();
    let canonicalRoot: string | null = null;
    try {
      canonicalRoot = mounts === null ? null : realpathSync(root);
    } catch { /* the device check below still works */ }
    const stack: { path: string; canonical: string | null; device: number }[] = [{ path: root, canonical: canonicalRoot, device: rootDevice }];
    while (stack.length > 0) {
      const current = stack.pop();
      if (current === undefined) break;
      let entries: Dirent[];
      try {
        entries = readdirSync(current.path, { withFileTypes: true });
      } catch (error) {
        const code = errnoOf(error);
        this.problem(current.path, code, ioFailureMessage('read directory', current.path, code));
        continue;
      }
      this.directoryCount++;
      const prefix = current.path.endsWith('/') ? current.path : `${current.path}/`;
      const subdirectories: string[] = [];
      for (const entry of entries) {
        if (entry.isFile()) this.examine(prefix + entry.name);
        else if (entry.isDirectory()) subdirectories.push(entry.name);
        // symlinks, devices, FIFOs, sockets: never opened
      }
      const canonicalPrefix = current.canonical === null ? null : current.canonical.endsWith('/') ? current.canonical : `${current.canonical}/`;
      for (let i = subdirectories.length - 1; i >= 0; i--) {
        const name = subdirectories[i] ?? '';
        const path = prefix + name;
        if (mounts !== null && canonicalPrefix !== null) {
          const canonical = canonicalPrefix + name;
          if (!mounts.has(canonical) || this.enterable(path)) stack.push({ path, canonical, device: current.device });
          continue;
        }
        const device = this.deviceOf(path, current.device);
        if (device !== null) stack.push({ path, canonical: null, device });
      }
    }
  }

  private mountSet: Set<string> | null | undefined;

  /** The mount points this process sees, or null when /proc/self/mountinfo cannot be read. */
  private mounts(): Set<string> | null {
    if (this.mountSet === undefined) this.mountSet = mountInfoPoints();
    return this.mountSet;
  }

  /** False (and recorded in `skipped`) when the directory is on a pseudo filesystem. */
  private enterable(path: string): boolean {
    try {
      const filesystem = PSEUDO_FILESYSTEMS.get(statfsSync(path).type);
      if (filesystem !== undefined) {
        this.skipped.push({ path, filesystem });
        return false;
      }
    } catch {
      // statfs unsupported here: enter the directory
    }
    return true;
  }

  /**
   * The directory's device, or null when it must not be entered. Only a
   * mount point (device differs from the parent's) costs a statfs.
   */
  private deviceOf(path: string, parentDevice?: number): number | null {
    let device: number;
    try {
      device = statSync(path).dev;
    } catch (error) {
      const code = errnoOf(error);
      this.problem(path, code, ioFailureMessage('read directory', path, code));
      return null;
    }
    if (device === parentDevice) return device;
    return this.enterable(path) ? device : null;
  }
}

/**
 * Scans each path: a directory is walked, a regular file is examined, a
 * symlink given on the command line is followed (as `find -H` does).
 */
export function scanTrees(paths: readonly string[]): ScanResult {
  const scanner = new Scanner();
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      const stats = statSync(path);
      isDirectory = stats.isDirectory();
      if (!isDirectory && !stats.isFile()) {
        scanner.problem(path, 'NOT_A_FILE', `scan '${path}': not a directory or a regular file`);
        continue;
      }
    } catch (error) {
      const code = errnoOf(error);
      scanner.problem(path, code === 'ENOENT' ? 'NOT_FOUND' : code, ioFailureMessage('scan', path, code));
      continue;
    }
    if (isDirectory) scanner.walk(path);
    else scanner.examine(path);
  }
  const files = [...scanner.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const byArch: Record<string, number> = {};
  const byDebianArch: Record<string, number> = {};
  for (const file of files) {
    const arch = file.arch ?? 'unknown';
    byArch[arch] = (byArch[arch] ?? 0) + 1;
    const debian = file.debianArch ?? 'unknown';
    byDebianArch[debian] = (byDebianArch[debian] ?? 0) + 1;
  }
  return {
    roots: [...paths],
    total: {
      files: scanner.fileCount,
      elf: files.length,
      directories: scanner.directoryCount,
      unreadable: scanner.errors.length,
      skippedDirectories: scanner.skipped.length,
    },
    byArch: sortedCounts(byArch),
    byDebianArch: sortedCounts(byDebianArch),
    files,
    errors: scanner.errors,
    skipped: scanner.skipped,
  };
}

/** Largest count first, then by name; `unknown` last. */
function sortedCounts(counts: Record<string, number>): Record<string, number> {
  const entries = Object.entries(counts).sort(([a, x], [b, y]) =>
    (a === 'unknown' ? 1 : 0) - (b === 'unknown' ? 1 : 0) || y - x || (a < b ? -1 : 1));
  return Object.fromEntries(entries);
}
