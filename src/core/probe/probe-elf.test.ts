import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildProbeElf, isProbeArch, PROBE_ARCHES, PROBE_SPECS, probeExpectation, probeLayout, probeSpec,
  type ProbeSpec, type StatusField,
} from './probe-elf.ts';
import { architecturesMatching, ARCH_NAMES, debianArchOf } from '../arch/arch.ts';

// The 33 QEMU linux-user targets of qemu-binfmt-conf.sh (i486 runs as i386, so it has no probe).
const EXPECTED_ARCHES = [
  'aarch64', 'aarch64_be', 'alpha', 'arm', 'armeb', 'hexagon', 'hppa', 'i386', 'loongarch64', 'm68k',
  'microblaze', 'microblazeel', 'mips', 'mips64', 'mips64el', 'mipsel', 'mipsn32', 'mipsn32el', 'or1k',
  'ppc', 'ppc64', 'ppc64le', 'riscv32', 'riscv64', 's390x', 'sh4', 'sh4eb', 'sparc', 'sparc32plus',
  'sparc64', 'x86_64', 'xtensa', 'xtensaeb',
];

/** Instruction alignment the entry point must honour. */
const CODE_ALIGN: Partial<Record<string, number>> = {
  i386: 1, x86_64: 1, xtensa: 1, xtensaeb: 1, m68k: 2, s390x: 2, sh4: 2, sh4eb: 2,
};

interface ParsedProbe {
  readonly elfClass: number;
  readonly data: number;
  readonly identVersion: number;
  readonly osAbi: number;
  readonly type: number;
  readonly machine: number;
  readonly version: number;
  readonly entry: number;
  readonly phoff: number;
  readonly shoff: number;
  readonly flags: number;
  readonly ehsize: number;
  readonly phentsize: number;
  readonly phnum: number;
  readonly shnum: number;
  readonly pType: number;
  readonly pFlags: number;
  readonly pOffset: number;
  readonly pVaddr: number;
  readonly pFilesz: number;
  readonly pMemsz: number;
  readonly pAlign: number;
}

/** An independent little reader (not elf.ts): the fields the probe promises, bounds-checked. */
function parseProbe(file: Uint8Array): ParsedProbe {
  assert.ok(file.length >= 52, 'file holds an ELF32 header at least');
  const view = new DataView(file.buffer, file.byteOffset, file.length);
  const elfClass = view.getUint8(4);
  const little = view.getUint8(5) === 1;
  const u16 = (at: number): number => view.getUint16(at, little);
  const u32 = (at: number): number => view.getUint32(at, little);
  const u64 = (at: number): number => Number(view.getBigUint64(at, little));
  const is64 = elfClass === 2;
  if (is64) assert.ok(file.length >= 64, 'file holds an ELF64 header');
  const phoff = is64 ? u64(32) : u32(28);
  const phentsize = is64 ? u16(54) : u16(42);
  assert.ok(phoff + phentsize <= file.length, 'program header inside the file');
  const ph = phoff;
  return {
    elfClass,
    data: view.getUint8(5),
    identVersion: view.getUint8(6),
    osAbi: view.getUint8(7),
    type: u16(16),
    machine: u16(18),
    version: u32(20),
    entry: is64 ? u64(24) : u32(24),
    phoff,
    shoff: is64 ? u64(40) : u32(32),
    flags: is64 ? u32(48) : u32(36),
    ehsize: is64 ? u16(52) : u16(40),
    phentsize,
    phnum: is64 ? u16(56) : u16(44),
    shnum: is64 ? u16(60) : u16(48),
    pType: u32(ph),
    pFlags: is64 ? u32(ph + 4) : u32(ph + 24),
    pOffset: is64 ? u64(ph + 8) : u32(ph + 4),
    pVaddr: is64 ? u64(ph + 16) : u32(ph + 8),
    pFilesz: is64 ? u64(ph + 32) : u32(ph + 16),
    pMemsz: is64 ? u64(ph + 40) : u32(ph + 20),
    pAlign: is64 ? u64(ph + 48) : u32(ph + 28),
  };
}

function readField(bytes: Uint8Array, at: number, field: StatusField): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, field.unit);
  const little = field.order === 'little';
  const unit = field.unit === 1 ? view.getUint8(0) : field.unit === 2 ? view.getUint16(0, little) : view.getUint32(0, little);
  return Math.floor(unit / 2 ** field.shift) % 2 ** field.width;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

