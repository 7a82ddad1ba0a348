// Differential test: parseElf against binutils' readelf on every ELF file of
// real Debian packages (busybox-static, libc6, coreutils) of nine
// architectures. Needs root, network (first run only), apt-get, dpkg-deb and
// readelf (binutils); `file` for the PIE cross-check.
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesSource } from '../src/core/bytes/byte-reader.ts';
import { DF_1_PIE, looksLikeElf, parseElf, summarizeElf } from '../src/core/elf/elf.ts';
import type { ElfFile } from '../src/core/elf/elf.ts';
import { openFileSource, readHead } from '../src/runner/fs/file-source.ts';
import { runProcess } from '../src/runner/process/process.ts';
import { ensureDebianPackages } from './support/debian-packages.ts';

const MIN_FILES = 200;
const BATCH = 100;

/** readelf's Machine: names (binutils get_machine_name) for the machines in the packages. */
const READELF_MACHINES: Readonly<Record<string, number>> = {
  'Intel 80386': 3,
  'MIPS R3000': 8,
  'PowerPC': 20,
  'PowerPC64': 21,
  'IBM S/390': 22,
  'ARM': 40,
  'Advanced Micro Devices X86-64': 62,
  'AArch64': 183,
  'RISC-V': 243,
};

interface ReadelfFacts {
  readonly elfClass: 32 | 64;
  readonly endian: 'little' | 'big';
  readonly osabi: number;
  readonly abiVersion: number;
  readonly machine: number;
  readonly type: string;
  readonly flags: number;
  readonly interpreter: string | null;
  readonly needed: string[];
  readonly soname: string | null;
  readonly runpath: string | null;
  readonly rpath: string | null;
  readonly flags1Pie: boolean;
  readonly buildId: string | null;
}

/** Regular files only; symlinks are neither followed nor reported. */
function walk(dir: string, out: string[]): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

function field(block: string, label: string): string {
  const match = new RegExp(`^\\s*${label}:\\s*(.*)$`, 'm').exec(block);
  if (match?.[1] === undefined) throw new Error(`readelf output has no '${label}' line:\n${block.slice(0, 2000)}`);
  return match[1].trim();
}

function bracketed(block: string, tag: string): string[] {
  const pattern = new RegExp(`^\\s*0x[0-9a-f]+ \\(${tag}\\)\\s+[^[]*\\[(.*)\\]\\s*$`, 'gm');
  return [...block.matchAll(pattern)].map((match) => match[1] ?? '');
}

function single(values: string[]): string | null {
  return values.length === 0 ? null : (values[0] ?? null);
}

export function parseReadelf(block: string): ReadelfFacts {
  const magic = field(block, 'Magic').split(/\s+/).map((byte) => parseInt(byte, 16));
  const elfClass = field(block, 'Class');
  const data = field(block, 'Data');
  const machineName = field(block, 'Machine');
  const machine = READELF_MACHINES[machineName];
  if (machine === undefined) throw new Error(`readelf machine '${machineName}' is not in the test's table`);
  const interpreter = /\[Requesting program interpreter: (.*)\]$/m.exec(block)?.[1] ?? null;
  const flags1 = /^\s*0x[0-9a-f]+ \(FLAGS_1\)\s+Flags:(.*)$/m.exec(block)?.[1] ?? '';
  return {
    elfClass: elfClass === 'ELF64' ? 64 : elfClass === 'ELF32' ? 32 : assert.fail(`class '${elfClass}'`),
    endian: data.includes('little endian') ? 'little' : data.includes('big endian') ? 'big' : assert.fail(`data '${data}'`),
    osabi: magic[7] ?? -1,
    abiVersion: magic[8] ?? -1,
    machine,
    type: field(block, 'Type').split(/\s+/)[0] ?? '',
    flags: parseInt(field(block, 'Flags').split(/[\s,]+/)[0] ?? '', 16),
    interpreter,
    needed: bracketed(block, 'NEEDED'),
    soname: single(bracketed(block, 'SONAME')),
    runpath: single(bracketed(block, 'RUNPATH')),
    rpath: single(bracketed(block, 'RPATH')),
    flags1Pie: flags1.split(/\s+/).includes('PIE'),
    buildId: /Build ID: ([0-9a-f]+)/.exec(block)?.[1] ?? null,
  };
}

/** One readelf run for many files: its output is split at the "File: PATH" lines. */
async function readelfBatch(paths: readonly string[]): Promise<Map<string, string>> {
  const result = await runProcess(['readelf', '-h', '-l', '-d', '-n', '-W', ...paths], { env: { ...process.env, LC_ALL: 'C' } });
  assert.equal(result.exitCode, 0, `readelf failed: ${result.stderr}`);
  const blocks = new Map<string, string>();
  if (paths.length === 1 && paths[0] !== undefined) {
    blocks.set(paths[0], result.stdout);
    return blocks;
  }
  const parts = result.stdout.split(/^File: (.*)$/m);
  for (let index = 1; index + 1 < parts.length; index += 2) {
    blocks.set(parts[index] ?? '', parts[index + 1] ?? '');
  }
  return blocks;
}

/** `file -b` descriptions, one line per path. */
async function fileBatch(paths: readonly string[]): Promise<string[]> {
  const result = await runProcess(['file', '-b', '--', ...paths], { env: { ...process.env, LC_ALL: 'C' } });
  assert.equal(result.exitCode, 0, `file failed: ${result.stderr}`);
  const lines = result.stdout.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, paths.length, 'file printed one line per path');
  return lines;
}

function ours(path: string): { elf: ElfFile; ms: number } {
  const source = openFileSource(path);
  try {
    const started = performance.now();
    const elf = parseElf(source);
    return { elf, ms: performance.now() - started };
  } finally {
    source.close();
  }
}

