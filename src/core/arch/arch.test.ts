import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ARCHITECTURES, QEMU_UPSTREAM_DIFFERENCES, EF_MIPS_ABI2, archOfElf, architecturesMatching, debianArchOf,
  headerMatches, namesOf, resolveArch, archByName, closestNames, debianPortFor,
} from './arch.ts';
import type { Architecture, ArchName } from './arch.ts';
import { CrossrootError } from '../errors.ts';

const ET_REL = 1;
const ET_EXEC = 2;
const ET_DYN = 3;
const ET_CORE = 4;

/** A minimal ELF header (52 or 64 bytes) for the given identity. */
function elfHeader(options: { bits: 32 | 64; endian: 'little' | 'big'; type: number; machine: number; osabi?: number; flags?: number }): Uint8Array {
  const size = options.bits === 64 ? 64 : 52;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer, 0, size);
  const little = options.endian === 'little';
  bytes.set([0x7f, 0x45, 0x4c, 0x46, options.bits === 64 ? 2 : 1, little ? 1 : 2, 1, options.osabi ?? 0], 0);
  view.setUint16(16, options.type, little);
  view.setUint16(18, options.machine, little);
  view.setUint32(20, 1, little);
  const flagsOffset = options.bits === 64 ? 48 : 36;
  view.setUint32(flagsOffset, options.flags ?? 0, little);
  return bytes;
}

/** The headers a real build of `arch` produces: EXEC and DYN, OSABI SYSV and GNU, n32 flag where relevant. */
function headersOf(arch: Architecture): { label: string; bytes: Uint8Array; flags: number }[] {
  const flagSets = arch.mipsAbi2 === true
    ? [EF_MIPS_ABI2, 0x80000027, 0x20000024 | EF_MIPS_ABI2]
    : arch.mipsAbi2 === false ? [0, 0x70001007, 0x50001007] : [0];
  const out = [];
  for (const type of [ET_EXEC, ET_DYN]) {
    for (const osabi of [0, 3]) {
      for (const flags of flagSets) {
        out.push({
          label: `${arch.name} type=${type} osabi=${osabi} flags=0x${flags.toString(16)}`,
          bytes: elfHeader({ bits: arch.bits, endian: arch.endian, type, machine: arch.machine, osabi, flags }),
          flags,
        });
      }
    }
  }
  return out;
}

test('the catalog holds QEMU\'s 34 targets, in upstream order, with unique names', () => {
  assert.equal(ARCHITECTURES.length, 34);
  assert.deepEqual(ARCHITECTURES.map((arch) => arch.name),
    ('i386 i486 alpha arm armeb sparc sparc32plus sparc64 ppc ppc64 ppc64le m68k mips mipsel mipsn32 mipsn32el '
      + 'mips64 mips64el sh4 sh4eb s390x aarch64 aarch64_be hppa riscv32 riscv64 xtensa xtensaeb microblaze '
      + 'microblazeel or1k x86_64 hexagon loongarch64').split(' '));
});

test('magic and mask decode to equal lengths that fit the 256-byte window', () => {
  for (const arch of ARCHITECTURES) {
    assert.equal(arch.magic.length, arch.mask.length, arch.name);
    const expected = arch.bits === 32 && arch.machine === 8 ? 40 : 20;
    assert.equal(arch.magic.length, expected, arch.name);
    assert.deepEqual([...arch.magic.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], arch.name);
  }
});

test('golden bytes: a few entries decoded byte for byte', () => {
  const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  assert.equal(hex(archByName('aarch64').magic), '7f454c460201010000000000000000000200b700');
  assert.equal(hex(archByName('aarch64').mask), 'ffffffffffffff00fffffffffffffffffeffffff');
  assert.equal(hex(archByName('ppc64le').mask), 'ffffffffffffff00fffffffffffffffffeffff00');
  assert.equal(hex(archByName('mipsel').mask),
    'ffffffffffffff0000fffffffffffffffeffffffffffffff00000000000000000000000020000000');
  assert.equal(hex(archByName('loongarch64').mask), 'fffffffffffffffc00fffffffffffffffeffffff');
  assert.equal(hex(archByName('microblaze').magic), '7f454c460102010000000000000000000002' + '00bd');
});

