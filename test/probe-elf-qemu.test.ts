// Every probe really runs: executed by its QEMU user-mode emulator (the
// emulator is the program, the probe its argument: no binfmt_misc needed) and
// exits with the status it was built with, for two different statuses. And
// binutils' readelf decodes each header as intended.
// Needs qemu-user-static and binutils (installed by .ci/run).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProbeElf, PROBE_SPECS } from '../src/core/probe/probe-elf.ts';
import { runProcess } from '../src/runner/process/process.ts';

/** Fewer architectures than this actually run: the suite fails (a run that tests nothing must not pass). */
const MIN_ARCHES_RUN = 25;
const STATUSES = [42, 7] as const;

const work = mkdtempSync(join(tmpdir(), 'crossroot-test-probe-elf-'));
after(() => rmSync(work, { recursive: true, force: true }));

const emulatorOf = (arch: string): string => `/usr/bin/qemu-${arch}-static`;

function writeProbeFile(arch: string, status: number): string {
  const path = join(work, `${arch}-${status}`);
  writeFileSync(path, buildProbeElf(arch, status));
  chmodSync(path, 0o755);
  return path;
}

/** What `readelf -h` should print for a probe's Class / Data / Machine / Type / Flags lines. */
const READELF_MACHINE: Readonly<Record<number, string>> = {
  2: 'Sparc', 3: 'Intel 80386', 4: 'MC68000', 8: 'MIPS R3000', 15: 'HPPA', 18: 'Sparc v8+', 20: 'PowerPC',
  21: 'PowerPC64', 22: 'IBM S/390', 40: 'ARM', 42: 'Renesas / SuperH SH', 43: 'Sparc v9', 62: 'Advanced Micro Devices X86-64',
  92: 'OpenRISC 1000', 94: 'Tensilica Xtensa Processor', 164: 'QUALCOMM DSP6 Processor', 183: 'AArch64',
  189: 'Xilinx MicroBlaze', 243: 'RISC-V', 258: 'LoongArch', 0x9026: 'Alpha',
};

/** readelf's decoding of the e_flags the table chose, where it decodes them (checks the intent: armhf, n32, ELFv1...). */
const READELF_FLAG_WORDS: Partial<Record<string, readonly string[]>> = {
  arm: ['Version5 EABI', 'hard-float ABI'],
  armeb: ['Version5 EABI', 'soft-float ABI', 'BE8'],
  mips: ['o32', 'mips32r2'], mipsel: ['o32', 'mips32r2'],
  mipsn32: ['abi2', 'mips64r2'], mipsn32el: ['abi2', 'mips64r2'],
  mips64: ['mips64r2'], mips64el: ['mips64r2'],
  ppc64: ['abiv1'], ppc64le: ['abiv2'],
  riscv32: ['RVC', 'double-float ABI'], riscv64: ['RVC', 'double-float ABI'],
  loongarch64: ['DOUBLE-FLOAT', 'OBJ-v1'],
  hppa: ['PA-RISC 1.1'], sh4: ['sh4'], sh4eb: ['sh4'], sparc64: ['rmo'],
};

function field(text: string, name: string): string | undefined {
  return new RegExp(`^\\s*${name}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();
}

const ran = new Set<string>();

describe('probes under qemu-<arch>-static', () => {
  for (const spec of PROBE_SPECS) {
    it(`${spec.arch}: exits with the status it was built with`, async (t) => {
      const emulator = emulatorOf(spec.arch);
      if (!existsSync(emulator)) {
        t.skip(`${emulator} is not installed`);
        return;
      }
      for (const status of STATUSES) {
        const run = await runProcess([emulator, writeProbeFile(spec.arch, status)], { timeoutMs: 30_000 });
        assert.equal(run.signal, null, `${spec.arch} status ${status}: killed by a signal; stderr: ${run.stderr}`);
        assert.equal(run.exitCode, status, `${spec.arch} status ${status}; stderr: ${run.stderr}`);
        assert.equal(run.stdout, '');
      }
      ran.add(spec.arch);
    });
  }

  it(`at least ${MIN_ARCHES_RUN} architectures actually ran`, () => {
    assert.ok(ran.size >= MIN_ARCHES_RUN, `only ${ran.size} ran: ${[...ran].join(', ')}`);
  });
});

describe('readelf -h agrees with the probe table', () => {
  let checked = 0;
  for (const spec of PROBE_SPECS) {
    it(`${spec.arch}: class, data, machine, type, flags`, async () => {
      const run = await runProcess(['readelf', '-h', '-l', '-W', writeProbeFile(spec.arch, 42)]);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.equal(run.stderr, '', 'no readelf warnings');
      const text = run.stdout;
      assert.equal(field(text, 'Class'), spec.bits === 64 ? 'ELF64' : 'ELF32');
      assert.equal(field(text, 'Data'), `2's complement, ${spec.endian} endian`);
      assert.equal(field(text, 'Machine'), READELF_MACHINE[spec.machine]);
      assert.match(field(text, 'Type') ?? '', /^EXEC \(Executable file\)/);
      assert.equal(field(text, 'Number of program headers'), '1');
      assert.equal(field(text, 'Number of section headers'), '0');
      assert.match(field(text, 'OS/ABI') ?? '', spec.osAbi === 3 ? /GNU/ : /System V/);
      const flags = field(text, 'Flags') ?? '';
      assert.equal(Number.parseInt(flags, 16), spec.flags, flags);
      for (const word of READELF_FLAG_WORDS[spec.arch] ?? []) assert.ok(flags.includes(word), `${flags} mentions ${word}`);
      assert.match(text, /^\s*LOAD\s+0x0+ /m, 'a PT_LOAD from file offset 0');
      checked += 1;
    });
  }
  it('every probe was checked', () => {
    assert.equal(checked, PROBE_SPECS.length);
  });
});

