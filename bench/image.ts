// `npm run bench -- image [ROOT]`: `crossroot export` of a root side by side
// with `tar --sort=name | gzip -n` of the same tree and with `umoci insert`
// building the same layer; then `crossroot create --from-image` side by side
// with `umoci unpack --rootless` of the same image. Wall time and peak RSS
// (GNU time's %M) of each, one after the other, ratios against the peers.
// Default ROOT: the managed arm64 root, else the cached arm64 test root.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../src/runner/process/process.ts';
import { managedRootPath } from '../src/runner/roots/roots.ts';

const BIN = fileURLToPath(new URL('../src/cli/bin.ts', import.meta.url));

interface Measured {
  readonly name: string;
  readonly seconds: number;
  readonly peakMb: number;
}

async function measure(name: string, argv: readonly string[]): Promise<Measured> {
  const result = await runProcess(['/usr/bin/time', '-f', 'TIME %e %M', ...argv], { timeoutMs: 3_600_000 });
  const line = result.stderr.split('\n').reverse().find((entry) => entry.startsWith('TIME ')) ?? '';
  if (result.exitCode !== 0) throw new Error(`${name} failed: ${result.stderr.slice(-2000)}`);
  const [, seconds = '0', kilobytes = '0'] = line.split(' ');
  return { name, seconds: Number(seconds), peakMb: Number(kilobytes) / 1024 };
}

function table(rows: readonly Measured[], against: Measured): string {
  return rows.map((row) => `  ${row.name.padEnd(44)} ${row.seconds.toFixed(1).padStart(7)} s  ${row.peakMb.toFixed(0).padStart(5)} MB peak  ${(row.seconds / against.seconds).toFixed(2)}x`).join('\n');
}

const managed = managedRootPath('arm64');
const root = process.argv[2] ?? (existsSync(join(managed, 'bin')) ? managed : '/var/cache/crossroot-test/roots/arm64');
const work = mkdtempSync(join(tmpdir(), 'crossroot-bench-image-'));
try {
  const node = [process.execPath, '--import', 'tsx', BIN];
  const image = join(work, 'root.tar');
  const layout = join(work, 'layout');
  process.stdout.write(`root: ${root}\n`);
  const tarGzip = await measure('tar --sort=name | gzip -n', ['bash', '-c', 'tar --sort=name --numeric-owner --xattrs -C "$1" -cf - . | gzip -n > "$2"', 'bench', root, join(work, 'tar.tar.gz')]);
  const exported = await measure('crossroot export (oci, gzip)', [...node, 'export', root, '--output', image, '--tag', 'bench:latest']);
  await runProcess(['umoci', 'init', '--layout', join(work, 'umoci')]);
  await runProcess(['umoci', 'new', '--image', `${join(work, 'umoci')}:bench`]);
  const umociInsert = await measure('umoci insert (same tree as one layer)', ['umoci', 'insert', '--image', `${join(work, 'umoci')}:bench`, root, '/']);
  process.stdout.write(`export (ratio against tar | gzip -n):\n${table([tarGzip, exported, umociInsert], tarGzip)}\n`);
  mkdirSync(layout);
  await runProcess(['tar', '-xf', image, '-C', layout]);
  const umociUnpack = await measure('umoci unpack --rootless', ['umoci', 'unpack', '--rootless', '--image', `${layout}:bench:latest`, join(work, 'bundle')]);
  const imported = await measure('crossroot create --from-image (layout dir)', [...node, 'create', join(work, 'imported'), '--from-image', layout]);
  const importedTar = await measure('crossroot create --from-image (tar)', [...node, 'create', join(work, 'imported-tar'), '--from-image', image]);
  process.stdout.write(`import (ratio against umoci unpack --rootless):\n${table([umociUnpack, imported, importedTar], umociUnpack)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
