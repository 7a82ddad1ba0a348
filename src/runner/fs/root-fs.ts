// The filesystem side of src/core/root-path.ts: resolve a path inside a root
// directory on disk. Each component is read with lstat semantics (readlink on
// a path whose every earlier component is already known not to be a symlink),
// so a link in an untrusted root can never lead outside it.
import { lstatSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveInRoot } from '../../core/root/root-path.ts';
import type { ResolveInRootOptions, RootResolution } from '../../core/root/root-path.ts';

/** readlink for a root-relative path: null when it is not a symlink or does not exist. */
export function rootReadlink(rootDir: string): (rootRelativePath: string) => string | null {
  return (rootRelativePath) => {
    const path = join(rootDir, rootRelativePath);
    try {
      // lstat first: most components are no links, and readlink's EINVAL for them costs an exception each (a run's plan resolves hundreds).
      return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() === true ? readlinkSync(path, 'utf8') : null;
    } catch {
      return null; // ENOTDIR, or no longer a link: the open later reports it
    }
  };
}

export interface HostPathInRoot extends RootResolution {
  /** The host path to open: rootDir joined with the resolved root-relative path. */
  readonly hostPath: string;
}

/** Resolves `path` as a process chrooted at `rootDir` would, and gives the host path to open. */
export function resolveHostPathInRoot(rootDir: string, path: string, options: ResolveInRootOptions = {}): HostPathInRoot {
  const root = resolve(rootDir);
  const resolution = resolveInRoot(path, rootReadlink(root), options);
  return { ...resolution, hostPath: join(root, resolution.path) };
}
