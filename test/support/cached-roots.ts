// Real foreign roots for end-to-end tests, cached between test runs in a
// machine-level directory that survives a fresh clone (CI runs in a fresh
// clone on the same machine):
//
//   /var/cache/crossroot-test/            TEST_CROSSROOT_HOME (override: $CROSSROOT_TEST_HOME)
//     roots/<debianArch>/                 toolchain roots, laid out exactly like managed roots,
//                                         so CROSSROOT_HOME=TEST_CROSSROOT_HOME makes
//                                         `crossroot run --arch ARCH` use them
//     minbase/<debianArch>/               minbase roots
//     cache/                              apt package cache and snapshots shared by all of them
//
//   const dir = await ensureTestRoot('arm64', { toolchain: true });
//
// Toolchain roots are the managed default: Debian stable (trixie for riscv64)
// + build-essential. A root is created on first use (minutes under emulation,
// seconds once the snapshot exists) under a lock directory, so parallel test
// files asking for the same root wait for one create.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRoot } from '../../src/runner/create/create.ts';
import { readMarker } from '../../src/runner/create/target.ts';
import { managedSuite } from '../../src/runner/roots/roots.ts';
import { withLock } from '../../src/runner/roots/root-lock.ts';
import { TOOLCHAIN_PACKAGES, resolveTargetArch } from '../../src/core/create/create-plan.ts';

export const TEST_CROSSROOT_HOME = process.env['CROSSROOT_TEST_HOME'] ?? '/var/cache/crossroot-test';
export const TEST_CACHE = join(TEST_CROSSROOT_HOME, 'cache');

export type TestArch = 'arm64' | 'armhf' | 'riscv64' | 'i386' | 'ppc64el' | 's390x' | 'armel' | 'amd64';

export function testRootPath(arch: TestArch, options: { toolchain: boolean }): string {
  return join(TEST_CROSSROOT_HOME, options.toolchain ? 'roots' : 'minbase', arch);
}

/**
 * Runs `work` holding the lock of the cached directory `path` (`PATH.lock`, the
 * runner's own lock: one creates, the others wait; a dead owner's lock is taken over).
 */
export async function withDirLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  mkdirSync(join(path, '..'), { recursive: true });
  return withLock(`${path}.lock`, work, 1000);
}

/** The path of a finished test root of `arch`, created (and cached) on first use. */
export async function ensureTestRoot(arch: TestArch, options: { toolchain: boolean }): Promise<string> {
  const dir = testRootPath(arch, options);
  const { debianArch } = resolveTargetArch(arch);
  // A root of another suite (the default moved on) is rebuilt, not reused.
  const current = (): boolean => readMarker(dir)?.suite === managedSuite(debianArch);
  if (current()) return dir;
  return withDirLock(dir, async () => {
    if (current()) return dir;
    await createRoot({
      dir,
      arch: debianArch,
      suite: managedSuite(debianArch),
      includes: options.toolchain ? [...TOOLCHAIN_PACKAGES] : [],
      cacheRoot: TEST_CACHE,
      force: true,
    });
    return dir;
  });
}
