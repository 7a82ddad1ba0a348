// `crossroot scan DIR... [--json]`: the ELF files under directory trees, by architecture.
import { isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { onRun } from '../context.ts';
import { addHelpSections, addJsonOption, addVerboseOption } from '../options.ts';
import { writeJson } from '../render/json.ts';
import { formatTable, plural } from '../render/table.ts';
import { scanTrees } from '../../runner/inspect/scan.ts';
import type { ScanResult } from '../../runner/inspect/scan.ts';

interface ScanOptions {
  readonly json?: boolean;
  readonly verbose?: boolean;
}

export function registerScan(program: Command, context: CliContext): void {
  const command = program.command('scan')
    .description('Count the ELF files under directory trees by architecture (regular files only, symlinks not followed).')
    .argument('<dir...>', 'directories (or files) to scan');
  addVerboseOption(command, 'also list every ELF file with its architecture');
  addJsonOption(command, 'print one JSON object: byArch counts, totals, one record per ELF file, unreadable paths');
  addHelpSections(command, {
    examples: ['crossroot scan /usr/bin', 'crossroot scan ./arm64-root --verbose', 'crossroot scan / --json | jq .byArch'],
    exitStatus: '0 everything was read; 1 something was unreadable (the scan still completes, as find(1) does); 2 usage error.',
  });
  onRun<ScanOptions>(command, context, async (dirs, options) => {
    const { io } = context;
    // Paths stay as typed in the output, unless relative to a cwd other than the process's.
    const readable = (dir: string): string => (isAbsolute(dir) || io.cwd === process.cwd() ? dir : resolve(io.cwd, dir));
    const started = performance.now();
    const result = scanTrees(dirs.map(readable));
    const seconds = (performance.now() - started) / 1000;
    if (options.json === true) writeJson(io, result);
    else {
      if (options.verbose === true) io.stdout(renderFiles(result, io.columns));
      io.stdout(renderTable(result, seconds));
    }
    for (const problem of result.errors) io.stderr(`crossroot: ${problem.message}\n`);
    // Like find(1): the scan always completes, but anything unreadable makes the exit status 1.
    return result.errors.length > 0 ? 1 : 0;
  });
}

/** One row per ELF file: architecture, Debian name, path. */
export function renderFiles(result: ScanResult, width?: number): string {
  if (result.files.length === 0) return '';
  return `${formatTable(['ARCH', 'DEBIAN', 'FILE'], result.files.map((file) => [file.arch ?? 'unknown', file.debianArch ?? '-', file.path]), { width })}\n`;
}

export function renderTable(result: ScanResult, seconds: number): string {
  const rows = new Map<string, number>();
  for (const file of result.files) {
    const key = `${file.arch ?? 'unknown'}\t${file.debianArch ?? '-'}`;
    rows.set(key, (rows.get(key) ?? 0) + 1);
  }
  const sorted = [...rows].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  const table = formatTable(['ARCH', 'DEBIAN', 'ELF FILES'], sorted.map(([key, count]) => [...key.split('\t'), String(count)]));
  const lines = [table.trimEnd()];
  const { total } = result;
  lines.push('');
  lines.push(`${plural(total.elf, 'ELF file')} among ${plural(total.files, 'regular file')} in ${plural(total.directories, 'directory', 'directories')}`
    + ` (${seconds.toFixed(2)} s)`
    + (total.unreadable > 0 ? `; ${total.unreadable} unreadable` : '')
    + (total.skippedDirectories > 0 ? `; ${total.skippedDirectories} pseudo-filesystem directories skipped` : ''));
  return `${lines.join('\n')}\n`;
}
