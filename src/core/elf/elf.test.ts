import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSource } from '../bytes/byte-reader.ts';
import { DF_1_PIE, DT, ELF_LIMITS, NT_GNU_BUILD_ID, PT, isPie, looksLikeElf, parseElf, parseElfBytes, summarizeElf } from './elf.ts';
import type { ElfFile, ElfProblemCode } from './elf.ts';
import { EM, elfMachine, elfMachineName } from './machines.ts';
import { buildElf, cString, dynamicSection, note, stringTable } from '../../../test/support/elf-builder.ts';
import type { ElfSpec, SegmentSpec } from '../../../test/support/elf-builder.ts';

const hexBytes = (text: string): Uint8Array => Uint8Array.from((text.replace(/\s+/g, '').match(/../g) ?? []).map((byte) => parseInt(byte, 16)));

const problemCodes = (elf: ElfFile): ElfProblemCode[] => elf.problems.map((problem) => problem.code);

const BUILD_ID = hexBytes('0123456789abcdef0011223344556677deadbeef');

interface DynamicOptions {
  readonly bits: 32 | 64;
  readonly endian: 'little' | 'big';
  readonly type?: number;
  readonly machine?: number;
  readonly flags?: number;
  readonly interpreter?: string | null;
  readonly needed?: readonly string[];
  readonly soname?: string;
  readonly runpath?: string;
  readonly rpath?: string;
  readonly flags1?: number;
  readonly noteAlign?: number;
}

/** A dynamically linked file: PT_LOAD over everything, optional PT_INTERP, PT_DYNAMIC, PT_NOTE. */
function dynamicElf(options: DynamicOptions): Uint8Array {
  const { bits, endian } = options;
  const needed = options.needed ?? [];
  const strings = stringTable([...needed, ...[options.soname, options.runpath, options.rpath].filter((text): text is string => text !== undefined)]);
  const interpreter = options.interpreter === undefined ? '/lib/ld-linux-aarch64.so.1' : options.interpreter;
  const noteAlign = options.noteAlign ?? 4;
  const blobs: NonNullable<ElfSpec['blobs']>[number][] = [];
  if (interpreter !== null) blobs.push(['interp', () => cString(interpreter)]);
  blobs.push(['note', () => note(endian, 'GNU', NT_GNU_BUILD_ID, BUILD_ID, noteAlign)]);
  blobs.push(['dynstr', () => strings.bytes]);
  blobs.push(['dynamic', (at) => {
    const entries: [number, bigint][] = needed.map((name) => [DT.NEEDED, strings.offset(name)]);
    if (options.soname !== undefined) entries.push([DT.SONAME, strings.offset(options.soname)]);
    if (options.runpath !== undefined) entries.push([DT.RUNPATH, strings.offset(options.runpath)]);
    if (options.rpath !== undefined) entries.push([DT.RPATH, strings.offset(options.rpath)]);
    entries.push([DT.STRTAB, at('dynstr').vaddr], [DT.STRSZ, at('dynstr').size]);
    if (options.flags1 !== undefined) entries.push([DT.FLAGS_1, BigInt(options.flags1)]);
    entries.push([DT.NULL, 0n]);
    return dynamicSection(bits, endian, entries);
  }]);
  return buildElf({
    bits,
    endian,
    type: options.type ?? 3,
    machine: options.machine ?? EM.EM_AARCH64,
    flags: options.flags ?? 0,
    blobs,
    segments: (at, fileSize) => {
      const list: SegmentSpec[] = [];
      if (interpreter !== null) list.push({ type: PT.INTERP, offset: at('interp').offset, filesz: at('interp').size, align: 1n });
      list.push({ type: PT.LOAD, offset: 0n, filesz: fileSize, align: 0x1000n, flags: 5 });
      list.push({ type: PT.DYNAMIC, offset: at('dynamic').offset, filesz: at('dynamic').size, flags: 6 });
      list.push({ type: PT.NOTE, offset: at('note').offset, filesz: at('note').size, align: BigInt(noteAlign) });
      return list;
    },
  });
}

