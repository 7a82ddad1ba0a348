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
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRoot } from '../../src/runner/create/create.ts';
import { readMarker } from '../../src/runner/create/target.ts';
import { managedSuite } from '../../src/runner/roots/roots.ts';
import { TOOLCHAIN_PACKAGES, resolveTargetArch } from '../../src/core/create/create-plan.ts';

export const TEST_CROSSROOT_HOME = process.env['CROSSROOT_TEST_HOME'] ?? '/var/cache/crossroot-test';
export const TEST_CACHE = join(TEST_CROSSROOT_HOME, 'cache');

export type TestArch = 'arm64' | 'armhf' | 'riscv64' | 'i386' | 'ppc64el' | 's390x' | 'armel' | 'amd64';

export function testRootPath(arch: TestArch, options: { toolchain: boolean }): string {
  return join(TEST_CROSSROOT_HOME, options.toolchain ? 'roots' : 'minbase', arch);
}

async function withLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  mkdirSync(join(path, '..'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch { /* being created */ }
      if (holder > 0 && !existsSync(`/proc/${holder}`)) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The path of a finished test root of `arch`, created (and cached) on first use. */
export async function ensureTestRoot(arch: TestArch, options: { toolchain: boolean }): Promise<string> {
  const dir = testRootPath(arch, options);
  const { debianArch } = resolveTargetArch(arch);
  // A root of another suite (the default moved on) is rebuilt, not reused.
  const current = (): boolean => readMarker(dir)?.suite === managedSuite(debianArch);
  if (current()) return dir;
  return withLock(dir, async () => {
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
