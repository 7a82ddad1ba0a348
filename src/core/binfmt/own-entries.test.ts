import { test } from 'node:test';
import assert from 'node:assert/strict';
import { archByName } from '../arch/arch.ts';
import { NO_FLAGS } from './entry.ts';
import { archOfEntryName, entryNameFor, isCrossrootEntry, ownEntry, ownRegisterString } from './own-entries.ts';
import { parseRegisterString } from './rule.ts';

test('ownEntry: the catalog magic and mask at offset 0, named crossroot-<arch>, C implying O', () => {
  const arch = archByName('aarch64');
  const entry = ownEntry(arch, '/usr/bin/qemu-aarch64-static', { ...NO_FLAGS, C: true, F: true });
  assert.equal(entry.name, 'crossroot-aarch64');
  assert.deepEqual(entry.flags, { P: false, O: true, C: true, F: true });
  assert.equal(entry.offset, 0);
  assert.deepEqual(entry.magic, arch.magic);
  assert.deepEqual(entry.mask, arch.mask);
  assert.equal(ownEntry(arch, '/x', NO_FLAGS, 'qemu-aarch64').name, 'qemu-aarch64');
});

test('ownRegisterString: a string the rule language reads back as the same entry', () => {
  for (const name of ['aarch64', 'arm', 'riscv64', 's390x'] as const) {
    const arch = archByName(name);
    const text = ownRegisterString(arch, `/usr/bin/${arch.emulator}-static`, { P: true, O: false, C: true, F: true });
    const parsed = parseRegisterString(text);
    assert.ok(parsed.ok, text);
    assert.deepEqual(parsed.entry, ownEntry(arch, `/usr/bin/${arch.emulator}-static`, { P: true, O: true, C: true, F: true }));
  }
});

test('entry names: crossroot owns crossroot-* and knows the architecture of its temporary names', () => {
  assert.equal(entryNameFor('arm'), 'crossroot-arm');
  assert.equal(isCrossrootEntry('crossroot-arm.next'), true);
  assert.equal(isCrossrootEntry('qemu-arm'), false);
  assert.equal(archOfEntryName('crossroot-arm.next'), 'arm');
  assert.equal(archOfEntryName('crossroot-nosuch'), null);
});