describe('looksLikeElf', () => {
  const cases: [string, Uint8Array, boolean][] = [
    ['the magic', hexBytes('7f454c46'), true],
    ['the magic and more', hexBytes('7f454c460201'), true],
    ['three bytes', hexBytes('7f454c'), false],
    ['a script', new TextEncoder().encode('#!/bin/sh\n'), false],
    ['empty', new Uint8Array(0), false],
    ['lower-case elf', hexBytes('7f656c66'), false],
  ];
  for (const [name, bytes, expected] of cases) {
    it(name, () => assert.equal(looksLikeElf(bytes), expected));
  }
});

describe('parseElf: the header', () => {
  it('rejects what is not ELF with ELF_NOT_ELF', () => {
    for (const bytes of [new Uint8Array(0), hexBytes('7f454c'), new TextEncoder().encode('#!/bin/sh\necho hi\n'), new Uint8Array(64)]) {
      assert.throws(() => parseElfBytes(bytes), { code: 'ELF_NOT_ELF' });
    }
  });

  it('rejects an unknown class or byte order with ELF_MALFORMED', () => {
    assert.throws(() => parseElfBytes(hexBytes('7f454c46 03010100 00000000 00000000'.padEnd(128, '0'))), { code: 'ELF_MALFORMED' });
    assert.throws(() => parseElfBytes(hexBytes('7f454c46 00010100 00000000 00000000'.padEnd(128, '0'))), { code: 'ELF_MALFORMED' });
    assert.throws(() => parseElfBytes(hexBytes('7f454c46 02030100 00000000 00000000'.padEnd(128, '0'))), { code: 'ELF_MALFORMED' });
  });

  it('rejects a header cut short with ELF_TRUNCATED', () => {
    const full = buildElf({ bits: 64, endian: 'little' });
    for (const length of [4, 5, 15, 16, 40, 63]) {
      assert.throws(() => parseElfBytes(full.subarray(0, length)), { code: 'ELF_TRUNCATED' });
    }
    const full32 = buildElf({ bits: 32, endian: 'big' });
    assert.throws(() => parseElfBytes(full32.subarray(0, 51)), { code: 'ELF_TRUNCATED' });
    assert.equal(parseElfBytes(full32.subarray(0, 52)).class, 32);
  });

  it('reads golden ELF64 little-endian header bytes (x86-64 static executable)', () => {
    const elf = parseElfBytes(hexBytes(`
      7f454c46 02010103 00000000 00000000
      0200 3e00 01000000 4010400000000000
      4000000000000000 b0f0000000000000
      00000000 4000 3800 0000 4000 0000 0000`));
    assert.deepEqual(
      [elf.class, elf.endian, elf.osabi, elf.abiVersion, elf.identVersion, elf.type, elf.typeNumber, elf.machine, elf.version, elf.entry, elf.phoff, elf.shoff, elf.phentsize, elf.phnum],
      [64, 'little', 3, 0, 1, 'EXEC', 2, 62, 1, 0x401040n, 64n, 0xf0b0n, 56, 0]);
    assert.equal(elf.interpreter, null);
    assert.equal(elf.static, true);
    assert.equal(elf.pie, false);
    assert.deepEqual(elf.problems, []);
  });

  it('reads golden ELF32 big-endian header bytes (MIPS, e_flags, PN 0)', () => {
    const elf = parseElfBytes(hexBytes(`
      7f454c46 01020100 00000000 00000000
      0003 0008 00000001 00400630
      00000034 00001234 70001007 0034 0020 0000 0028 0000 0000`));
    assert.deepEqual(
      [elf.class, elf.endian, elf.type, elf.machine, elf.flags, elf.entry, elf.phoff, elf.shoff, elf.phentsize],
      [32, 'big', 'DYN', 8, 0x70001007, 0x400630n, 0x34n, 0x1234n, 32]);
    assert.deepEqual(elf.programHeaders, []);
  });

  it('names e_type values and keeps the number', () => {
    const table: [number, string][] = [[0, 'NONE'], [1, 'REL'], [2, 'EXEC'], [3, 'DYN'], [4, 'CORE'], [5, 'OTHER'], [0xfe00, 'OTHER'], [0xffff, 'OTHER']];
    for (const [typeNumber, name] of table) {
      const elf = parseElfBytes(buildElf({ bits: 64, endian: 'big', type: typeNumber }));
      assert.equal(elf.type, name);
      assert.equal(elf.typeNumber, typeNumber);
      assert.equal(elf.static, name === 'EXEC' || name === 'DYN');
    }
  });
});

