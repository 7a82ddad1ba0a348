// A TreeFacts of files and links for the planners' tests (pure, in memory).
import type { EntryKind, TreeFacts } from './accelerate-plan.ts';

/** A tree of files and links (every parent a directory). */
export function tree(hostDir: string, entries: Record<string, string>): TreeFacts {
  const kinds = new Map<string, EntryKind>([['/', 'dir']]);
  const links = new Map<string, string>();
  for (const [path, value] of Object.entries(entries)) {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) kinds.set(`/${parts.slice(0, i).join('/')}`, 'dir');
    if (value.startsWith('->')) { kinds.set(path, 'symlink'); links.set(path, value.slice(2)); } else kinds.set(path, 'file');
  }
  return {
    hostDir, readlink: (path) => links.get(path) ?? null, kind: (path) => kinds.get(path) ?? null,
    list: (dir) => [...kinds.keys()].filter((p) => p !== '/' && p.slice(0, p.lastIndexOf('/') || 1) === dir).map((p) => p.slice(p.lastIndexOf('/') + 1)).sort(),
    owner: () => null,
  };
}
