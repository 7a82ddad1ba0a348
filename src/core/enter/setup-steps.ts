// The steps that set a run up (pure data), and the model of the root they
// are planned against. The native helper (runner/enter/crossroot-enter.c)
// carries them out in order inside the run's namespaces, before the command.
//
// Every in-root path is resolved the way a process chrooted in the root would
// resolve it (core/root/root-path.ts), against a model of the root AFTER the
// planned mounts: below a fresh tmpfs (/dev, /run) nothing exists but what the
// plan creates there. The helper resolves them again at mount time with
// RESOLVE_IN_ROOT, so a root changed since planning can make a step fail but
// never send it outside the root.
//
// A run leaves the root's own tree as it found it: a mount point the root
// lacks is made in a shadow of its parent directory (a tmpfs holding a bind
// of each original entry, plus the new one) instead of on the root's disk.
import { resolveInRoot } from '../root/root-path.ts';
import type { RootReadlink } from '../root/root-path.ts';

/** What a root-relative path is on disk (lstat: a symlink is 'link'). */
export type PathKind = 'dir' | 'file' | 'link' | 'other' | null;

export interface RootView {
  readonly readlink: RootReadlink;
  readonly kind: (rootRelativePath: string) => PathKind;
}

/**
 * One step of a run's setup. Paths are host paths: under the root (resolved
 * inside it by the helper), under the run's scratch directory, or on the host.
 * `temporary` is accepted and ignored: nothing a step creates outlives the run
 * (entries are made on tmpfs mounts of the run's own).
 */
export type SetupStep =
  | { readonly op: 'mkdir'; readonly path: string; readonly temporary?: boolean }
  | { readonly op: 'file'; readonly path: string; readonly temporary?: boolean }
  | { readonly op: 'symlink'; readonly path: string; readonly target: string }
  /** A copy of a host file, made executable (the emulator, copy mode). */
  | { readonly op: 'copy'; readonly from: string; readonly path: string }
  /** A new file with this content (acceleration: a wrapper script in a shadow directory being built). */
  | { readonly op: 'write'; readonly path: string; readonly text: string; readonly mode: number }
  /** Covers a directory with a tmpfs holding a bind of each of its entries, so that entries can be added for the run only. */
  | { readonly op: 'shadow'; readonly path: string }
  | { readonly op: 'mount'; readonly source: string; readonly target: string; readonly fstype: string; readonly options: string; readonly what: string }
  | { readonly op: 'register'; readonly dir: string; readonly text: string };

export function isUnder(path: string, dir: string): boolean {
  return dir === '/' ? true : path === dir || path.startsWith(`${dir}/`);
}

export function hostPath(rootDir: string, rootRelative: string): string {
  return rootRelative === '/' ? rootDir : `${rootDir}${rootRelative}`;
}

export function parentOf(path: string): string {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}

/**
 * The root as it will look while the plan runs: fresh tmpfs mounts hide what
 * is below them on disk, shadowed directories keep their entries, and entries
 * the plan creates exist.
 */
export class PlannedRoot {
  private readonly tmpfs: string[] = [];
  private readonly shadowed = new Set<string>();
  private readonly created = new Map<string, { kind: 'dir' | 'file' | 'link'; target?: string }>();

  constructor(private readonly view: RootView) {}

  addTmpfs(path: string): void {
    this.tmpfs.push(path);
  }

  isOnTmpfs(path: string): boolean {
    return this.tmpfs.some((dir) => isUnder(path, dir) && path !== dir);
  }

  /** Whether `dir` is shadowed already; marks it so. */
  shadow(dir: string): boolean {
    const had = this.shadowed.has(dir);
    this.shadowed.add(dir);
    return had;
  }

  readonly readlink = (path: string): string | null => {
    const made = this.created.get(path);
    if (made !== undefined) return made.kind === 'link' ? made.target ?? null : null;
    if (this.isOnTmpfs(path)) return null;
    return this.view.readlink(path);
  };

  kind(path: string): PathKind {
    const made = this.created.get(path);
    if (made !== undefined) return made.kind;
    if (this.tmpfs.includes(path)) return 'dir';
    if (this.isOnTmpfs(path)) return null;
    return this.view.kind(path);
  }

  record(path: string, kind: 'dir' | 'file' | 'link', target?: string): void {
    this.created.set(path, target === undefined ? { kind } : { kind, target });
  }
}

export interface TargetResult {
  /** The resolved root-relative path, or null (see warning). */
  readonly path: string | null;
  /** Root-relative steps that make it (shadows, directories, the entry). */
  readonly steps: SetupStep[];
  readonly warning: string | null;
}

/**
 * Resolves `path` within the root and plans what is missing: parent
 * directories and the final entry (`want`). A missing entry on the root's
 * disk is made in a shadow of its parent (everything below it is then on the
 * shadow's tmpfs); on a tmpfs of the run it is simply created. Returns null
 * with a warning when an existing entry is of the wrong kind.
 */
export function ensureTarget(root: PlannedRoot, path: string, want: 'dir' | 'file', label: string): TargetResult {
  const steps: SetupStep[] = [];
  let resolved: string;
  try {
    resolved = resolveInRoot(path, root.readlink).path;
  } catch (error) {
    return { path: null, steps, warning: `${label}: ${error instanceof Error ? error.message : String(error)}; skipped` };
  }
  const parts = resolved.split('/').filter((part) => part !== '');
  let current = '';
  for (let index = 0; index < parts.length; index++) {
    const parent = current === '' ? '/' : current;
    current += `/${parts[index] ?? ''}`;
    const wanted = index === parts.length - 1 ? want : 'dir';
    const kind = root.kind(current);
    if (kind === null) {
      if (!root.isOnTmpfs(current) && !root.shadow(parent)) steps.push({ op: 'shadow', path: parent });
      steps.push({ op: wanted === 'dir' ? 'mkdir' : 'file', path: current });
      root.record(current, wanted);
      if (wanted === 'dir') root.addTmpfs(current);
    } else if (kind !== wanted) {
      return { path: null, steps: [], warning: `${label}: '${current}' in the root is ${kind === 'link' ? 'a symbolic link' : `a ${kind}`}, not a ${wanted}; skipped` };
    }
  }
  return { path: resolved === '' ? '/' : resolved, steps, warning: null };
}

/** Root-relative steps with host paths (mounts and registrations carry host paths already). */
export function hostPathSteps(rootDir: string, steps: readonly SetupStep[]): SetupStep[] {
  return steps.map((step) => {
    switch (step.op) {
      case 'mkdir': case 'file': case 'symlink': case 'copy': case 'write': case 'shadow':
        return { ...step, path: hostPath(rootDir, step.path) };
      case 'mount': case 'register': return step;
    }
  });
}
