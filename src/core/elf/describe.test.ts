import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abiOf, elfFlagsText, osabiName } from './describe.ts';

test('osabiName: the words file(1) uses, a number for unknown ones', () => {
  assert.equal(osabiName(0), 'SYSV');
  assert.equal(osabiName(3), 'GNU/Linux');
  assert.equal(osabiName(9), 'FreeBSD');
  assert.equal(osabiName(200), 'OS ABI 200');
});

test('elfFlagsText: ARM EABI and float ABI, MIPS ISA and ABI, RISC-V, LoongArch, PowerPC64', () => {
  assert.equal(elfFlagsText(40, 32, 0x05000400), 'EABI5 hard-float');
  assert.equal(elfFlagsText(40, 32, 0x05000200), 'EABI5 soft-float');
  assert.equal(elfFlagsText(40, 32, 0x05800200), 'EABI5 soft-float BE8');
  assert.equal(elfFlagsText(40, 32, 0x00000002), 'no EABI');
  assert.equal(elfFlagsText(8, 32, 0x70001005), 'MIPS32 rel2 o32');
  assert.equal(elfFlagsText(8, 32, 0x80000025), 'MIPS64 rel2 n32');
  assert.equal(elfFlagsText(8, 64, 0x80000405), 'MIPS64 rel2 n64 NaN 2008');
  assert.equal(elfFlagsText(243, 64, 0x5), 'RVC double-float');
  assert.equal(elfFlagsText(258, 64, 0x43), 'double-float');
  assert.equal(elfFlagsText(21, 64, 2), 'ELFv2');
  assert.equal(elfFlagsText(21, 64, 0), null);
  assert.equal(elfFlagsText(62, 64, 0), null, 'x86-64 flags name nothing');
});

test('abiOf: x32 and MIPS n32, which the machine number alone does not tell', () => {
  assert.equal(abiOf(62, 32, 0), 'x32');
  assert.equal(abiOf(62, 64, 0), null);
  assert.equal(abiOf(8, 32, 0x20), 'n32');
  assert.equal(abiOf(8, 32, 0), null);
});