function compare(path: string, elf: ElfFile, theirs: ReadelfFacts): string[] {
  const mismatches: string[] = [];
  const check = (name: string, mine: unknown, readelf: unknown): void => {
    if (JSON.stringify(mine) !== JSON.stringify(readelf)) {
      mismatches.push(`${path}: ${name}: parseElf ${JSON.stringify(mine)}, readelf ${JSON.stringify(readelf)}`);
    }
  };
  check('class', elf.class, theirs.elfClass);
  check('endian', elf.endian, theirs.endian);
  check('osabi', elf.osabi, theirs.osabi);
  check('abiVersion', elf.abiVersion, theirs.abiVersion);
  check('machine', elf.machine, theirs.machine);
  check('type', elf.type, theirs.type);
  check('flags', elf.flags, theirs.flags);
  check('interpreter', elf.interpreter, theirs.interpreter);
  check('needed', elf.needed, theirs.needed);
  check('soname', elf.soname, theirs.soname);
  check('runpath', elf.runpath, theirs.runpath);
  check('rpath', elf.rpath, theirs.rpath);
  check('DF_1_PIE', elf.flags1 !== null && (elf.flags1 & DF_1_PIE) !== 0, theirs.flags1Pie);
  check('buildId', elf.buildId, theirs.buildId);
  if (theirs.type === 'EXEC' || theirs.type === 'DYN') check('static', elf.static, theirs.interpreter === null && theirs.needed.length === 0);
  check('problems', elf.problems, []);
  return mismatches;
}

describe('parseElf agrees with readelf on real Debian packages', { timeout: 30 * 60 * 1000 }, () => {
  it('every ELF file of busybox-static, libc6 and coreutils of nine architectures', async (t: TestContext) => {
    const trees = await ensureDebianPackages();
    const files: { path: string; arch: string }[] = [];
    for (const tree of trees) {
      for (const path of walk(tree.dir, [])) {
        if (lstatSync(path).isFile() && looksLikeElf(readHead(path, 4))) files.push({ path, arch: tree.debianArch });
      }
    }
    const mismatches: string[] = [];
    const perArch = new Map<string, number>();
    const pieVerdicts = { agree: 0, disagree: [] as string[] };
    let slowest = 0;
    const coverage = { interpreter: 0, needed: 0, soname: 0, buildId: 0, pie: 0, staticExec: 0 };
    for (let start = 0; start < files.length; start += BATCH) {
      const batch = files.slice(start, start + BATCH);
      const paths = batch.map((file) => file.path);
      const readelf = await readelfBatch(paths);
      const described = await fileBatch(paths);
      batch.forEach(({ path, arch }, index) => {
        const block = readelf.get(path);
        if (block === undefined) {
          mismatches.push(`${path}: no readelf output`);
          return;
        }
        const { elf, ms } = ours(path);
        slowest = Math.max(slowest, ms);
        // The paged file source and an in-memory source must read the same.
        assert.deepEqual(parseElf(bytesSource(readFileSync(path))), elf, `${path}: file source and bytes source disagree`);
        // scan's summary reader gives the same values as the full one.
        assert.deepEqual(summarizeElf(bytesSource(readFileSync(path))), {
          class: elf.class, endian: elf.endian, osabi: elf.osabi, type: elf.type, typeNumber: elf.typeNumber,
          machine: elf.machine, flags: elf.flags, interpreter: elf.interpreter, static: elf.static,
        }, `${path}: summarizeElf and parseElf disagree`);
        const theirs = parseReadelf(block);
        mismatches.push(...compare(path, elf, theirs));
        if (theirs.interpreter !== null) coverage.interpreter += 1;
        if (theirs.needed.length > 0) coverage.needed += 1;
        if (theirs.soname !== null) coverage.soname += 1;
        if (theirs.buildId !== null) coverage.buildId += 1;
        if (theirs.flags1Pie) coverage.pie += 1;
        if (theirs.type === 'EXEC' && theirs.interpreter === null) coverage.staticExec += 1;
        perArch.set(arch, (perArch.get(arch) ?? 0) + 1);
        // `file` says "pie executable" or "shared object" for every ET_DYN.
        const description = described[index] ?? '';
        if (elf.type === 'DYN') {
          const filePie = description.includes('pie executable');
          if (filePie === elf.pie) pieVerdicts.agree += 1;
          else pieVerdicts.disagree.push(`${path}: pie ${elf.pie}, file says '${description}'`);
        }
      });
    }
    const compared = [...perArch.values()].reduce((sum, count) => sum + count, 0);
    t.diagnostic(`compared ${compared} ELF files with readelf: ${[...perArch].map(([arch, count]) => `${arch} ${count}`).join(', ')}`);
    t.diagnostic(`PIE verdicts agreeing with file(1): ${pieVerdicts.agree} of ${pieVerdicts.agree + pieVerdicts.disagree.length} ET_DYN files`);
    t.diagnostic(`files with PT_INTERP ${coverage.interpreter}, NEEDED ${coverage.needed}, SONAME ${coverage.soname}, build-id ${coverage.buildId}, DF_1_PIE ${coverage.pie}, static EXEC ${coverage.staticExec}`);
    t.diagnostic(`slowest parseElf: ${slowest.toFixed(2)} ms`);
    assert.deepEqual(mismatches, [], `${mismatches.length} disagreements with readelf`);
    assert.deepEqual(pieVerdicts.disagree, [], 'pie disagrees with file(1)');
    assert.ok(compared >= MIN_FILES, `compared only ${compared} ELF files, expected at least ${MIN_FILES}`);
    assert.equal(perArch.size, trees.length, 'every architecture has ELF files');
    for (const [name, count] of Object.entries(coverage)) assert.ok(count > 0, `no file exercised '${name}'`);
  });
});
