// `crossroot scan DIR... [--json]`: the ELF files under directory trees, by architecture.
import { isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { onRun, writeJson } from '../context.ts';
import { scanTrees } from '../../runner/inspect/scan.ts';
import type { ScanResult } from '../../runner/inspect/scan.ts';

interface ScanOptions {
  readonly json?: boolean;
}

export function registerScan(program: Command, context: CliContext): void {
  const command = program.command('scan')
    .description('count the ELF files under directory trees by architecture (regular files only, symlinks not followed)')
    .argument('<dir...>', 'directories (or files) to scan')
    .option('--json', 'print one JSON object: byArch counts, totals, one record per ELF file, unreadable paths');
  onRun<ScanOptions>(command, context, async (dirs, options) => {
    const { io } = context;
    // Paths stay as typed in the output, unless relative to a cwd other than the process's.
    const readable = (dir: string): string => (isAbsolute(dir) || io.cwd === process.cwd() ? dir : resolve(io.cwd, dir));
    const started = performance.now();
    const result = scanTrees(dirs.map(readable));
    const seconds = (performance.now() - started) / 1000;
    if (options.json === true) writeJson(io, result);
    else io.stdout(renderTable(result, seconds));
    for (const problem of result.errors) io.stderr(`crossroot: ${problem.message}\n`);
    // Like find(1): the scan always completes, but anything unreadable makes the exit status 1.
    return result.errors.length > 0 ? 1 : 0;
  });
}

export function renderTable(result: ScanResult, seconds: number): string {
  const rows = new Map<string, number>();
  for (const file of result.files) {
    const key = `${file.arch ?? 'unknown'}\t${file.debianArch ?? '-'}`;
    rows.set(key, (rows.get(key) ?? 0) + 1);
  }
  const sorted = [...rows].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  const table = [['ARCH', 'DEBIAN', 'ELF FILES'], ...sorted.map(([key, count]) => [...key.split('\t'), String(count)])];
  const widths = [0, 1].map((column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
  const lines = table.map((row) =>
    `${(row[0] ?? '').padEnd(widths[0] ?? 0)}  ${(row[1] ?? '').padEnd(widths[1] ?? 0)}  ${row[2] ?? ''}`.trimEnd());
  const { total } = result;
  lines.push('');
  lines.push(`${total.elf} ELF files among ${total.files} regular files in ${total.directories} directories`
    + ` (${seconds.toFixed(2)} s)`
    + (total.unreadable > 0 ? `; ${total.unreadable} unreadable` : '')
    + (total.skippedDirectories > 0 ? `; ${total.skippedDirectories} pseudo-filesystem directories skipped` : ''));
  return `${lines.join('\n')}\n`;
}
