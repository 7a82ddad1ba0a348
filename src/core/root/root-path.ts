// Path resolution inside a root directory, the way the kernel resolves a path
// for a process chrooted there (and like openat2's RESOLVE_IN_ROOT): an
// absolute symlink target starts again at the root, and `..` at the root stays
// at the root. Pure: the caller supplies `readlink` for root-relative paths, so
// a hostile root can never make crossroot look at a host path.
import { CrossrootError } from '../errors.ts';

/** Linux's limit on symlinks followed in one resolution (MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;

/**
 * Reads the link at a root-relative absolute path ('/usr/bin/cc'): its
 * target, or null when the path is not a symlink (or does not exist).
 */
export type RootReadlink = (rootRelativePath: string) => string | null;

export interface ResolveInRootOptions {
  /** Follow a symlink in the last component too (default true, like open/execve). */
  readonly followFinal?: boolean;
  /** Directory inside the root that relative paths start from (default '/'). */
  readonly cwd?: string;
}

export interface RootResolution {
  /** The resolved root-relative absolute path ('/usr/bin/x86_64-linux-gnu-gcc-12'). */
  readonly path: string;
  /** Every symlink followed, in order, as root-relative paths with their targets. */
  readonly links: readonly { readonly path: string; readonly target: string }[];
}

function components(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

function joinComponents(parts: readonly string[]): string {
  return `/${parts.join('/')}`;
}

/**
 * Resolves `path` inside the root. Never returns a path outside it. Throws
 * SYMLINK_LOOP after MAX_SYMLINKS links (the kernel's ELOOP).
 */
export function resolveInRoot(path: string, readlink: RootReadlink, options: ResolveInRootOptions = {}): RootResolution {
  const followFinal = options.followFinal ?? true;
  const resolved: string[] = [];
  // Components still to walk, first one at the end (a stack is cheaper than shifting).
  // A relative path walks the cwd first, so links in the cwd are resolved too.
  const start = path.startsWith('/') ? [] : components(options.cwd ?? '/');
  const pending = [...start, ...components(path)].reverse();
  const links: { path: string; target: string }[] = [];
  while (pending.length > 0) {
    const part = pending.pop() ?? '';
    if (part === '..') {
      resolved.pop(); // '..' of the root is the root
      continue;
    }
    resolved.push(part);
    const isFinal = pending.length === 0;
    if (isFinal && !followFinal) break;
    const current = joinComponents(resolved);
    const target = readlink(current);
    if (target === null) continue;
    if (links.length >= MAX_SYMLINKS) {
      throw new CrossrootError('SYMLINK_LOOP',
        `resolve '${path}' inside the root: more than '${MAX_SYMLINKS}' symbolic links (ELOOP)`, {
          hint: 'a symlink in the root points back at itself; inspect it with readlink',
        });
    }
    links.push({ path: current, target });
    resolved.pop();
    if (target.startsWith('/')) resolved.length = 0;
    pending.push(...components(target).reverse());
  }
  return { path: joinComponents(resolved), links };
}