describe('parseElf: dynamically linked files in every class and byte order', () => {
  for (const bits of [32, 64] as const) {
    for (const endian of ['little', 'big'] as const) {
      it(`ELF${bits} ${endian}-endian PIE`, () => {
        const bytes = dynamicElf({
          bits, endian, machine: EM.EM_ARM, flags: 0x05000400,
          needed: ['libc.so.6', 'libm.so.6', 'libselinux.so.1'], runpath: '$ORIGIN/../lib', flags1: DF_1_PIE | 1,
        });
        const elf = parseElf(bytesSource(bytes));
        assert.equal(elf.class, bits);
        assert.equal(elf.endian, endian);
        assert.equal(elf.machine, 40);
        assert.equal(elf.flags, 0x05000400);
        assert.equal(elf.type, 'DYN');
        assert.equal(elf.interpreter, '/lib/ld-linux-aarch64.so.1');
        assert.deepEqual(elf.needed, ['libc.so.6', 'libm.so.6', 'libselinux.so.1']);
        assert.equal(elf.soname, null);
        assert.equal(elf.runpath, '$ORIGIN/../lib');
        assert.equal(elf.rpath, null);
        assert.equal(elf.flags1, DF_1_PIE | 1);
        assert.equal(elf.pie, true);
        assert.equal(elf.static, false);
        assert.equal(elf.dynamic, true);
        assert.equal(elf.buildId, '0123456789abcdef0011223344556677deadbeef');
        assert.deepEqual(elf.programHeaders.map((ph) => ph.type), [PT.INTERP, PT.LOAD, PT.DYNAMIC, PT.NOTE]);
        const load = elf.programHeaders[1];
        assert.equal(load?.offset, 0n);
        assert.equal(load?.vaddr, 0x400000n);
        assert.equal(load?.filesz, BigInt(bytes.length));
        assert.equal(load?.flags, 5);
        assert.deepEqual(elf.problems, []);
      });
    }
  }

  it('reads a build-id note padded to 8 bytes in a 64-bit segment aligned to 8', () => {
    const elf = parseElfBytes(dynamicElf({ bits: 64, endian: 'little', noteAlign: 8 }));
    assert.equal(elf.buildId, '0123456789abcdef0011223344556677deadbeef');
  });

  it('reads golden notes aligned to 8: a GNU property note, then the build-id (as x86-64 binutils lays them out)', () => {
    // Padding counts from the note start: the descriptor of a 4-byte name starts at 16, not 20.
    const notes = hexBytes(`
      04000000 10000000 05000000 474e5500  020000c0 04000000 03000000 00000000
      04000000 14000000 03000000 474e5500  0123456789abcdef0011223344556677deadbeef 00000000`);
    const elf = parseElfBytes(buildElf({
      bits: 64, endian: 'little', type: 3,
      blobs: [['notes', () => notes]],
      segments: (at) => [{ type: PT.NOTE, offset: at('notes').offset, filesz: at('notes').size, align: 8n }],
    }));
    assert.equal(elf.buildId, '0123456789abcdef0011223344556677deadbeef');
    assert.deepEqual(elf.problems, []);
  });
});