test('every entry matches its own headers (EXEC/DYN, OSABI 0/3, n32 flag) and no other entry does', () => {
  let checked = 0;
  for (const arch of ARCHITECTURES) {
    for (const header of headersOf(arch)) {
      const matching = architecturesMatching(header.bytes).map((entry) => entry.name);
      assert.deepEqual(matching, [arch.name], header.label);
      checked++;
    }
  }
  assert.ok(checked >= 34 * 4, `checked ${checked} headers`);
});

test('headers with a trailing zero-padded window still match (file shorter than the magic)', () => {
  // A 20-byte file: the 40-byte mips o32 rule sees zeros after it, and its flags byte must be clear.
  const head = elfHeader({ bits: 32, endian: 'little', type: ET_EXEC, machine: 8 }).subarray(0, 24);
  assert.deepEqual(architecturesMatching(head).map((a) => a.name), ['mipsel']);
  assert.deepEqual(architecturesMatching(new Uint8Array(0)), []);
});

test('REL and CORE files are not matched by any binfmt entry, but archOfElf still names them', () => {
  for (const arch of ARCHITECTURES) {
    for (const type of [ET_REL, ET_CORE]) {
      const flags = arch.mipsAbi2 === true ? EF_MIPS_ABI2 : 0;
      const bytes = elfHeader({ bits: arch.bits, endian: arch.endian, type, machine: arch.machine, flags });
      assert.deepEqual(architecturesMatching(bytes), [], `${arch.name} type ${type}`);
      assert.equal(archOfElf({ class: arch.bits, endian: arch.endian, machine: arch.machine, flags })?.name, arch.name);
    }
  }
});

test('archOfElf agrees with the magic/mask for every entry\'s own headers', () => {
  for (const arch of ARCHITECTURES) {
    for (const header of headersOf(arch)) {
      const found = archOfElf({ class: arch.bits, endian: arch.endian, machine: arch.machine, flags: header.flags });
      assert.equal(found?.name, arch.name, header.label);
      assert.ok(headerMatches(arch, header.bytes), header.label);
    }
  }
});

test('archOfElf: legacy microblaze e_machine, unknown identities', () => {
  assert.equal(archOfElf({ class: 32, endian: 'big', machine: 0xbaab, flags: 0 })?.name, 'microblaze');
  assert.equal(archOfElf({ class: 32, endian: 'little', machine: 0xbaab, flags: 0 })?.name, 'microblazeel');
  assert.equal(archOfElf({ class: 32, endian: 'little', machine: 62, flags: 0 }), null, 'x32 has no QEMU target');
  assert.equal(archOfElf({ class: 32, endian: 'big', machine: 22, flags: 0 }), null, 's390 31-bit');
  assert.equal(archOfElf({ class: 64, endian: 'little', machine: 0, flags: 0 }), null);
});

test('the fixed upstream microblaze entry never matched a big-endian header; ours does', () => {
  const upstream = QEMU_UPSTREAM_DIFFERENCES.microblaze;
  const decode = (text: string) => Uint8Array.from(text.match(/\\x[0-9a-f]{2}|[^\\]/g) ?? [],
    (token) => (token.length === 4 ? Number.parseInt(token.slice(2), 16) : token.charCodeAt(0)));
  const upstreamEntry = { name: 'microblaze' as const, magic: decode(upstream.magic), mask: decode(upstream.mask) };
  for (const type of [ET_EXEC, ET_DYN]) {
    for (const machine of [0xbaab, 189]) {
      const bytes = elfHeader({ bits: 32, endian: 'big', type, machine });
      assert.equal(headerMatches(upstreamEntry, bytes), false);
    }
    assert.ok(headerMatches(archByName('microblaze'), elfHeader({ bits: 32, endian: 'big', type, machine: 189 })));
  }
});

