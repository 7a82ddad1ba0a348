// The twins' facts (core/accelerate/twins.ts): both trees' dpkg databases
// with their file lists, a scan of the native files, and the tools root's
// packages at the root's versions, installed on demand with the tools root's
// own apt (natively: it is an amd64 root) and cached there. What the suite
// does not have at that version is remembered, not retried on every run.
import { existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDpkgList, parseDpkgStatus, dpkgListNames } from '../../core/root/dpkg-status.ts';
import type { TreeFacts } from '../../core/accelerate/accelerate-plan.ts';
import { NATIVE_RUNTIME } from '../../core/accelerate/accelerate-plan.ts';
import { preloadLinks, sameSourceVersion, scanNativeElf, wantedToolsPackages, withoutBinNmu } from '../../core/accelerate/twins.ts';
import type { NativeScan, PackageFiles, TwinInput } from '../../core/accelerate/twins.ts';
import { looksLikeElf } from '../../core/elf/elf.ts';
import { readHead, withFileSource } from '../fs/file-source.ts';
import { resolveHostPathInRoot } from '../fs/root-fs.ts';
import { runProcess } from '../process/process.ts';
import { withLock } from '../roots/root-lock.ts';

function readInTree(treeDir: string, path: string): string | null {
  try {
    return readFileSync(resolveHostPathInRoot(treeDir, path).hostPath, 'utf8');
  } catch {
    return null;
  }
}

/** Every installed package of a tree, with its files (names without ':arch'). */
export function readPackages(treeDir: string): Map<string, PackageFiles> {
  const packages = new Map<string, PackageFiles>();
  const status = readInTree(treeDir, '/var/lib/dpkg/status');
  if (status === null) return packages;
  for (const pkg of parseDpkgStatus(status)) {
    let files: string[] = [];
    for (const name of dpkgListNames(pkg)) {
      const list = readInTree(treeDir, `/var/lib/dpkg/info/${name}`);
      if (list !== null) { files = parseDpkgList(list); break; }
    }
    // A multi-arch package may be installed for two architectures: the tree's own (not 'all') wins.
    const known = packages.get(pkg.package);
    if (known !== undefined && known.architecture !== 'all') continue;
    packages.set(pkg.package, { package: pkg.package, version: pkg.version, architecture: pkg.architecture, files });
  }
  return packages;
}

const SCAN_CACHE = '.crossroot-twins-scan.json';

type ScanCache = Record<string, { readonly stamp: string; readonly scan: NativeScan | null }>;

/**
 * scanNativeElf of the tools root's files, remembered in the tools root by
 * path, inode, size and mtime (reading .rodata of ~150 programs costs seconds
 * on a loaded machine; the files change only when apt upgrades them).
 */
function cachedScanner(toolsDir: string): { scan: (path: string) => NativeScan | null; save: () => void } {
  let cache: ScanCache = {};
  try { cache = JSON.parse(readFileSync(join(toolsDir, SCAN_CACHE), 'utf8')) as ScanCache; } catch { /* none yet */ }
  let changed = false;
  const scan = (path: string): NativeScan | null => {
    let stamp: string;
    try {
      const stat = lstatSync(join(toolsDir, path));
      stamp = `${String(stat.ino)}:${String(stat.size)}:${String(stat.mtimeMs)}`;
    } catch {
      return null;
    }
    const known = cache[path];
    if (known !== undefined && known.stamp === stamp) return known.scan;
    let result: NativeScan | null = null;
    try {
      result = withFileSource(join(toolsDir, path), (source) => scanNativeElf(source));
    } catch { /* unreadable: not a twin */ }
    cache[path] = { stamp, scan: result };
    changed = true;
    return result;
  };
  const save = (): void => {
    if (!changed) return;
    try { writeFileSync(join(toolsDir, SCAN_CACHE), JSON.stringify(cache)); } catch { /* a read-only tools root: scan again next time */ }
    changed = false;
  };
  return { scan, save };
}

/** The twin facts of a root and a tools root; call save() after planning to keep the scans. */
export function twinFacts(rootDir: string, toolsDir: string, tools: TreeFacts, multiarch: string, debianArch: string): Omit<TwinInput, 'root'> & { save: () => void } {
  const scanner = cachedScanner(toolsDir);
  return {
    debianArch,
    rootPackages: readPackages(rootDir),
    tools,
    toolsPackages: readPackages(toolsDir),
    multiarch,
    save: scanner.save,
    scanNative: scanner.scan,
    isRootElf: (path) => {
      try {
        return looksLikeElf(readHead(join(rootDir, path), 4));
      } catch {
        return false;
      }
    },
  };
}