describe('parseElf: pie and static', () => {
  const cases: { name: string; options: DynamicOptions; pie: boolean; isStatic: boolean }[] = [
    { name: 'PIE with DF_1_PIE', options: { bits: 64, endian: 'little', flags1: DF_1_PIE, needed: ['libc.so.6'] }, pie: true, isStatic: false },
    { name: 'old PIE: PT_INTERP, no SONAME, no DF_1_PIE', options: { bits: 64, endian: 'little', needed: ['libc.so.6'] }, pie: true, isStatic: false },
    { name: 'static PIE: no PT_INTERP, DF_1_PIE', options: { bits: 64, endian: 'little', interpreter: null, flags1: DF_1_PIE }, pie: true, isStatic: true },
    { name: 'shared library', options: { bits: 64, endian: 'little', interpreter: null, soname: 'libz.so.1', needed: ['libc.so.6'] }, pie: false, isStatic: false },
    { name: 'static-PIE or ld.so (DYN, no PT_INTERP, no NEEDED)', options: { bits: 64, endian: 'little', interpreter: null, soname: 'ld-linux-x86-64.so.2', needed: [] }, pie: false, isStatic: true },
    { name: 'runnable library (libc.so.6: PT_INTERP and SONAME)', options: { bits: 64, endian: 'little', soname: 'libc.so.6', needed: ['ld-linux-x86-64.so.2'] }, pie: false, isStatic: false },
    { name: 'dynamic EXEC', options: { bits: 32, endian: 'little', type: 2, needed: ['libc.so.6'] }, pie: false, isStatic: false },
    { name: 'EXEC with DF_1_PIE is still no PIE', options: { bits: 32, endian: 'big', type: 2, flags1: DF_1_PIE }, pie: false, isStatic: false },
    { name: 'REL', options: { bits: 64, endian: 'big', type: 1, interpreter: null }, pie: false, isStatic: false },
  ];
  for (const { name, options, pie, isStatic } of cases) {
    it(name, () => {
      const elf = parseElfBytes(dynamicElf(options));
      assert.equal(elf.pie, pie);
      assert.equal(elf.static, isStatic);
      assert.deepEqual(elf.problems, []);
    });
  }

  it('isPie follows the documented rule', () => {
    assert.equal(isPie({ type: 'DYN', interpreter: null, soname: null, flags1: null }), false);
    assert.equal(isPie({ type: 'DYN', interpreter: '/lib/ld.so', soname: null, flags1: null }), true);
    assert.equal(isPie({ type: 'DYN', interpreter: '/lib/ld.so', soname: 'libc.so.6', flags1: 0 }), false);
    assert.equal(isPie({ type: 'DYN', interpreter: null, soname: 'x', flags1: DF_1_PIE }), true);
  });

  it('reads SONAME and RPATH', () => {
    const elf = parseElfBytes(dynamicElf({ bits: 32, endian: 'big', interpreter: null, soname: 'libfoo.so.2', rpath: '/opt/foo/lib', needed: ['libc.so.6'] }));
    assert.equal(elf.soname, 'libfoo.so.2');
    assert.equal(elf.rpath, '/opt/foo/lib');
    assert.equal(elf.runpath, null);
    assert.equal(elf.flags1, null);
  });
});