test('debianArchOf: armhf vs armel from e_flags, and the multiarch names', () => {
  const cases: [string, { class: number; endian: 'little' | 'big'; machine: number; flags: number }, string | null][] = [
    ['armhf', { class: 32, endian: 'little', machine: 40, flags: 0x05000400 }, 'armhf'],
    ['armel soft', { class: 32, endian: 'little', machine: 40, flags: 0x05000200 }, 'armel'],
    ['armel object', { class: 32, endian: 'little', machine: 40, flags: 0x05000000 }, 'armel'],
    ['EABI4', { class: 32, endian: 'little', machine: 40, flags: 0x04000000 }, null],
    ['old ABI with VFP bit', { class: 32, endian: 'little', machine: 40, flags: 0x00000400 }, null],
    ['amd64', { class: 64, endian: 'little', machine: 62, flags: 0 }, 'amd64'],
    ['i386', { class: 32, endian: 'little', machine: 3, flags: 0 }, 'i386'],
    ['arm64', { class: 64, endian: 'little', machine: 183, flags: 0 }, 'arm64'],
    ['ppc64el', { class: 64, endian: 'little', machine: 21, flags: 2 }, 'ppc64el'],
    ['ppc64', { class: 64, endian: 'big', machine: 21, flags: 1 }, 'ppc64'],
    ['s390x', { class: 64, endian: 'big', machine: 22, flags: 0 }, 's390x'],
    ['mips64el', { class: 64, endian: 'little', machine: 8, flags: 0x80000007 }, 'mips64el'],
    ['mipsel', { class: 32, endian: 'little', machine: 8, flags: 0x70001007 }, 'mipsel'],
    ['mipsn32el', { class: 32, endian: 'little', machine: 8, flags: 0x80000027 }, 'mipsn32el'],
    ['riscv64', { class: 64, endian: 'little', machine: 243, flags: 5 }, 'riscv64'],
    ['loong64', { class: 64, endian: 'little', machine: 258, flags: 0x43 }, 'loong64'],
    ['aarch64_be', { class: 64, endian: 'big', machine: 183, flags: 0 }, null],
    ['unknown', { class: 64, endian: 'little', machine: 0xffff, flags: 0 }, null],
  ];
  for (const [label, facts, expected] of cases) assert.equal(debianArchOf(facts), expected, label);
});

test('resolveArch: canonical, Debian, OCI, GNU and common spellings, any case', () => {
  const cases: [string, ArchName][] = [
    ['aarch64', 'aarch64'], ['arm64', 'aarch64'], ['ARM64', 'aarch64'], ['linux/arm64', 'aarch64'],
    ['arm64/v8', 'aarch64'], ['linux/arm64/v8', 'aarch64'], ['aarch64-linux-gnu', 'aarch64'],
    ['aarch64-unknown-linux-gnu', 'aarch64'], ['armv8', 'aarch64'],
    ['armhf', 'arm'], ['armel', 'arm'], ['linux/arm/v7', 'arm'], ['linux/arm/v6', 'arm'], ['arm/v7', 'arm'],
    ['armv7l', 'arm'], ['arm-linux-gnueabihf', 'arm'], ['arm-linux-gnueabi', 'arm'], ['linux/arm', 'arm'],
    ['amd64', 'x86_64'], ['x86-64', 'x86_64'], ['X86_64', 'x86_64'], ['linux/amd64', 'x86_64'],
    ['linux/amd64/v3', 'x86_64'], ['x86_64-pc-linux-gnu', 'x86_64'], ['x86_64-linux-gnu', 'x86_64'],
    ['i386', 'i386'], ['386', 'i386'], ['linux/386', 'i386'], ['i686', 'i386'], ['i686-linux-gnu', 'i386'],
    ['i486-linux-gnu', 'i386'], ['i486', 'i486'],
    ['ppc64el', 'ppc64le'], ['ppc64le', 'ppc64le'], ['linux/ppc64le', 'ppc64le'], ['powerpc64le-linux-gnu', 'ppc64le'],
    ['ppc64', 'ppc64'], ['powerpc', 'ppc'],
    ['s390x', 's390x'], ['linux/s390x', 's390x'], ['s390x-linux-gnu', 's390x'],
    ['riscv64', 'riscv64'], ['linux/riscv64', 'riscv64'], ['riscv64-linux-gnu', 'riscv64'],
    ['riscv64-unknown-linux-musl', 'riscv64'],
    ['mips64el', 'mips64el'], ['linux/mips64le', 'mips64el'], ['mips64el-linux-gnuabi64', 'mips64el'],
    ['mipsel', 'mipsel'], ['linux/mipsle', 'mipsel'], ['mipsel-linux-gnu', 'mipsel'],
    ['mips64el-linux-gnuabin32', 'mipsn32el'], ['mips64-linux-gnuabin32', 'mipsn32'], ['mips64-linux-gnuabi64', 'mips64'],
    ['loong64', 'loongarch64'], ['linux/loong64', 'loongarch64'], [' Aarch64 ', 'aarch64'],
  ];
  for (const [alias, name] of cases) assert.equal(resolveArch(alias).name, name, alias);
});

