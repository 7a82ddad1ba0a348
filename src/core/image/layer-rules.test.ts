import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clampMtime, formatXattrDump, normalizeEntryPath, parseSourceDateEpoch, parseXattrDump, whiteoutOf } from './layer-rules.ts';

test('whiteouts: .wh.NAME removes NAME, .wh..wh..opq empties its directory', () => {
  assert.deepEqual(whiteoutOf('./etc/.wh.motd'), { kind: 'remove', target: 'etc/motd' });
  assert.deepEqual(whiteoutOf('.wh.opt'), { kind: 'remove', target: 'opt' });
  assert.deepEqual(whiteoutOf('var/cache/.wh..wh..opq'), { kind: 'opaque', dir: 'var/cache' });
  assert.equal(whiteoutOf('etc/motd'), null);
});

test('whiteouts naming ., .. or nothing are refused', () => {
  for (const path of ['etc/.wh...', 'etc/.wh..', '.wh.', 'a/.wh..wh.x']) assert.throws(() => whiteoutOf(path), /whiteout/, path);
});

test('entry paths are normalized', () => {
  assert.equal(normalizeEntryPath('./usr//bin/'), 'usr/bin');
  assert.equal(normalizeEntryPath('./'), '');
});

test('mtimes are clamped to SOURCE_DATE_EPOCH only when it is set', () => {
  assert.equal(clampMtime(2000.7, 1000), 1000);
  assert.equal(clampMtime(500.7, 1000), 500);
  assert.equal(clampMtime(2000.7, null), 2000);
  assert.equal(parseSourceDateEpoch(undefined), null);
  assert.equal(parseSourceDateEpoch('1700000000'), 1_700_000_000);
  assert.throws(() => parseSourceDateEpoch('yesterday'));
});

test('a getfattr dump parses to root-relative paths with binary values; host-only attributes are dropped', () => {
  const dump = [
    '# file: /r/usr/bin/ping', 'security.capability=0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=', '',
    '# file: /r/a\\040b', 'user.note=0saGk=', 'security.selinux=0sc3lzdGVt', '',
    '# file: /r', 'user.top=0sAA==', '',
    '# file: /elsewhere', 'user.x=0sAA==', '',
  ].join('\n');
  const map = parseXattrDump(dump, '/r');
  assert.deepEqual([...map.keys()].sort(), ['', 'a b', 'usr/bin/ping']);
  assert.equal(map.get('usr/bin/ping')?.get('security.capability')?.length, 20);
  assert.equal(map.get('a b')?.has('security.selinux'), false);
  const again = parseXattrDump(formatXattrDump([...map].map(([path, attrs]) => ({ path: path === '' ? '/r' : `/r/${path}`, attrs }))), '/r');
  assert.deepEqual([...again].map(([p, a]) => [p, [...a].map(([k, v]) => [k, [...v]])]), [...map].map(([p, a]) => [p, [...a].map(([k, v]) => [k, [...v]])]));
});
