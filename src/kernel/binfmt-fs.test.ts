import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInstance, entryExists } from './binfmt-fs.ts';

function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'crossroot-binfmt-fs-'));
  // Names are byte strings, as readInstance returns them.
  for (const [name, text] of Object.entries(files)) writeFileSync(Buffer.from(join(dir, name), 'latin1'), text, 'latin1');
  return dir;
}

test('readInstance parses fake entry files; outside binfmt_misc the order is newest mtime first', () => {
  const dir = fixture({
    register: '', status: 'disabled\n',
    'qemu-arm': 'enabled\ninterpreter /usr/bin/qemu-arm\nflags: OCF\noffset 0\nmagic 7f454c46\nmask ffffffff\n',
    wine: 'disabled\ninterpreter /usr/bin/wine\nflags: \nextension .exe\n',
    'caf\xe9': 'enabled\ninterpreter /x\xe9\nflags: P\noffset 4\nmagic 01\n',
  });
  try {
    utimesSync(join(dir, 'qemu-arm'), 1000, 1000);
    utimesSync(join(dir, 'wine'), 3000, 3000);
    utimesSync(Buffer.from(join(dir, 'caf\xe9'), 'latin1'), 2000, 2000);
    const instance = readInstance(dir);
    assert.equal(instance.enabled, false);
    assert.equal(instance.order, 'mtime');
    assert.deepEqual(instance.entries.map((entry) => entry.name), ['wine', 'caf\xe9', 'qemu-arm']);
    const [wine, cafe, qemu] = instance.entries;
    assert.deepEqual(wine, { name: 'wine', enabled: false, interpreter: '/usr/bin/wine', flags: { P: false, O: false, C: false, F: false }, type: 'extension', extension: 'exe' });
    assert.equal(cafe?.interpreter, '/x\xe9');
    assert.deepEqual(qemu?.type === 'magic' && [...(qemu.mask ?? [])], [255, 255, 255, 255]);
    assert.deepEqual(qemu?.flags, { P: false, O: true, C: true, F: true });
    assert.equal(entryExists(dir, 'caf\xe9'), true);
    assert.equal(entryExists(dir, 'nope'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readInstance: no register/status is BINFMT_NOT_MOUNTED with a mount hint; garbage is BINFMT_READ', () => {
  const empty = fixture({});
  const broken = fixture({ register: '', status: 'enabled\n', bad: 'hello\n' });
  const badStatus = fixture({ register: '', status: 'maybe\n' });
  try {
    assert.throws(() => readInstance(empty), (error: { code?: string; hint?: string }) =>
      error.code === 'BINFMT_NOT_MOUNTED' && (error.hint ?? '').includes('mount -t binfmt_misc'));
    assert.throws(() => readInstance(join(empty, 'missing')), (error: { code?: string; message?: string; hint?: string }) =>
      error.code === 'BINFMT_NOT_MOUNTED' && /does not exist/.test(error.message ?? '') && (error.hint ?? '').includes('--binfmt-dir'));
    assert.throws(() => readInstance(broken), { code: 'BINFMT_READ' });
    assert.throws(() => readInstance(badStatus), { code: 'BINFMT_READ' });
  } finally {
    for (const dir of [empty, broken, badStatus]) rmSync(dir, { recursive: true, force: true });
  }
});