test('every canonical and listed name resolves to its own entry', () => {
  for (const arch of ARCHITECTURES) {
    for (const name of namesOf(arch)) assert.equal(resolveArch(name).name, arch.name, name);
    for (const name of namesOf(arch)) assert.equal(resolveArch(name.toUpperCase()).name, arch.name, name);
  }
});

test('no alias names two architectures', () => {
  const owner = new Map<string, string>();
  for (const arch of ARCHITECTURES) {
    for (const name of namesOf(arch)) {
      const previous = owner.get(name);
      assert.ok(previous === undefined || previous === arch.name, `'${name}' names both ${previous ?? ''} and ${arch.name}`);
      owner.set(name, arch.name);
    }
  }
  assert.ok(owner.size > 150, `${owner.size} names`);
});

test('unknown names throw UNKNOWN_ARCH with a hint naming the closest names', () => {
  for (const [input, nearest] of [['aarch46', 'aarch64'], ['amd46', 'amd64'], ['armfh', 'armhf'], ['ppc64lee', 'ppc64le']] as const) {
    assert.throws(() => resolveArch(input), (error: unknown) => {
      assert.ok(error instanceof CrossrootError);
      assert.equal(error.code, 'UNKNOWN_ARCH');
      assert.match(error.hint ?? '', new RegExp(`'${nearest}'`));
      return true;
    }, input);
  }
  assert.throws(() => resolveArch(''), { code: 'UNKNOWN_ARCH' });
  assert.throws(() => resolveArch('x'.repeat(10_000)), { code: 'UNKNOWN_ARCH' });
});

test('emulator and uname names', () => {
  assert.equal(archByName('i486').emulator, 'qemu-i386');
  assert.equal(archByName('aarch64').emulator, 'qemu-aarch64');
  assert.equal(archByName('arm').uname, 'armv7l');
  assert.equal(archByName('hppa').uname, 'parisc');
  for (const arch of ARCHITECTURES) assert.match(arch.emulator, /^qemu-[a-z0-9_]+$/);
});

test('closestNames: near misses of catalog and Debian names, nothing for far ones', () => {
  assert.ok(closestNames('arm65', 3).includes('arm64'), closestNames('arm65', 3).join(','));
  assert.deepEqual(closestNames('aarch46', 1), ['aarch64'], 'a transposition is one edit');
  assert.ok(closestNames('riscv46', 3).includes('riscv64'));
  assert.deepEqual(closestNames('completely-unrelated-name', 3), []);
  assert.ok(closestNames('x86', 5).length <= 5);
});

test('debianPortFor: ARMv5 and ARMv6 are armel (Docker and Debian convention), ARMv7 and plain arm armhf', () => {
  for (const name of ['linux/arm/v5', 'linux/arm/v6', 'arm/v5', 'armv6l', 'armv5tel', 'armel', 'arm-linux-gnueabi', 'LINUX/ARM/V5']) {
    assert.equal(debianPortFor(name), 'armel', name);
  }
  for (const name of ['linux/arm/v7', 'linux/arm', 'arm', 'armv7l', 'armhf', 'arm-linux-gnueabihf']) {
    assert.equal(debianPortFor(name), 'armhf', name);
  }
  assert.equal(debianPortFor('linux/arm64/v8'), 'arm64');
  assert.equal(debianPortFor('xtensa'), null, 'no Debian port');
  assert.throws(() => debianPortFor('arm65'), { code: 'UNKNOWN_ARCH' });
});
