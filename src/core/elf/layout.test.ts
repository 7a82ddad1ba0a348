import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DYN, EHDR, EI, NHDR, PHDR, SHDR, getNumber, getWord, setField, writeIdent, writeStruct } from './layout.ts';
import type { Struct } from './layout.ts';
import { clipToFile } from './sections.ts';

/** The fields, in offset order, cover [from, size) exactly: no gap, no overlap, nothing past the end. */
function assertTiles(name: string, struct: Struct<string>, from = 0): void {
  const fields = Object.values(struct.fields).sort((a, b) => a.at - b.at);
  let cursor = from;
  for (const field of fields) {
    assert.equal(field.at, cursor, `${name}: a field starts at ${field.at}, expected ${cursor}`);
    assert.equal(field.at % field.size, 0, `${name}: the field at ${field.at} is not aligned to its size`);
    cursor += field.size;
  }
  assert.equal(cursor, struct.size, `${name}: the fields end at ${cursor}, the structure at ${struct.size}`);
}

test('layout: every structure of both classes is tiled by its fields', () => {
  for (const bits of [32, 64] as const) {
    assertTiles(`Elf${bits}_Ehdr`, EHDR[bits], EI.NIDENT);
    assertTiles(`Elf${bits}_Phdr`, PHDR[bits]);
    assertTiles(`Elf${bits}_Shdr`, SHDR[bits]);
    assertTiles(`Elf${bits}_Dyn`, DYN[bits]);
  }
  assertTiles('Elf_Nhdr', NHDR);
});

test('layout: address-sized words are 4 bytes in ELF32 and 8 in ELF64', () => {
  for (const name of ['entry', 'phoff', 'shoff'] as const) {
    assert.equal(EHDR[32].fields[name].size, 4);
    assert.equal(EHDR[64].fields[name].size, 8);
  }
  assert.equal(PHDR[64].fields.flags.at, 4, 'p_flags is the second field of Elf64_Phdr');
  assert.equal(PHDR[32].fields.flags.at, 24, 'p_flags follows p_memsz in Elf32_Phdr');
});

test('writeStruct and the getters round-trip, reducing values to the field width', () => {
  for (const little of [true, false]) {
    const view = new DataView(new ArrayBuffer(EHDR[64].size));
    writeStruct(view, 0, EHDR[64], { machine: 183, flags: -1, entry: 0x400078n, phnum: 0x1_0001 }, little);
    assert.equal(getNumber(view, 0, EHDR[64].fields.machine, little), 183);
    assert.equal(getNumber(view, 0, EHDR[64].fields.flags, little), 0xffffffff);
    assert.equal(getWord(view, 0, EHDR[64].fields.entry, little), 0x400078n);
    assert.equal(getNumber(view, 0, EHDR[64].fields.phnum, little), 1, 'a u16 keeps the low 16 bits');
    assert.equal(getNumber(view, 0, EHDR[64].fields.shnum, little), 0, 'fields left out keep their bytes');
  }
  const view = new DataView(new ArrayBuffer(8));
  setField(view, 0, { at: 0, size: 4 }, 0x0102_0304, false);
  assert.deepEqual([...new Uint8Array(view.buffer, 0, 4)], [1, 2, 3, 4], 'big-endian byte order');
  assert.throws(() => getNumber(view, 0, { at: 0, size: 8 }, true), RangeError);
});

test('writeIdent writes the magic, class, data, version, OS ABI and ABI version', () => {
  const bytes = new Uint8Array(16);
  writeIdent(bytes, { bits: 32, endian: 'big', osabi: 3, abiVersion: 1 });
  assert.deepEqual([...bytes.subarray(0, 9)], [0x7f, 0x45, 0x4c, 0x46, 1, 2, 1, 3, 1]);
});

test('clipToFile: ranges inside, across and past the end of the file', () => {
  assert.deepEqual(clipToFile(10n, 5n, 100), { offset: 10, size: 5 });
  assert.deepEqual(clipToFile(90n, 50n, 100), { offset: 90, size: 10 });
  assert.deepEqual(clipToFile(90n, null, 100), { offset: 90, size: 10 });
  assert.equal(clipToFile(100n, 1n, 100), null);
  assert.equal(clipToFile(-1n, 1n, 100), null);
});