describe('probe table', () => {
  it('has a probe for every QEMU target except i486, each a catalog name', () => {
    assert.deepEqual([...PROBE_ARCHES].sort(), [...EXPECTED_ARCHES].sort());
    for (const arch of PROBE_ARCHES) assert.ok((ARCH_NAMES as readonly string[]).includes(arch), arch);
    assert.equal(new Set(PROBE_ARCHES).size, PROBE_ARCHES.length, 'no duplicates');
  });

  for (const spec of PROBE_SPECS) {
    it(`${spec.arch}: the status field lies inside the code and is zero in the template`, () => {
      const field = spec.statusField;
      assert.ok(field.offset >= 0 && field.offset + field.unit <= spec.code.length);
      assert.ok(field.width >= 8 && field.shift + field.width <= field.unit * 8, 'room for 0..255');
      assert.equal(readField(Uint8Array.from(spec.code), field.offset, field), 0);
      assert.ok(spec.code.every((byte) => Number.isInteger(byte) && byte >= 0 && byte <= 255));
      assert.equal(spec.loadAddress % 0x10000, 0, 'load address is a multiple of the segment alignment');
    });
  }
});

describe('buildProbeElf', () => {
  for (const spec of PROBE_SPECS) {
    it(`${spec.arch}: header, one PT_LOAD over the whole file, entry inside it`, () => {
      const file = buildProbeElf(spec.arch, 42);
      const layout = probeLayout(spec);
      const parsed = parseProbe(file);
      assert.equal(file.length, layout.fileSize);
      assert.ok(file.length <= 200, `a tiny file (${file.length} bytes)`);
      assert.deepEqual([...file.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
      assert.equal(parsed.elfClass, spec.bits === 64 ? 2 : 1);
      assert.equal(parsed.data, spec.endian === 'little' ? 1 : 2);
      assert.equal(parsed.identVersion, 1);
      assert.equal(parsed.osAbi, spec.osAbi);
      assert.equal(parsed.type, 2, 'ET_EXEC');
      assert.equal(parsed.machine, spec.machine);
      assert.equal(parsed.version, 1);
      assert.equal(parsed.flags, spec.flags);
      assert.equal(parsed.ehsize, spec.bits === 64 ? 64 : 52);
      assert.equal(parsed.phoff, parsed.ehsize);
      assert.equal(parsed.phentsize, spec.bits === 64 ? 56 : 32);
      assert.equal(parsed.phnum, 1);
      assert.equal(parsed.shoff, 0);
      assert.equal(parsed.shnum, 0);

      assert.equal(parsed.pType, 1, 'PT_LOAD');
      assert.equal(parsed.pFlags, 5, 'R+X');
      assert.equal(parsed.pOffset, 0);
      assert.equal(parsed.pVaddr, spec.loadAddress);
      assert.equal(parsed.pFilesz, file.length);
      assert.equal(parsed.pMemsz, file.length);
      assert.equal(parsed.pAlign, 0x10000);
      assert.equal(parsed.pVaddr % parsed.pAlign, parsed.pOffset % parsed.pAlign);

      const headersEnd = parsed.phoff + parsed.phentsize;
      const entryOffset = parsed.entry - parsed.pVaddr;
      assert.ok(entryOffset >= headersEnd && entryOffset < file.length, 'entry after the headers, inside the segment');
      assert.equal(entryOffset % (spec.functionDescriptor ? 8 : CODE_ALIGN[spec.arch] ?? 4), 0, 'entry aligned');
      assert.equal(layout.codeOffset + spec.code.length, file.length, 'code runs to the end of the file');
      if (spec.functionDescriptor) {
        // ELFv1: the descriptor's first doubleword is the code address; TOC and environment are 0.
        const view = new DataView(file.buffer, file.byteOffset, file.length);
        const target = Number(view.getBigUint64(entryOffset, false));
        assert.equal(target, spec.loadAddress + layout.codeOffset);
        assert.equal(view.getBigUint64(entryOffset + 8, false), 0n);
        assert.equal(view.getBigUint64(entryOffset + 16, false), 0n);
        assert.equal(entryOffset + 24, layout.codeOffset);
      } else {
        assert.equal(entryOffset, layout.codeOffset);
      }
    });

    it(`${spec.arch}: the status is patched into its field and nowhere else`, () => {
      const base = buildProbeElf(spec.arch, 0);
      const at = probeLayout(spec).codeOffset + spec.statusField.offset;
      assert.deepEqual([...base.subarray(probeLayout(spec).codeOffset)], spec.code, 'status 0 is the template');
      for (const status of [1, 7, 42, 127, 128, 200, 255]) {
        const file = buildProbeElf(spec.arch, status);
        assert.equal(file.length, base.length);
        assert.equal(readField(file, at, spec.statusField), status, `status ${status}`);
        for (let i = 0; i < file.length; i += 1) {
          if (i >= at && i < at + spec.statusField.unit) continue;
          assert.equal(file[i], base[i], `byte ${i} unchanged for status ${status}`);
        }
      }
    });

    it(`${spec.arch}: the catalog recognises the probe as '${spec.arch}' and nothing else`, () => {
      const names = architecturesMatching(buildProbeElf(spec.arch, 42)).map((arch) => arch.name);
      assert.deepEqual(names, [spec.arch]);
    });
  }

  it('arm reads as armhf (EABI5 hard-float) and mipsn32 carries EF_MIPS_ABI2', () => {
    const arm = parseProbe(buildProbeElf('arm', 1));
    assert.equal(debianArchOf({ class: 32, endian: 'little', machine: arm.machine, flags: arm.flags }), 'armhf');
    assert.equal(parseProbe(buildProbeElf('mipsn32', 1)).flags & 0x20, 0x20);
    assert.equal(parseProbe(buildProbeElf('mipsn32el', 1)).flags & 0x20, 0x20);
    assert.equal(parseProbe(buildProbeElf('mips', 1)).flags & 0x20, 0);
    assert.equal(parseProbe(buildProbeElf('sparc32plus', 1)).machine, 18);
  });

  // Golden files: these exact bytes ran under qemu-<arch>-static and exited with the status.
  const golden: readonly [string, number, string][] = [
    ['aarch64', 42,
      '7f454c460201010000000000000000000200b700010000007800400000000000' +
      '4000000000000000000000000000000000000000400038000100000000000000' +
      '0100000005000000000000000000000000004000000000000000400000000000' +
      '840000000000000084000000000000000000010000000000400580d2c80b80d2' +
      '010000d4'],
    ['ppc64', 7,
      '7f454c4602020100000000000000000000020015000000010000000010000078' +
      '0000000000000040000000000000000000000001004000380001000000000000' +
      '0000000100000005000000000000000000000000100000000000000010000000' +
      '000000000000009c000000000000009c00000000000100000000000010000090' +
      '0000000000000000000000000000000038600007380000ea44000002'],
    ['sh4eb', 200,
      '7f454c460102010000000000000000000002002a000000010040005400000034' +
      '0000000000000009003400200001000000000000000000010000000000400000' +
      '004000000000005c0000005c0000000500010000e37e737ee4c8c311'],
  ];
  for (const [arch, status, bytes] of golden) {
    it(`${arch} status ${status}: golden bytes`, () => {
      assert.equal(hex(buildProbeElf(arch, status)), bytes);
    });
  }

  it('rejects an unknown architecture with UNKNOWN_ARCH', () => {
    for (const arch of ['i486', 'amd64', '', 'nios2', 'constructor', '__proto__']) {
      assert.equal(isProbeArch(arch), false, arch);
      assert.throws(() => buildProbeElf(arch, 0), { code: 'UNKNOWN_ARCH' });
    }
  });

  it('rejects a status that is not an integer 0..255 with USAGE', () => {
    for (const status of [-1, 256, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => buildProbeElf('x86_64', status), { code: 'USAGE' }, String(status));
    }
  });

  it('probeExpectation is the low byte of the status', () => {
    assert.equal(probeExpectation(42), 42);
    assert.equal(probeExpectation(255), 255);
    assert.equal(probeExpectation(256), 0);
  });

  it('probeSpec returns the row for a name', () => {
    const spec: ProbeSpec = probeSpec('mipsn32');
    assert.equal(spec.machine, 8);
    assert.equal(spec.bits, 32);
  });
});