describe('summarizeElf: the values of parseElf at scan cost', () => {
  /** A DYN without PT_INTERP whose one DT_NEEDED is at `offset` in a 4-byte string table ("a", "b"). */
  const neededAt = (bits: 32 | 64, endian: 'little' | 'big', offset: bigint): Uint8Array => buildElf({
    bits, endian, type: 3,
    blobs: [
      ['dynstr', () => Uint8Array.of(0x61, 0, 0x62, 0)],
      ['dynamic', (at) => dynamicSection(bits, endian, [
        [DT.NEEDED, offset], [DT.STRTAB, at('dynstr').vaddr], [DT.STRSZ, 4n], [DT.NULL, 0n],
      ])],
    ],
    segments: (at, fileSize) => [
      { type: PT.LOAD, offset: 0n, filesz: fileSize },
      { type: PT.DYNAMIC, offset: at('dynamic').offset, filesz: at('dynamic').size },
    ],
  });
  const cases: { name: string; bytes: Uint8Array; isStatic: boolean }[] = [
    { name: 'PIE with NEEDED', bytes: dynamicElf({ bits: 64, endian: 'little', flags1: DF_1_PIE, needed: ['libc.so.6'] }), isStatic: false },
    { name: 'shared library, big-endian 32-bit', bytes: dynamicElf({ bits: 32, endian: 'big', interpreter: null, soname: 'libz.so.1', needed: ['libc.so.6'] }), isStatic: false },
    { name: 'static PIE', bytes: dynamicElf({ bits: 64, endian: 'big', interpreter: null, flags1: DF_1_PIE }), isStatic: true },
    { name: 'REL', bytes: dynamicElf({ bits: 64, endian: 'little', type: 1, interpreter: null }), isStatic: false },
    { name: 'NEEDED at the last byte of the string table', bytes: neededAt(64, 'little', 3n), isStatic: false },
    { name: 'NEEDED just past the string table (dropped, as parseElf drops it)', bytes: neededAt(64, 'big', 4n), isStatic: true },
    { name: 'NEEDED far past the string table, 32-bit', bytes: neededAt(32, 'little', 0xffffffffn), isStatic: true },
  ];
  for (const { name, bytes, isStatic } of cases) {
    it(name, () => {
      const elf = parseElfBytes(bytes);
      assert.equal(elf.static, isStatic);
      assert.deepEqual(summarizeElf(bytesSource(bytes)), {
        class: elf.class, endian: elf.endian, osabi: elf.osabi, type: elf.type, typeNumber: elf.typeNumber,
        machine: elf.machine, flags: elf.flags, interpreter: elf.interpreter, static: elf.static,
      });
    });
  }

  it('throws what parseElf throws for a broken header', () => {
    assert.throws(() => summarizeElf(bytesSource(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1))),
      { code: 'ELF_TRUNCATED' });
    assert.throws(() => summarizeElf(bytesSource(Uint8Array.of(1, 2, 3, 4))),
      { code: 'ELF_NOT_ELF' });
  });
});

describe('parseElf: PT_INTERP with the kernel checks', () => {
  function withInterp(bytes: Uint8Array, offset?: (fileSize: bigint, at: bigint) => bigint, filesz?: bigint): ElfFile {
    return parseElfBytes(buildElf({
      bits: 64, endian: 'little', type: 2,
      blobs: [['interp', () => bytes]],
      segments: (at, fileSize) => [{
        type: PT.INTERP,
        offset: offset === undefined ? at('interp').offset : offset(fileSize, at('interp').offset),
        filesz: filesz ?? at('interp').size,
      }],
    }));
  }

  it('accepts a NUL-terminated path of 2..4096 bytes', () => {
    const elf = withInterp(cString('/lib/ld-musl-armhf.so.1'));
    assert.equal(elf.interpreter, '/lib/ld-musl-armhf.so.1');
    assert.deepEqual(elf.problems, []);
    const shortest = withInterp(cString('x'));
    assert.equal(shortest.interpreter, 'x');
    assert.deepEqual(shortest.problems, []);
    const longest = withInterp(cString(`/${'a'.repeat(4094)}`));
    assert.equal(longest.interpreter?.length, 4095);
    assert.deepEqual(longest.problems, []);
  });

  it('reports sizes outside 2..4096 (ENOEXEC)', () => {
    assert.deepEqual(problemCodes(withInterp(Uint8Array.of(0))), ['INTERP_SIZE']);
    const long = withInterp(cString(`/${'a'.repeat(4095)}`));
    assert.deepEqual(problemCodes(long), ['INTERP_SIZE']);
    assert.equal(long.static, false);
    assert.deepEqual(problemCodes(withInterp(cString('/lib/ld.so'), undefined, 0n)), ['INTERP_SIZE']);
  });

  it('reports a path that is not NUL-terminated (ENOEXEC) and stops at an inner NUL', () => {
    const elf = withInterp(new TextEncoder().encode('/lib/ld.so'));
    assert.deepEqual(problemCodes(elf), ['INTERP_UNTERMINATED']);
    assert.equal(elf.interpreter, '/lib/ld.so');
    const inner = withInterp(hexBytes('2f610062 6300')); // "/a\0bc\0"
    assert.equal(inner.interpreter, '/a');
    assert.deepEqual(inner.problems, []);
  });

  it('reports a segment past the end of the file (EIO)', () => {
    const elf = withInterp(cString('/lib/ld.so'), (fileSize) => fileSize + 100n);
    assert.deepEqual(problemCodes(elf), ['INTERP_TRUNCATED']);
    assert.equal(elf.interpreter, '');
    const huge = withInterp(cString('/lib/ld.so'), () => 0xffffffffffff0000n);
    assert.deepEqual(problemCodes(huge), ['INTERP_TRUNCATED']);
    const straddling = withInterp(cString('/lib/ld.so'), (_size, at) => at, 100n);
    assert.deepEqual(problemCodes(straddling), ['INTERP_TRUNCATED']);
    assert.equal(straddling.interpreter, '/lib/ld.so');
  });
});

