// Rootless end to end: an unprivileged user, created here with subuid/subgid
// ranges of 65536 ids, creates a Debian arm64 root with `crossroot create`
// (mmdebstrap as "root" of a user namespace mapped by newuidmap/newgidmap,
// a private binfmt_misc instance for the foreign maintainer scripts) and runs
// it with `crossroot run`; then removes what it made: a managed root holding
// files of its subordinate ids (`roots rm`), and the partial trees of a failed
// and of an earlier, killed create.
// The user's package cache is seeded with copies (owned by the user) of the
// machine-level test cache's .deb files when that cache has them
// (test/support/cached-roots.ts), so only what is missing is downloaded.
// Needs root, Linux >= 6.7, uidmap, mmdebstrap, qemu-user-static, util-linux.
// Leaves nothing behind: the user, its home, its subuid/subgid lines and every
// file of its subordinate ids are removed as root from the host side.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SUITE, aptCacheDir } from '../src/core/create/create-plan.ts';
import { hostRegistrations } from './support/fake-host-binfmt.ts';
import { TEST_CACHE } from './support/cached-roots.ts';
import { mountsUnder } from '../src/runner/host/mounts.ts';
import { createUnprivilegedUser } from './support/unprivileged-user.ts';
import type { UnprivilegedUser } from './support/unprivileged-user.ts';

const base = mkdtempSync(join(tmpdir(), 'crossroot-rootless-'));
let user: UnprivilegedUser | null = null;
let registrationsBefore: string[] = [];

function theUser(): UnprivilegedUser {
  assert.ok(user !== null, 'the test user exists');
  return user;
}

/** Names in `dir`'s parent that belong to it: DIR itself and its partial/old siblings. */
function traces(dir: string): string[] {
  const name = dir.split('/').at(-1) ?? '';
  return readdirSync(join(dir, '..')).filter((entry) => entry === name || entry.startsWith(`${name}.crossroot-`));
}

/** Copies the machine-level test cache's .deb files into the user's cache, owned by the user. */
function seedPackageCache(target: UnprivilegedUser, suite: string, debianArch: string): number {
  const from = aptCacheDir(TEST_CACHE, suite, debianArch);
  const cacheRoot = join(target.home, '.cache', 'crossroot');
  const to = aptCacheDir(cacheRoot, suite, debianArch);
  mkdirSync(to, { recursive: true });
  let copied = 0;
  try {
    for (const name of readdirSync(from)) {
      if (!name.endsWith('.deb')) continue;
      copyFileSync(join(from, name), join(to, name));
      chownSync(join(to, name), target.uid, target.gid);
      copied++;
    }
  } catch { /* no machine-level cache yet: everything is downloaded */ }
  for (let dir = to; dir.startsWith(cacheRoot); dir = join(dir, '..')) chownSync(dir, target.uid, target.gid);
  return copied;
}

before(async () => {
  registrationsBefore = hostRegistrations();
  chmodSync(base, 0o755);
  user = await createUnprivilegedUser(base);
});

after(async () => {
  try {
    assert.deepEqual(user?.processes() ?? [], [], 'no process of the user or its subordinate ids is left');
    assert.deepEqual(mountsUnder(base), [], 'nothing mounted under the test directory');
  } finally {
    await user?.remove();
    // Files of subordinate ids, wherever the user left them: root removes them from the host side.
    rmSync(base, { recursive: true, force: true });
  }
  assert.deepEqual(hostRegistrations(), registrationsBefore, 'host binfmt_misc registrations unchanged');
});

test('a rootless user creates an arm64 root and runs it: root inside, the user\'s own files outside', { timeout: 30 * 60_000 }, async (t) => {
  const me = theUser();
  const version = await me.crossroot(['--version']);
  assert.equal(version.exitCode, 0, `the user runs crossroot from the repository: ${version.stderr}`);

  const seeded = seedPackageCache(me, DEFAULT_SUITE, 'arm64');
  const dir = join(me.home, 'roots', 'arm64');
  const started = performance.now();
  const create = await me.crossroot(['create', dir, '--arch', 'arm64', '--variant', 'minbase', '--json'], { timeoutMs: 25 * 60_000 });
  const seconds = (performance.now() - started) / 1000;
  assert.equal(create.exitCode, 0, create.stderr);
  const result = JSON.parse(create.stdout) as {
    dir: string; debianArch: string; suite: string; cache: { downloaded: number; packages: number }; twins: { substituted: number; refused: string | null };
  };
  t.diagnostic(`rootless create (arm64 minbase, ${DEFAULT_SUITE}): ${seconds.toFixed(1)} s; ${String(seeded)} .deb seeded from the test cache, ${String(result.cache.downloaded)} downloaded; `
    + `twins: ${String(result.twins.substituted)} programs${result.twins.refused === null ? '' : ` (${result.twins.refused})`}`);
  // A rootless create reports its twins like any other: natively, or why not.
  assert.ok(result.twins.substituted > 0 || (result.twins.refused ?? '') !== '', JSON.stringify(result.twins));
  assert.equal(result.dir, dir);
  assert.equal(result.debianArch, 'arm64');
  assert.deepEqual(traces(dir), ['arm64'], 'the partial tree was renamed into place, no sibling left');
  assert.equal(lstatSync(dir).uid, me.uid, 'the root directory belongs to the user');
  assert.equal(lstatSync(join(dir, 'usr/bin/dpkg')).uid, me.uid, 'root-owned files inside belong to the user outside');
  const marker = JSON.parse(readFileSync(join(dir, '.crossroot/root.json'), 'utf8')) as { ownerUid: number; arch: string };
  assert.equal(marker.ownerUid, me.uid);
  assert.equal(marker.arch, 'aarch64');
  assert.deepEqual(mountsUnder(dir), [], 'no mount left by the create');

  const uname = await me.crossroot(['run', dir, '--', 'uname', '-m']);
  assert.equal(uname.exitCode, 0, uname.stderr);
  assert.equal(uname.stdout, 'aarch64\n');

  const touch = await me.crossroot(['run', dir, '--', 'sh', '-c', 'id -u; touch /root/x; ls -ln /root/x']);
  assert.equal(touch.exitCode, 0, touch.stderr);
  const [id, listing] = touch.stdout.trim().split('\n');
  assert.equal(id, '0', 'root inside the root');
  assert.match(listing ?? '', /^-\S+\s+\d+\s+0\s+0\s+0\s/, 'owned by 0:0 inside');
  const outside = statSync(join(dir, 'root/x'));
  assert.equal(outside.uid, me.uid, 'owned by the user outside');
  assert.equal(outside.gid, me.gid);

  assert.deepEqual(mountsUnder(dir), [], 'no mount left by the runs');
});

