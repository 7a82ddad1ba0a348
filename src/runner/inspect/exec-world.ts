// The real-filesystem side of the exec simulator (src/core/exec/simulate.ts): looks
// files up as open_exec() would for a process whose root is `--root DIR` (or
// the host's own root), reads their first 256 bytes and their ELF facts.
// Paths are byte strings (latin1, one char per byte) all the way to the
// filesystem, so what the kernel would open is what is examined.
import { accessSync, closeSync, constants, fstatSync, openSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { nativeMachines } from '../host/native.ts';
import { BINPRM_BUF_SIZE } from '../../core/binfmt/entry.ts';
import { looksLikeElf, parseElf } from '../../core/elf/elf.ts';
import type { ElfFile } from '../../core/elf/elf.ts';
import type { ElfFacts, ExecWorld, FileLookup, NativeMachine } from '../../core/exec/simulate.ts';
import { isCrossrootError } from '../../core/errors.ts';
import { resolveInRoot } from '../../core/root/root-path.ts';
import { fdSource } from '../fs/file-source.ts';

export interface ExecWorldOptions {
  /** The root directory the exec happens in (host path), or null for the host's root. */
  readonly root: string | null;
  /** The caller's cwd: a host path without a root, a root-relative path with one (default '/'). */
  readonly cwd: string;
  readonly binfmt: ExecWorld['binfmt'];
  /** Directory F interpreters are resolved against at registration (default: `cwd` without a root, else '/'). */
  readonly hostCwd?: string;
  readonly native?: readonly NativeMachine[];
  /** QEMU's loader prefix (-L, QEMU_LD_PREFIX): a path as the process sees it (inside the root with one), or null. */
  readonly qemuLdPrefix?: string | null;
}

const bytesOf = (path: string): Buffer => Buffer.from(path, 'latin1');

function joinBytes(dir: string, path: string): string {
  if (path.startsWith('/')) return path;
  return dir.endsWith('/') ? `${dir}${path}` : `${dir}/${path}`;
}

const LOOKUP_ERRORS: Readonly<Record<string, 'missing' | 'notdir' | 'loop' | 'toolong' | 'denied'>> = {
  ENOENT: 'missing', ENOTDIR: 'notdir', ELOOP: 'loop', ENAMETOOLONG: 'toolong', EACCES: 'denied',
};

/** A PT_INTERP string from the reader (UTF-8 decoded) back to a byte string. */
function toByteString(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

export function elfFactsOf(elf: ElfFile): ElfFacts {
  const codes = new Set(elf.problems.map((problem) => problem.code));
  const phdrBytes = elf.phnum * elf.phentsize;
  return {
    class: elf.class,
    endian: elf.endian,
    machine: elf.machine,
    flags: elf.flags,
    type: elf.typeNumber,
    // load_elf_phdrs: the entry size of the class, 1..65536 bytes of headers, all inside the file.
    headersLoadable: !codes.has('PHDR_ENTSIZE') && !codes.has('PHDR_TRUNCATED') && elf.phnum > 0 && phdrBytes <= 65536,
    interpreter: elf.interpreter === null ? null : toByteString(elf.interpreter),
    interpreterError: codes.has('INTERP_SIZE') || codes.has('INTERP_UNTERMINATED') ? 'ENOEXEC'
      : codes.has('INTERP_TRUNCATED') ? 'EIO' : undefined,
    needed: elf.needed.map(toByteString),
    hasRunpath: elf.runpath !== null || elf.rpath !== null,
  };
}

/** Examines an existing file at a host path: head, permissions, ELF facts. */
function examine(hostPath: string, shownPath: string, stats: Stats): FileLookup {
  if (stats.isDirectory()) return { kind: 'dir', realPath: shownPath };
  if (!stats.isFile()) return { kind: 'special', realPath: shownPath };
  let executable = true;
  try {
    // X_OK: MAY_EXEC for this caller (root: any x bit) and not a noexec mount.
    accessSync(bytesOf(hostPath), constants.X_OK);
  } catch {
    executable = false;
  }
  const setid = (stats.mode & 0o6000) !== 0;
  let head: Uint8Array = new Uint8Array(0);
  let elf: ElfFacts | null = null;
  let fd: number | undefined;
  try {
    fd = openSync(bytesOf(hostPath), constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    const size = fstatSync(fd).size;
    const source = fdSource(fd, size, shownPath);
    head = source.read(0, BINPRM_BUF_SIZE).slice(); // a copy: the page behind it is not kept for every file looked at
    if (looksLikeElf(head)) {
      try {
        elf = elfFactsOf(parseElf(source));
      } catch (error) {
        if (!isCrossrootError(error)) throw error;
        elf = null; // a header the kernel cannot read either: the ELF handler declines
      }
    }
  } catch (error) {
    // An execute-only file cannot be read by us (the kernel can): examine what we have.
    if (!isCrossrootError(error) && (error as NodeJS.ErrnoException).code === undefined) throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return { kind: 'file', realPath: shownPath, executable, setid, head, elf };
}

function lookupHostPath(hostPath: string, shownPath: string): FileLookup {
  let stats: Stats;
  try {
    stats = statSync(bytesOf(hostPath));
  } catch (error) {
    const kind = LOOKUP_ERRORS[(error as NodeJS.ErrnoException).code ?? ''];
    if (kind === undefined) throw error;
    if (kind === 'missing') return { kind, danglingLink: danglingLinkAt(hostPath) };
    return { kind };
  }
  return examine(hostPath, shownPath, stats);
}

/** The target of a symbolic link at `hostPath` that stat could not follow, or undefined when it is no link. */
function danglingLinkAt(hostPath: string): { target: string } | undefined {
  try {
    return { target: readlinkSync(bytesOf(hostPath), { encoding: 'buffer' }).toString('latin1') };
  } catch {
    return undefined;
  }
}

/** readlink for root-relative byte-string paths: null for "not a link" and for missing paths. */
function rootReadlink(root: string): (path: string) => string | null {
  return (path) => {
    try {
      return readlinkSync(bytesOf(joinBytes(root, path.slice(1))), { encoding: 'buffer' }).toString('latin1');
    } catch {
      return null;
    }
  };
}

/** open_exec(path) inside `root`: every symlink resolved within the root, never escaping it. */
export function lookupInRoot(root: string, cwd: string, path: string): FileLookup {
  if (path === '') return { kind: 'dir', realPath: cwd };
  let resolved: string;
  try {
    resolved = resolveInRoot(path, rootReadlink(root), { cwd }).path;
  } catch (error) {
    if (isCrossrootError(error) && error.code === 'SYMLINK_LOOP') return { kind: 'loop' };
    throw error;
  }
  const hostPath = resolved === '/' ? root : joinBytes(root, resolved.slice(1));
  const found = lookupHostPath(hostPath, hostPath);
  if (found.kind !== 'missing' || found.danglingLink !== undefined) return found;
  // The resolver followed the link to its missing target: name the link the caller gave.
  const target = rootReadlink(root)(path.startsWith('/') ? path : joinBytes(cwd, path));
  return target === null ? found : { kind: 'missing', danglingLink: { target } };
}

/** open_exec(path) on the host, relative paths against `cwd`. */
export function lookupOnHost(cwd: string, path: string): FileLookup {
  if (path === '') return lookupHostPath(cwd, cwd);
  const full = joinBytes(cwd, path);
  return lookupHostPath(full, full);
}

/** The loader's default directories, searched after ld.so.conf's. */
const DEFAULT_LIBRARY_DIRS = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/lib32', '/usr/lib32'];

/**
 * The directories ld.so searches (through its cache) in a root: /etc/ld.so.conf
 * with its `include DIR/*.conf` lines, then the defaults.
 */
function libraryDirs(readText: (path: string) => string | null, listDir: (path: string) => string[]): string[] {
  const dirs: string[] = [];
  const seen = new Set<string>();
  const readConf = (path: string, depth: number): void => {
    if (depth > 4 || seen.has(path)) return;
    seen.add(path);
    for (const raw of (readText(path) ?? '').split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      if (line === '') continue;
      const include = /^include\s+(.+)$/.exec(line);
      if (include === null) {
        dirs.push(line);
        continue;
      }
      for (const pattern of (include[1] ?? '').split(/\s+/)) {
        const star = pattern.lastIndexOf('/*');
        if (star < 0) {
          readConf(pattern, depth + 1);
          continue;
        }
        const dir = pattern.slice(0, star);
        const suffix = pattern.slice(star + 2);
        for (const name of listDir(dir).filter((file) => file.endsWith(suffix)).sort()) readConf(`${dir}/${name}`, depth + 1);
      }
    }
  };
  readConf('/etc/ld.so.conf', 0);
  return [...new Set([...dirs, ...DEFAULT_LIBRARY_DIRS])];
}

/** Whether ld.so would find DT_NEEDED `name` for `elf` in the search directories, opening files with `lookup`. */
function libraryFinder(lookup: (path: string) => FileLookup, searchDirs: () => string[]): (name: string, elf: ElfFacts) => boolean | null {
  return (name, elf) => {
    if (name.includes('/')) return null; // a path: the loader opens it as given
    for (const dir of searchDirs()) {
      const found = lookup(`${dir}/${name}`);
      if (found.kind === 'file' && found.elf !== null && found.elf.machine === elf.machine && found.elf.class === elf.class) return true;
    }
    // RUNPATH/RPATH ($ORIGIN, ...) are not followed: unknown rather than a false alarm.
    return elf.hasRunpath === true ? null : false;
  };
}

export function createExecWorld(options: ExecWorldOptions): ExecWorld {
  const { root } = options;
  const lookup = root === null
    ? (path: string): FileLookup => lookupOnHost(options.cwd, path)
    : (path: string): FileLookup => lookupInRoot(root, options.cwd, path);
  const hostCwd = options.hostCwd ?? (root === null ? options.cwd : '/');
  const cache = new Map<string, FileLookup>();
  const cachedLookup = (path: string): FileLookup => {
    let found = cache.get(path);
    if (found === undefined) {
      found = lookup(path);
      cache.set(path, found);
    }
    return found;
  };
  const readText = (path: string): string | null => {
    const found = root === null ? path : (() => {
      try {
        return joinBytes(root, resolveInRoot(path, rootReadlink(root)).path.slice(1));
      } catch {
        return null;
      }
    })();
    if (found === null) return null;
    try {
      return readFileSync(bytesOf(found)).toString('latin1');
    } catch {
      return null;
    }
  };
  const listDir = (path: string): string[] => {
    const host = root === null ? path : joinBytes(root, path.slice(1));
    try {
      return readdirSync(bytesOf(host), { encoding: 'buffer' }).map((name) => name.toString('latin1'));
    } catch {
      return [];
    }
  };
  let dirs: string[] | null = null;
  const searchDirs = (): string[] => (dirs ??= libraryDirs(readText, listDir));
  const prefix = options.qemuLdPrefix ?? null;
  // util/path.c: an absolute path under the prefix when something exists there, else the path itself.
  const emulatedLookup = prefix === null ? cachedLookup : (path: string): FileLookup => {
    if (!path.startsWith('/')) return cachedLookup(path);
    const underPrefix = cachedLookup(joinBytes(prefix, path.slice(1)));
    return underPrefix.kind === 'file' || underPrefix.kind === 'dir' || underPrefix.kind === 'special' ? underPrefix : cachedLookup(path);
  };
  return {
    lookup: cachedLookup,
    pinned: (entry) => lookupOnHost(hostCwd, entry.interpreter),
    findLibrary: libraryFinder(cachedLookup, searchDirs),
    emulated: { prefix, lookup: emulatedLookup, findLibrary: libraryFinder(emulatedLookup, searchDirs) },
    binfmt: options.binfmt,
    host: { native: options.native ?? nativeMachines() },
    root,
  };
}
