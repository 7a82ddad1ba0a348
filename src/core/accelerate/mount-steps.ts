// The setup steps that carry an acceleration plan's mounts out inside a run
// (pure): shadows of the root's directories are built in the run's scratch
// directory and bound over the originals, read-only, in the run's mount
// namespace only; and the order in which they come off again.
import type { SetupStep } from '../enter/setup-steps.ts';
import type { AccelerateMount, KeptEntry } from './accelerate-plan.ts';

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** An entry the run itself creates (a mount point, a placeholder) before the acceleration steps: root-relative. */
export interface CreatedEntry {
  readonly path: string;
  readonly kind: 'dir' | 'file' | 'symlink';
  readonly target?: string;
}

/**
 * Adds to each shadow directory the entries the run creates in it before the
 * shadow is built (an absent --bind destination or API mount point in '/'):
 * the shadow was planned from the root as it was on disk, and an entry it does
 * not replicate would vanish under it.
 */
export function withCreatedEntries(mounts: readonly AccelerateMount[], created: readonly CreatedEntry[]): AccelerateMount[] {
  return mounts.map((mount) => {
    if (mount.kind !== 'shadow-dir') return mount;
    const extra: KeptEntry[] = [];
    for (const entry of created) {
      const parent = entry.path.slice(0, Math.max(1, entry.path.lastIndexOf('/')));
      const name = entry.path.slice(entry.path.lastIndexOf('/') + 1);
      if (parent !== mount.target || name === '' || mount.keep.some((kept) => kept.name === name)) continue;
      if (extra.some((kept) => kept.name === name)) continue;
      extra.push(entry.kind === 'symlink' ? { name, kind: 'symlink', target: entry.target ?? '' } : { name, kind: entry.kind });
    }
    return extra.length === 0 ? mount : { ...mount, keep: [...mount.keep, ...extra].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
  });
}

/**
 * The plan as steps for the run's setup (core/enter/setup-steps.ts SetupStep), in
 * order, after the run's own mounts (recursive binds carry them along):
 *  - a tmpfs on `scratchDir`, an empty directory outside the root private to
 *    the run; mount(8) makes the mount points in it (X-mount.mkdir);
 *  - each shadow is built there, then put in place: a handle (a recursive
 *    bind) on the directory, a tmpfs holding one entry per original entry (a
 *    recursive bind of a directory, a bind of a file, a copy of a link) and the
 *    added ones, made read-only, then bound recursively over the directory.
 *    Built aside because `mount --all` skips a line whose target and source
 *    are already mounted (the root's /proc, a --bind destination: their
 *    replicas would be left empty), and because a half-built shadow is never
 *    visible in the root;
 *  - the read-only binds of the native tools and runtime.
 * Targets are the root's paths resolved by the planner, under `rootDir`, or
 * under `scratchDir`; mkdir/file/symlink steps only touch the scratch tmpfs.
 */
export function accelerationSteps(mounts: readonly AccelerateMount[], rootDir: string, scratchDir: string): SetupStep[] {
  const root = rootDir.endsWith('/') ? rootDir.slice(0, -1) : rootDir;
  const steps: SetupStep[] = [{ op: 'mount', what: 'acceleration scratch', source: 'crossroot-accel', target: scratchDir, fstype: 'tmpfs', options: 'mode=0700' }];
  let counter = 0;
  for (const mount of mounts) {
    const target = mount.target === '/' ? root : `${root}${mount.target}`;
    if (mount.kind === 'bind') {
      const source = mount.sourceInRoot === true ? `${root}${mount.source}` : mount.source;
      steps.push({ op: 'mount', what: `accelerate: ${mount.why}`, source, target, fstype: 'none', options: 'bind,ro' });
      continue;
    }
    const handle = `${scratchDir}/handle-${String(counter)}`;
    const shadow = `${scratchDir}/shadow-${String(counter++)}`;
    steps.push({ op: 'mount', what: `accelerate: handle on ${mount.target}`, source: target, target: handle, fstype: 'none', options: 'rbind,X-mount.mkdir=0700' });
    steps.push({ op: 'mount', what: `accelerate: shadow of ${mount.target}`, source: 'crossroot-shadow', target: shadow, fstype: 'tmpfs', options: 'mode=0755,X-mount.mkdir=0700' });
    for (const entry of mount.keep) {
      const into = join(shadow, entry.name);
      if (entry.kind === 'symlink') steps.push({ op: 'symlink', path: into, target: entry.target ?? '' });
      else {
        steps.push(entry.kind === 'dir' ? { op: 'mkdir', path: into, temporary: false } : { op: 'file', path: into, temporary: false });
        steps.push({ op: 'mount', what: `accelerate: ${mount.target} entry`, source: join(handle, entry.name), target: into, fstype: 'none', options: entry.kind === 'dir' ? 'rbind' : 'bind' });
      }
    }
    for (const entry of mount.add) {
      const at = join(shadow, entry.path);
      switch (entry.kind) {
        case 'dir': steps.push({ op: 'mkdir', path: at, temporary: false }); break;
        case 'symlink': steps.push({ op: 'symlink', path: at, target: entry.target }); break;
        case 'script': steps.push({ op: 'write', path: at, text: entry.text, mode: 0o755 }); break;
        case 'file':
          steps.push({ op: 'file', path: at, temporary: false });
          steps.push({ op: 'mount', what: `accelerate: ${entry.path}`, source: entry.from === 'root' ? `${root}${entry.source}` : entry.source, target: at, fstype: 'none', options: 'bind,ro' });
          break;
      }
    }
    steps.push({ op: 'mount', what: `accelerate: shadow of ${mount.target} read-only`, source: 'none', target: shadow, fstype: 'none', options: 'remount,ro' });
    steps.push({ op: 'mount', what: `accelerate: shadow of ${mount.target} in place`, source: shadow, target, fstype: 'none', options: 'rbind' });
  }
  return steps;
}

/**
 * What the run must unmount before it removes its temporary entries from the
 * root: the shadows (deepest first; each detaches its whole tree) and the
 * scratch tmpfs with the handles. A placeholder under a shadow is a mount point
 * in the original tree too, and cannot be removed while that copy exists.
 */
export function accelerationUnmounts(mounts: readonly AccelerateMount[], rootDir: string, scratchDir: string): string[] {
  const root = rootDir.endsWith('/') ? rootDir.slice(0, -1) : rootDir;
  const shadows = mounts.filter((mount) => mount.kind === 'shadow-dir').map((mount) => mount.target)
    .sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? -1 : 1));
  return [...shadows.map((target) => (target === '/' ? root : `${root}${target}`)), scratchDir];
}

