// QEMU versions without running QEMU: findSection (core/elf-sections.ts)
// against readelf's section table, and qemuVersionFromFile against what each
// QEMU on this machine prints for `--version` (binfmt status shows the
// version for every emulator, and reads it from the file to save a process
// per emulator). Needs binutils (readelf); the QEMU part runs for whatever
// qemu-* binaries are in /usr/bin (.ci/run installs qemu-user-static).
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { looksLikeElf, parseElf } from '../src/core/elf/elf.ts';
import { findSection } from '../src/core/elf/sections.ts';
import { parseQemuVersion, qemuVersionFromFile } from '../src/runner/host/emulators.ts';
import { readHead, withFileSource } from '../src/runner/fs/file-source.ts';
import { runProcess } from '../src/runner/process/process.ts';
import { ensureDebianPackages } from './support/debian-packages.ts';

/** name -> [offset, size] of every section readelf lists, or null for a file without sections. */
async function readelfSections(path: string): Promise<Map<string, [number, number, string]>> {
  const run = await runProcess(['readelf', '-S', '-W', path], { env: { ...process.env, LC_ALL: 'C' } });
  assert.equal(run.exitCode, 0, run.stderr);
  const sections = new Map<string, [number, number, string]>();
  for (const line of run.stdout.split('\n')) {
    const match = /^\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(line);
    if (match?.[1] !== undefined && !sections.has(match[1])) {
      sections.set(match[1], [parseInt(match[3] ?? '', 16), parseInt(match[4] ?? '', 16), match[2] ?? '']);
    }
  }
  return sections;
}

function someElfFiles(dir: string, limit: number): string[] {
  const found: string[] = [];
  const stack = [dir];
  while (stack.length > 0 && found.length < limit) {
    const current = stack.pop() ?? '';
    for (const name of readdirSync(current).sort()) {
      const path = join(current, name);
      const stats = lstatSync(path);
      if (stats.isDirectory()) stack.push(path);
      else if (stats.isFile() && looksLikeElf(readHead(path, 4)) && found.length < limit) found.push(path);
    }
  }
  return found;
}

test('findSection agrees with readelf -S on ELF files of nine architectures', { timeout: 600_000 }, async (t: TestContext) => {
  const trees = await ensureDebianPackages();
  let compared = 0;
  for (const tree of trees) {
    for (const path of someElfFiles(tree.dir, 6)) {
      const sections = await readelfSections(path);
      withFileSource(path, (source) => {
        const elf = parseElf(source);
        for (const name of ['.rodata', '.dynstr', '.text', '.bss', '.no-such-section']) {
          const theirs = sections.get(name);
          const expected = theirs === undefined || theirs[2] === 'NOBITS' ? null
            : { offset: theirs[0], size: Math.min(theirs[1], source.size - theirs[0]) };
          assert.deepEqual(findSection(source, elf, name), expected, `${path} ${name}`);
          compared += 1;
        }
      });
    }
  }
  t.diagnostic(`compared ${compared} section lookups with readelf`);
  assert.ok(compared >= 9 * 5, `only ${compared} lookups`);
});

const qemus = existsSync('/usr/bin') ? readdirSync('/usr/bin').filter((name) => /^qemu-[a-z0-9_]+(-static)?$/.test(name)) : [];

test('qemuVersionFromFile reads what every QEMU prints for --version', { skip: qemus.length === 0 ? 'no qemu-* in /usr/bin' : false }, async (t: TestContext) => {
  for (const name of qemus) {
    const path = join('/usr/bin', name);
    const run = await runProcess([path, '--version'], { env: { ...process.env, LC_ALL: 'C' } });
    const printed = parseQemuVersion(run.stdout);
    assert.notEqual(printed, null, `${name} --version: ${run.stdout}`);
    assert.equal(qemuVersionFromFile(path), printed, name);
  }
  t.diagnostic(`compared ${qemus.length} QEMU binaries`);
});

test('qemuVersionFromFile is null for files without a QEMU banner', () => {
  for (const path of ['/bin/ls', '/usr/bin/ldd', '/nonexistent/qemu-x']) assert.equal(qemuVersionFromFile(path), null, path);
});
