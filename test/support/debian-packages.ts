// Real Debian binaries of several architectures for differential tests:
// busybox-static, libc6 and coreutils of each architecture below, fetched with
// `apt-get download` (after `dpkg --add-architecture`) and unpacked with
// `dpkg-deb -x` into .cache/debian-packages/<arch>/root/.
//
// Cached and idempotent: an architecture counts as done only when its marker
// file exists, and the marker is written last, so an interrupted run redoes
// that architecture. A lock directory serialises concurrent test processes
// (apt and dpkg hold their own locks and would fail rather than wait).
// Needs root (dpkg --add-architecture, apt-get update) on a Debian host.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { runProcess } from '../../src/runner/process/process.ts';
import type { RunResult } from '../../src/runner/process/process.ts';
import { withLock } from '../../src/runner/roots/root-lock.ts';

export const DEBIAN_TEST_ARCHES = ['amd64', 'arm64', 'armhf', 'armel', 'i386', 'ppc64el', 's390x', 'mips64el', 'mipsel'] as const;
export const DEBIAN_TEST_PACKAGES = ['busybox-static', 'libc6', 'coreutils'] as const;
export type DebianTestArch = (typeof DEBIAN_TEST_ARCHES)[number];

export const DEBIAN_PACKAGES_CACHE = fileURLToPath(new URL('../../.cache/debian-packages/', import.meta.url));

const MARKER = '.complete';
const LOCK = join(DEBIAN_PACKAGES_CACHE, '.lock');
const APT_TIMEOUT_MS = 10 * 60 * 1000;

export interface DebianPackageTree {
  readonly debianArch: string;
  /** The extracted root: usr/, lib/, bin/ ... of the three packages. */
  readonly dir: string;
}

let pending: Promise<DebianPackageTree[]> | undefined;

/** Downloads and unpacks the packages of every architecture once; later calls use the cache. */
export function ensureDebianPackages(): Promise<DebianPackageTree[]> {
  pending ??= ensureAll().catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

/** Where an architecture's tree lives, whether or not it is there yet. */
export function debianPackageRoot(arch: string): string {
  return join(DEBIAN_PACKAGES_CACHE, arch, 'root');
}

function isComplete(arch: string): boolean {
  return existsSync(join(DEBIAN_PACKAGES_CACHE, arch, MARKER));
}

function trees(): DebianPackageTree[] {
  return DEBIAN_TEST_ARCHES.map((arch) => ({ debianArch: arch, dir: debianPackageRoot(arch) }));
}

async function ensureAll(): Promise<DebianPackageTree[]> {
  if (DEBIAN_TEST_ARCHES.every(isComplete)) return trees();
  mkdirSync(DEBIAN_PACKAGES_CACHE, { recursive: true });
  await withLock(LOCK, async () => {
    const missing = DEBIAN_TEST_ARCHES.filter((arch) => !isComplete(arch));
    if (missing.length === 0) return;
    await addArchitectures(missing);
    const apt = { updated: false };
    for (const arch of missing) await fetchArch(arch, apt);
  });
  return trees();
}

async function run(argv: readonly string[], cwd?: string): Promise<RunResult> {
  const result = await runProcess(argv, {
    timeoutMs: APT_TIMEOUT_MS,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' },
    ...(cwd === undefined ? {} : { cwd }),
  });
  return result;
}

async function mustRun(argv: readonly string[], cwd?: string): Promise<RunResult> {
  const result = await run(argv, cwd);
  if (result.exitCode !== 0) {
    throw new Error(`debian packages: '${argv.join(' ')}' exited with '${result.exitCode ?? result.signal}': ${result.stderr.trim()}`);
  }
  return result;
}

async function addArchitectures(arches: readonly string[]): Promise<void> {
  const native = (await mustRun(['dpkg', '--print-architecture'])).stdout.trim();
  const foreign = new Set((await mustRun(['dpkg', '--print-foreign-architectures'])).stdout.split(/\s+/).filter(Boolean));
  for (const arch of arches) {
    if (arch !== native && !foreign.has(arch)) await mustRun(['dpkg', '--add-architecture', arch]);
  }
}

async function fetchArch(arch: string, apt: { updated: boolean }): Promise<void> {
  const base = join(DEBIAN_PACKAGES_CACHE, arch);
  rmSync(base, { recursive: true, force: true }); // a run interrupted before the marker starts over
  const debs = join(base, 'debs');
  const root = join(base, 'root');
  mkdirSync(debs, { recursive: true });
  mkdirSync(root, { recursive: true });
  const download = ['apt-get', 'download', ...DEBIAN_TEST_PACKAGES.map((name) => `${name}:${arch}`)];
  let result = await run(download, debs);
  let updateErrors = '';
  if (result.exitCode !== 0 && !apt.updated) {
    // The architecture was just added, or the lists are stale: refresh once.
    // A mirror in mid-sync fails some index files (exit 100) while the rest
    // are fine, so a failed update is retried once and then only reported if
    // the download still fails.
    let update = await run(['apt-get', 'update']);
    if (update.exitCode !== 0) {
      await sleep(5000);
      update = await run(['apt-get', 'update']);
    }
    apt.updated = true;
    updateErrors = update.exitCode === 0 ? '' : ` (apt-get update also failed: ${update.stderr.trim()})`;
    result = await run(download, debs);
  }
  if (result.exitCode !== 0) {
    throw new Error(`debian packages: '${download.join(' ')}' exited with '${result.exitCode ?? result.signal}': ${result.stderr.trim()}${updateErrors}`);
  }
  const files = readdirSync(debs).filter((name) => name.endsWith('.deb')).sort();
  if (files.length !== DEBIAN_TEST_PACKAGES.length) {
    throw new Error(`debian packages: expected '${DEBIAN_TEST_PACKAGES.length}' .deb files for '${arch}', found '${files.length}'`);
  }
  for (const file of files) await mustRun(['dpkg-deb', '-x', join(debs, file), root]);
  writeFileSync(join(base, MARKER), `${files.join('\n')}\n`);
}