const UNAVAILABLE = '.crossroot-twins-unavailable';

/** Package names apt reports it cannot install at the version asked. */
function unavailableIn(stderr: string): string[] {
  const names: string[] = [];
  for (const match of stderr.matchAll(/E: Version '[^']*' for '([^']+)' was not found/g)) if (match[1] !== undefined) names.push(match[1]);
  for (const match of stderr.matchAll(/E: Unable to locate package ([^\s]+)/g)) if (match[1] !== undefined) names.push(match[1]);
  return names;
}

function aptInTools(toolsDir: string, args: readonly string[]): Promise<{ exitCode: number | null; stderr: string; stdout: string }> {
  // The tools root is amd64: its own apt runs natively, chrooted, with its own /proc.
  return runProcess(['unshare', '--mount', '--pid', '--fork', `--mount-proc=${join(toolsDir, 'proc')}`, '--',
    'chroot', toolsDir, 'apt-get', '-q', '-y', '-o', 'APT::Install-Recommends=false', ...args], {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' }, timeoutMs: 30 * 60 * 1000,
  });
}

function withToolsLock<T>(toolsDir: string, work: () => Promise<T>): Promise<T> {
  return withLock(`${toolsDir}.twins-lock`, work);
}

/**
 * Installs into the tools root the packages the root's twins need at the
 * root's exact versions (core/accelerate/twins.ts wantedToolsPackages), and
 * links the preload libraries into its library directory. Returns what could
 * not be had. Idempotent; a second run with nothing missing starts nothing.
 */
export async function ensureTwinPackages(rootDir: string, toolsDir: string, multiarch: string, log?: (line: string) => void): Promise<string[]> {
  const wanted = wantedToolsPackages(readPackages(rootDir), multiarch);
  return withToolsLock(toolsDir, async () => {
    const have = readPackages(toolsDir);
    const skipped = new Set((readInTree(toolsDir, `/${UNAVAILABLE}`) ?? '').split('\n').filter((line) => line !== ''));
    const has = (want: { package: string; version: string }): boolean => {
      const version = have.get(want.package)?.version;
      return version !== undefined && sameSourceVersion(want.version, version);
    };
    /** `asked`: the root's version, when a binNMU's source version is tried instead. */
    let missing: { package: string; version: string; asked?: string }[] = wanted.filter((want) => !has(want) && !skipped.has(`${want.package}=${want.version}`));
    const unavailable: string[] = [];
    if (missing.length > 0) {
      log?.(`accelerate: installing into the tools root at the root's versions: ${missing.map((m) => `${m.package}=${m.version}`).join(' ')}`);
      const update = await aptInTools(toolsDir, ['update']);
      if (update.exitCode !== 0) return missing.map((m) => `${m.package}: apt-get update failed in the tools root`);
      for (let attempt = 0; attempt < 4 && missing.length > 0; attempt += 1) {
        const result = await aptInTools(toolsDir, ['install', ...missing.map((m) => `${m.package}=${m.version}`)]);
        if (result.exitCode === 0) break;
        const gone = unavailableIn(result.stderr);
        if (gone.length === 0) return [`apt-get install failed in the tools root: ${result.stderr.trim().split('\n').at(-1) ?? ''}`];
        // A binNMU of the root's architecture alone (grep 3.11-4+b1): amd64 has the source version's own build.
        const retry = missing.filter((m) => gone.includes(m.package) && withoutBinNmu(m.version) !== m.version)
          .map((m) => ({ package: m.package, version: withoutBinNmu(m.version), asked: m.asked ?? m.version }));
        for (const want of missing.filter((m) => gone.includes(m.package) && !retry.some((r) => r.package === m.package))) {
          unavailable.push(`${want.package}=${want.version}`);
          for (const version of new Set([want.version, want.asked ?? want.version])) skipped.add(`${want.package}=${version}`);
        }
        missing = [...missing.filter((m) => !gone.includes(m.package)), ...retry];
      }
      writeFileSync(join(toolsDir, UNAVAILABLE), [...skipped].sort().map((line) => `${line}\n`).join(''));
    }
    linkPreloads(toolsDir);
    return unavailable;
  });
}

/** The tools root's preload libraries, reachable by bare name in its library directory. */
function linkPreloads(toolsDir: string): void {
  const libDir = join(toolsDir, 'usr/lib', NATIVE_RUNTIME.multiarch);
  for (const link of preloadLinks(readPackages(toolsDir))) {
    const at = join(libDir, link.name);
    let present = false;
    try { lstatSync(at); present = true; } catch { /* absent */ }
    if (!present && existsSync(join(libDir, link.target))) symlinkSync(link.target, at);
  }
}
