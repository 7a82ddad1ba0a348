import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveArch } from '../arch/arch.ts';
import type { BinfmtEntry } from '../binfmt/entry.ts';
import { parseRegisterString } from '../binfmt/rule.ts';
import type { EmulationFacts } from './emulation.ts';
import { chooseEmulation } from './emulation.ts';
import { isCrossrootError } from '../errors.ts';

const aarch64 = resolveArch('arm64');

function entry(interpreter: string, flags: string): BinfmtEntry {
  const parsed = parseRegisterString(`:qemu-aarch64:M::${aarch64.magicText}:${aarch64.maskText}:${interpreter}:${flags}`);
  assert.ok(parsed.ok);
  return parsed.entry;
}

const base: EmulationFacts = {
  native: false,
  privateBlocker: null,
  emulator: { path: '/usr/libexec/qemu-binfmt/aarch64-binfmt-P', realPath: '/usr/bin/qemu-aarch64-static', honoursP: true },
  dynamicEmulatorOnly: null,
  hostEntry: null,
  hostInterpreterStatic: null,
  hostInterpreterInRoot: false,
};

describe('chooseEmulation', () => {
  const noF = entry('/usr/bin/qemu-aarch64-static', 'P');
  const withF = entry('/usr/bin/qemu-aarch64-static', 'POCF');
  const cases: { name: string; choice: 'auto' | 'private' | 'host' | 'bind' | 'copy'; facts: Partial<EmulationFacts>; mode: string }[] = [
    { name: 'auto prefers private', choice: 'auto', facts: { hostEntry: withF }, mode: 'private' },
    { name: 'native needs nothing', choice: 'copy', facts: { native: true }, mode: 'native' },
    { name: 'auto falls back to a host F entry', choice: 'auto', facts: { privateBlocker: 'old kernel', hostEntry: withF, hostInterpreterStatic: true }, mode: 'host' },
    { name: 'auto: F-less host entry, emulator in the root', choice: 'auto', facts: { privateBlocker: 'x', hostEntry: noF, hostInterpreterInRoot: true }, mode: 'host' },
    { name: 'auto: F-less host entry, nothing in the root -> bind', choice: 'auto', facts: { privateBlocker: 'x', hostEntry: noF }, mode: 'bind' },
    { name: 'forced copy with a host entry', choice: 'copy', facts: { hostEntry: noF }, mode: 'copy' },
    { name: 'forced bind without a host entry uses a private F-less entry', choice: 'bind', facts: {}, mode: 'bind' },
    { name: 'host F entry pinning a dynamic emulator is refused', choice: 'host', facts: { hostEntry: withF, hostInterpreterStatic: false }, mode: 'EMULATION_UNAVAILABLE' },
    { name: 'forced host without entries', choice: 'host', facts: {}, mode: 'EMULATION_UNAVAILABLE' },
    { name: 'forced private on an old kernel', choice: 'private', facts: { privateBlocker: 'Linux 6.1' }, mode: 'EMULATION_UNAVAILABLE' },
    { name: 'no static emulator at all', choice: 'auto', facts: { emulator: null }, mode: 'EMULATION_UNAVAILABLE' },
    { name: 'bind with neither host entry nor private instance', choice: 'bind', facts: { privateBlocker: 'x' }, mode: 'EMULATION_UNAVAILABLE' },
  ];
  for (const { name, choice, facts, mode } of cases) {
    test(name, () => {
      let got: string;
      try {
        got = chooseEmulation(choice, aarch64, { ...base, ...facts }).mode;
      } catch (error) {
        got = isCrossrootError(error) ? error.code : 'other';
      }
      assert.equal(got, mode);
    });
  }

  test('private registers F, C (with O) and P with the static emulator', () => {
    const decision = chooseEmulation('private', aarch64, base);
    const parsed = parseRegisterString(decision.register ?? '');
    assert.ok(parsed.ok);
    assert.equal(parsed.entry.name, 'crossroot-aarch64');
    assert.equal(parsed.entry.interpreter, '/usr/libexec/qemu-binfmt/aarch64-binfmt-P');
    assert.deepEqual(parsed.entry.flags, { P: true, O: true, C: true, F: true });
  });

  test('bind without a host entry: private entry without F, interpreter in the root', () => {
    const decision = chooseEmulation('bind', aarch64, base);
    assert.equal(decision.interpreterInRoot, '/usr/bin/qemu-aarch64-static');
    const parsed = parseRegisterString(decision.register ?? '');
    assert.ok(parsed.ok);
    assert.equal(parsed.entry.flags.F, false);
    assert.equal(parsed.entry.interpreter, '/usr/bin/qemu-aarch64-static');
  });

  test('a forced mode that cannot work carries a hint', () => {
    try {
      chooseEmulation('host', aarch64, base);
      assert.fail('expected an error');
    } catch (error) {
      assert.ok(isCrossrootError(error));
      assert.match(error.hint ?? '', /crossroot binfmt install aarch64/);
    }
  });
});
