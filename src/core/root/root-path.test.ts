import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SYMLINKS, resolveInRoot } from './root-path.ts';

/** A fake root: root-relative path -> link target. */
function readlinkFrom(links: Record<string, string>) {
  return (path: string): string | null => links[path] ?? null;
}

test('resolveInRoot keeps every resolution inside the root', () => {
  const links = readlinkFrom({
    '/bin': 'usr/bin',
    '/usr/bin/cc': '/etc/alternatives/cc',
    '/etc/alternatives/cc': '/usr/bin/gcc-12',
    '/usr/bin/escape': '../../../../etc/passwd',
    '/lib': '/usr/lib',
    '/usr/lib/ld.so': '../../../../../lib64/ld.so',
    '/lib64': 'usr/lib64',
    '/rel': 'sub/../sub/file',
  });
  const cases: [string, string][] = [
    ['/bin/ls', '/usr/bin/ls'],
    ['/bin/cc', '/usr/bin/gcc-12'],
    ['/usr/bin/escape', '/etc/passwd'],
    ['/../../../etc/shadow', '/etc/shadow'],
    ['/lib/ld.so', '/usr/lib64/ld.so'],
    ['bin/ls', '/usr/bin/ls'],
    ['/rel', '/sub/file'],
    ['/', '/'],
    ['//usr/./bin//', '/usr/bin'],
  ];
  for (const [input, expected] of cases) assert.equal(resolveInRoot(input, links).path, expected, input);
});

test('followFinal: false leaves the last link alone; cwd anchors relative paths', () => {
  const links = readlinkFrom({ '/bin': 'usr/bin', '/usr/bin/cc': 'gcc' });
  assert.equal(resolveInRoot('/bin/cc', links, { followFinal: false }).path, '/usr/bin/cc');
  assert.equal(resolveInRoot('/bin/cc', links).path, '/usr/bin/gcc');
  assert.equal(resolveInRoot('cc', links, { cwd: '/bin' }).path, '/usr/bin/gcc');
  assert.deepEqual(resolveInRoot('/bin/cc', links).links.map((link) => link.path), ['/bin', '/usr/bin/cc']);
});

test('a symlink loop throws SYMLINK_LOOP after MAX_SYMLINKS links, quickly', () => {
  let calls = 0;
  const loop = (path: string) => { calls++; return path === '/a' ? '/b' : path === '/b' ? 'a' : null; };
  assert.throws(() => resolveInRoot('/a/x', loop), { code: 'SYMLINK_LOOP' });
  assert.ok(calls <= MAX_SYMLINKS + 2, `${calls} readlink calls`);
  // Exactly MAX_SYMLINKS links is allowed.
  const chain: Record<string, string> = {};
  for (let i = 0; i < MAX_SYMLINKS; i++) chain[`/l${i}`] = `/l${i + 1}`;
  assert.equal(resolveInRoot('/l0', readlinkFrom(chain)).path, `/l${MAX_SYMLINKS}`);
  chain[`/l${MAX_SYMLINKS}`] = '/end';
  assert.throws(() => resolveInRoot('/l0', readlinkFrom(chain)), { code: 'SYMLINK_LOOP' });
});