describe('parseElf: hostile program headers give partial results', () => {
  it('e_phentsize wrong for the class', () => {
    const bytes = dynamicElf({ bits: 64, endian: 'little' });
    const small = parseElfBytes(buildElfWith(bytes, { phentsize: 32 }));
    assert.deepEqual(problemCodes(small), ['PHDR_ENTSIZE']);
    assert.deepEqual(small.programHeaders, []);
    assert.equal(small.interpreter, null);
    const large = parseElfBytes(buildElfWith(bytes, { phentsize: 64 }));
    assert.ok(problemCodes(large).includes('PHDR_ENTSIZE'));
  });

  it('phnum 65535 in a small file reads only what the file holds', () => {
    const bytes = buildElfWith(dynamicElf({ bits: 64, endian: 'little' }), { phnum: 65535 });
    const started = performance.now();
    const elf = parseElfBytes(bytes);
    assert.ok(performance.now() - started < 50);
    assert.ok(problemCodes(elf).includes('PHDR_TRUNCATED'));
    assert.ok(elf.programHeaders.length <= Math.floor((bytes.length - 64) / 56));
  });

  it('phnum 65535 in a file that holds them all reads the first ELF_LIMITS.maxProgramHeaders', () => {
    const big = new Uint8Array(65535 * 56 + 64);
    big.set(buildElfWith(buildElf({ bits: 64, endian: 'little', type: 2 }), { phnum: 65535, phoff: 64n }));
    const elf = parseElfBytes(big);
    assert.equal(elf.phnum, 65535);
    assert.equal(elf.programHeaders.length, ELF_LIMITS.maxProgramHeaders);
    assert.deepEqual(problemCodes(elf), ['PHDR_TOO_MANY']);
  });

  it('e_phoff past the end of the file', () => {
    for (const phoff of [0x10000n, 0xffffffffffffffffn, 0x8000000000000000n]) {
      const elf = parseElfBytes(buildElfWith(dynamicElf({ bits: 64, endian: 'big' }), { phoff }));
      assert.deepEqual(problemCodes(elf), ['PHDR_TRUNCATED']);
      assert.deepEqual(elf.programHeaders, []);
    }
  });

  it('a dynamic segment past the end, and one cut short', () => {
    const past = parseElfBytes(buildElf({ bits: 32, endian: 'little', type: 3, segments: () => [{ type: PT.DYNAMIC, offset: 0xfffffff0n, filesz: 0xffffn }] }));
    assert.deepEqual(problemCodes(past), ['DYNAMIC_TRUNCATED']);
    const strings = stringTable(['libc.so.6']);
    const short = parseElfBytes(buildElf({
      bits: 64, endian: 'little', type: 3,
      blobs: [['dynstr', () => strings.bytes], ['dynamic', (at) => dynamicSection(64, 'little', [[DT.STRTAB, at('dynstr').vaddr], [DT.NEEDED, strings.offset('libc.so.6')]])]],
      segments: (at, fileSize) => [
        { type: PT.LOAD, offset: 0n, filesz: fileSize },
        { type: PT.DYNAMIC, offset: at('dynamic').offset, filesz: 0x100000n },
      ],
    }));
    assert.deepEqual(problemCodes(short), ['DYNAMIC_TRUNCATED']);
    assert.deepEqual(short.needed, ['libc.so.6']);
  });

  it('DT_STRTAB outside every PT_LOAD, and a DT_NEEDED past DT_STRSZ', () => {
    const strings = stringTable(['libc.so.6']);
    const unmapped = parseElfBytes(buildElf({
      bits: 64, endian: 'big', type: 3,
      blobs: [['dynstr', () => strings.bytes], ['dynamic', () => dynamicSection(64, 'big', [[DT.STRTAB, 0x7000000n], [DT.NEEDED, 1n], [DT.NULL, 0n]])]],
      segments: (at, fileSize) => [{ type: PT.LOAD, offset: 0n, filesz: fileSize }, { type: PT.DYNAMIC, offset: at('dynamic').offset, filesz: at('dynamic').size }],
    }));
    assert.deepEqual(problemCodes(unmapped), ['STRTAB_UNMAPPED']);
    assert.deepEqual(unmapped.needed, []);
    const outside = parseElfBytes(buildElf({
      bits: 64, endian: 'big', type: 3,
      blobs: [['dynstr', () => strings.bytes], ['dynamic', (at) => dynamicSection(64, 'big', [[DT.STRTAB, at('dynstr').vaddr], [DT.STRSZ, 4n], [DT.NEEDED, 1n], [DT.NEEDED, 0x7fffffffn], [DT.NULL, 0n]])]],
      segments: (at, fileSize) => [{ type: PT.LOAD, offset: 0n, filesz: fileSize }, { type: PT.DYNAMIC, offset: at('dynamic').offset, filesz: at('dynamic').size }],
    }));
    assert.deepEqual(problemCodes(outside), ['STRING_BAD', 'STRING_BAD']);
    assert.deepEqual(outside.needed, ['lib']);
  });

  it('a note whose sizes run past its segment', () => {
    const elf = parseElfBytes(buildElf({
      bits: 64, endian: 'little', type: 2,
      blobs: [['note', () => hexBytes('04000000 ffffff7f 03000000 474e5500')]],
      segments: (at) => [{ type: PT.NOTE, offset: at('note').offset, filesz: at('note').size }],
    }));
    assert.equal(elf.buildId, null);
    assert.deepEqual(problemCodes(elf), ['NOTE_MALFORMED']);
  });
});

