// Snapshots: a finished root kept in the cache and copied for the next
// identical create while the archive is unchanged (its InRelease is
// byte-identical to the one the snapshot was built from).
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { runProcess } from '../process/process.ts';
import type { NamespaceRun } from './build-namespace.ts';
import { isRoot, removeTree, runInBuildNamespace } from './build-namespace.ts';

/** Directory of the snapshot for one exact request (suite, port, variant, packages, mirror, tool). */
export function snapshotDir(root: string, key: { suite: string; debianArch: string; variant: string; includes: readonly string[]; mirror: string; tool: string }): string {
  const digest = createHash('sha256').update(JSON.stringify([key.variant, key.includes, key.mirror, key.tool])).digest('hex').slice(0, 16);
  return join(root, 'snapshots', key.suite, key.debianArch, `${key.variant}-${digest}`);
}

/** sha256 of the suite's InRelease on the mirror, or null when it cannot be fetched (offline). */
export async function fetchReleaseDigest(mirror: string, suite: string): Promise<string | null> {
  const url = `${mirror.replace(/\/+$/, '')}/dists/${suite}/InRelease`;
  try {
    if (url.startsWith('file://')) return createHash('sha256').update(readFileSync(new URL(url))).digest('hex');
    const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
    if (!response.ok) return null;
    return createHash('sha256').update(new Uint8Array(await response.arrayBuffer())).digest('hex');
  } catch {
    return null;
  }
}

/** sha256 of the InRelease apt kept in a root's lists (the one it installed from). */
export function listsReleaseDigest(root: string, suite: string): string | null {
  try {
    const lists = join(root, 'var/lib/apt/lists');
    const name = readdirSync(lists).find((file) => file.endsWith(`_dists_${suite}_InRelease`));
    return name === undefined ? null : createHash('sha256').update(readFileSync(join(lists, name))).digest('hex');
  } catch {
    return null;
  }
}

/**
 * A snapshot is current when the archive's InRelease is byte-identical to the
 * one it was built from: the same package versions would be installed. When
 * the mirror cannot be reached, the snapshot is used (a bootstrap would fail).
 */
export function snapshotIsCurrent(dir: string, releaseDigest: string | null): boolean {
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8')) as { release?: unknown };
    if (!lstatSync(join(dir, 'root')).isDirectory()) return false;
    return releaseDigest === null || meta.release === releaseDigest;
  } catch {
    return false;
  }
}

/** cp -a (reflinks where the filesystem has them); inside the build namespace when rootless, as files belong to subordinate ids. */
export async function copyTree(source: string, dest: string, onPid: (pid: number) => void): Promise<NamespaceRun> {
  const argv = ['cp', '-a', '--reflink=auto', '--', `${source}/.`, `${dest}/`];
  if (!isRoot()) return runInBuildNamespace({ register: null, binds: [], commands: [argv] }, { onPid });
  const result = await runProcess(argv, { onSpawn: onPid });
  return { ok: result.exitCode === 0, report: null, output: result.stderr, signal: result.signal };
}

export async function saveSnapshot(root: string, dir: string, releaseDigest: string | null): Promise<void> {
  if (releaseDigest === null) return;
  const staging = `${dir}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  mkdirSync(join(staging, 'root'), { recursive: true });
  const copy = await copyTree(root, join(staging, 'root'), () => { /* short */ });
  if (!copy.ok) {
    await removeTree(staging).catch(() => { /* best effort */ });
    return;
  }
  writeFileSync(join(staging, 'snapshot.json'), `${JSON.stringify({ release: releaseDigest, created: new Date().toISOString() }, null, 2)}\n`);
  const old = `${dir}.old-${process.pid}-${randomBytes(3).toString('hex')}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(staging, dir);
  await removeTree(old).catch(() => { /* best effort */ });
}
