// Small real roots for `crossroot run` tests, built in well under a second from
// the Debian packages test/support/debian-packages.ts unpacks (busybox-static,
// libc6 and coreutils of the architecture): the package tree is copied with
// hard links (cp -al: directories are new, files shared with the cache, so
// every file this helper WRITES is first unlinked), /bin/sh and a few applets
// link to busybox, and etc/passwd + etc/group name root, nobody and a user
// 'builder' (uid 1000) who is also in group 'staff' (50).
// /usr/local/bin/suid-whoami: a copy (not a link) of coreutils' whoami, owned by root, mode 4755:
// run as another user it prints 'root' only when binfmt_misc's C flag works.
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/runner/process/process.ts';
import { debianPackageRoot, ensureDebianPackages } from './debian-packages.ts';
import { mountPoints as parseMountPoints } from '../../src/core/host/mount-table.ts';

export type TestRootArch = 'arm64' | 'armhf' | 'i386' | 'amd64';

/** Busybox applets linked in /bin when the package tree has no program of that name. */
const APPLETS = ['sh', 'su', 'ps', 'kill', 'grep', 'sed', 'find', 'awk', 'xargs', 'pidof', 'which', 'hostname', 'stat'] as const;

export interface TestRoot {
  readonly dir: string;
  readonly arch: TestRootArch;
  /** Removes the root (refuses while something is mounted under it). */
  remove(): void;
}

function writeFresh(path: string, text: string): void {
  if (existsSync(path)) unlinkSync(path); // never write through a hard link into the cache
  writeFileSync(path, text);
}

export async function makeTestRoot(arch: TestRootArch, parent: string = tmpdir()): Promise<TestRoot> {
  await ensureDebianPackages();
  const base = mkdtempSync(join(parent, `crossroot-test-root-${arch}-`));
  const dir = join(base, 'root');
  const copy = await runProcess(['cp', '-al', debianPackageRoot(arch), dir]);
  if (copy.exitCode !== 0) throw new Error(`copy the ${arch} package tree: ${copy.stderr}`);
  for (const applet of APPLETS) {
    if (existsSync(join(dir, 'bin', applet)) || existsSync(join(dir, 'usr/bin', applet))) continue;
    symlinkSync('busybox', join(dir, 'bin', applet));
  }
  for (const sub of ['root', 'home', 'tmp', 'usr/local/bin']) mkdirSync(join(dir, sub), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  mkdirSync(join(dir, 'home/builder'));
  chownSync(join(dir, 'home/builder'), 1000, 1000);
  writeFresh(join(dir, 'etc/passwd'), [
    'root:x:0:0:root:/root:/bin/sh',
    'builder:x:1000:1000:Builder:/home/builder:/bin/sh',
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/sh',
    '',
  ].join('\n'));
  writeFresh(join(dir, 'etc/group'), ['root:x:0:', 'staff:x:50:builder', 'builder:x:1000:', 'nogroup:x:65534:', ''].join('\n'));
  const suid = join(dir, 'usr/local/bin/suid-whoami');
  copyFileSync(join(dir, 'usr/bin/whoami'), suid);
  chownSync(suid, 0, 0);
  chmodSync(suid, 0o4755);
  return {
    dir,
    arch,
    remove: () => {
      const mounts = mountPoints().filter((point) => point.startsWith(`${base}/`));
      if (mounts.length > 0) throw new Error(`refusing to remove ${base}: mounted: ${mounts.join(', ')}`);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Mount points of this mount namespace (octal escapes decoded). */
export function mountPoints(): string[] {
  return parseMountPoints(readFileSync('/proc/self/mounts', 'utf8'));
}
