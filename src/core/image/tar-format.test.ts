import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Header } from 'tar';
import { decodePaxRecords, decodeTarHeader, encodePaxRecords, paddedSize } from './tar-format.ts';

test('PAX records round-trip values holding any byte, newlines and NULs included', () => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z.]{1,40}$/), fc.uint8Array({ maxLength: 300 })), { maxLength: 8 }),
    (records) => {
      const unique = new Map(records);
      const decoded = decodePaxRecords(encodePaxRecords([...unique]));
      assert.deepEqual([...decoded].map(([k, v]) => [k, [...v]]), [...unique].map(([k, v]) => [k, [...v]]));
    },
  ));
});

test('a PAX record length counts its own digits (9 -> 10 boundary)', () => {
  const body = encodePaxRecords([['a', new TextEncoder().encode('x'.repeat(4))]]);
  assert.equal(new TextDecoder().decode(body), '9 a=xxxx\n');
  const next = encodePaxRecords([['a', new TextEncoder().encode('x'.repeat(5))]]);
  assert.equal(new TextDecoder().decode(next), '11 a=xxxxx\n');
});

test('a ustar header written by node-tar decodes to its fields; a damaged one is refused', () => {
  const block = Buffer.alloc(512);
  new Header({ path: 'usr/bin/passwd', mode: 0o4755, uid: 0, gid: 42, size: 1234, mtime: new Date(1_700_000_000_000), type: 'File', linkpath: '' }).encode(block, 0);
  const header = decodeTarHeader(block);
  assert.deepEqual(header, { path: 'usr/bin/passwd', type: 'file', size: 1234, linkpath: '', mode: 0o4755, uid: 0, gid: 42, mtime: 1_700_000_000 });
  assert.equal(decodeTarHeader(new Uint8Array(512)), null);
  block[0] = 0x58;
  assert.throws(() => decodeTarHeader(block), /checksum/);
  assert.equal(paddedSize(1), 512);
  assert.equal(paddedSize(1024), 1024);
});