describe('machines', () => {
  it('names the machines of the Debian and QEMU architectures', () => {
    const table: [number, string][] = [[3, 'i386'], [8, 'MIPS'], [20, 'PowerPC'], [21, 'PowerPC64'], [22, 'S390'], [40, 'ARM'], [62, 'X86-64'], [183, 'AArch64'], [243, 'RISC-V'], [258, 'LoongArch'], [0x9026, 'Alpha']];
    for (const [number, name] of table) assert.equal(elfMachineName(number), name);
    assert.equal(elfMachineName(0x1234), "machine '0x1234'");
    assert.equal(elfMachine(183)?.constant, 'EM_AARCH64');
    assert.equal(EM.EM_X86_64, 62);
  });
});

/** Rewrites e_phentsize / e_phnum / e_phoff of an existing little- or big-endian file. */
function buildElfWith(bytes: Uint8Array, change: { phentsize?: number; phnum?: number; phoff?: bigint }): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  const is64 = copy[4] === 2;
  const little = copy[5] === 1;
  const after = is64 ? 48 : 36;
  if (change.phoff !== undefined) {
    if (is64) view.setBigUint64(32, change.phoff, little); else view.setUint32(28, Number(change.phoff), little);
  }
  if (change.phentsize !== undefined) view.setUint16(after + 6, change.phentsize, little);
  if (change.phnum !== undefined) view.setUint16(after + 8, change.phnum, little);
  return copy;
}