test('a rootless user removes its managed root, files of its subordinate ids included (roots rm)', { timeout: 30 * 60_000 }, async (t) => {
  const me = theUser();
  const env = { CROSSROOT_HOME: join(me.home, 'crossroot-home') };
  const path = await me.crossroot(['roots', 'path', 'arm64'], { env });
  assert.equal(path.exitCode, 0, path.stderr);
  const dir = path.stdout.trim();
  // Same request as the first test: copied from the user's snapshot (in a namespace: files of subordinate ids).
  const started = performance.now();
  const create = await me.crossroot(['create', dir, '--arch', 'arm64', '--variant', 'minbase', '--json'], { env, timeoutMs: 25 * 60_000 });
  assert.equal(create.exitCode, 0, create.stderr);
  const result = JSON.parse(create.stdout) as { cache: { snapshot: boolean } };
  t.diagnostic(`second rootless create: ${((performance.now() - started) / 1000).toFixed(1)} s, from the snapshot: ${String(result.cache.snapshot)}`);

  // A directory only a subordinate id can enter: the user cannot remove it outside a namespace.
  const made = await me.crossroot(['run', dir, '--', 'sh', '-c',
    'mkdir -p /srv/private/deep && echo x > /srv/private/deep/file && chown -R 1234:1234 /srv/private && chmod 700 /srv/private /srv/private/deep'], { env });
  assert.equal(made.exitCode, 0, made.stderr);
  const owner = statSync(join(dir, 'srv/private')).uid;
  assert.equal(owner, me.subuid.start + 1233, 'uid 1234 inside is subordinate id start+1233 outside');
  const plain = await me.run(['rm', '-rf', join(dir, 'srv/private')]);
  assert.notEqual(plain.exitCode, 0, 'a plain rm by the user fails on it');

  const listed = await me.crossroot(['roots', 'list', '--json'], { env });
  assert.equal(listed.exitCode, 0, listed.stderr);
  assert.match(listed.stdout, /"debianArch": "arm64"/);
  const removed = await me.crossroot(['roots', 'rm', 'arm64'], { env });
  assert.equal(removed.exitCode, 0, removed.stderr);
  assert.equal(existsSync(dir), false, 'the managed root is gone, subordinate-id files included');
});

test('a failed rootless create leaves nothing, and removes the partial tree a killed one left', { timeout: 10 * 60_000 }, async () => {
  const me = theUser();
  const dir = join(me.home, 'roots', 'broken');
  // What a create killed by SIGKILL mid-bootstrap leaves: a partial sibling named after a dead PID,
  // holding a 0700 directory of _apt (uid 42 inside: a subordinate id outside) with a file in it.
  let deadPid = 4_000_000;
  while (existsSync(`/proc/${String(deadPid)}`)) deadPid++;
  const stale = `${dir}.crossroot-partial-${String(deadPid)}-dead`;
  const lists = join(stale, 'var/lib/apt/lists/partial');
  const file = join(lists, `deb.debian.org_debian_dists_${DEFAULT_SUITE}_InRelease`);
  mkdirSync(lists, { recursive: true });
  writeFileSync(file, 'partial download');
  for (const path of [join(me.home, 'roots'), stale, ...['var', 'var/lib', 'var/lib/apt', 'var/lib/apt/lists'].map((sub) => join(stale, sub))]) {
    chownSync(path, me.uid, me.gid);
  }
  for (const path of [lists, file]) chownSync(path, me.subuid.start + 41, me.subgid.start + 41);
  chmodSync(lists, 0o700);
  const plain = await me.run(['rm', '-rf', stale]);
  assert.notEqual(plain.exitCode, 0, 'a plain rm by the user fails on it');

  // Nothing listens on port 9: apt fails after creating its (subordinate-id) lists directories.
  const create = await me.crossroot(['create', dir, '--arch', 'arm64', '--variant', 'minbase', '--mirror', 'http://127.0.0.1:9/debian', '--json'], { timeoutMs: 5 * 60_000 });
  assert.equal(create.exitCode, 1, create.stderr);
  assert.match(create.stderr, /^crossroot: create root /m);
  assert.deepEqual(traces(dir), [], 'neither DIR, nor its own partial tree, nor the stale one is left');
  assert.deepEqual(mountsUnder(join(me.home, 'roots')), []);
});
