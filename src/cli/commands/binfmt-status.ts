// `crossroot binfmt status`: every entry of the visible binfmt_misc instance
// with its fields, the architectures it covers, its owner and its health; the
// emulators on disk; and per architecture whether it is native, which entry
// handles it and whether a probe program really runs (directly and inside an
// empty root). Exit 1 when binfmt_misc is not mounted or an entry in use fails
// its probe.
import type { Command } from 'commander';
import type { CliContext, Io } from '../context.ts';
import { onRun, writeJson } from '../context.ts';
import type { ArchVerdict, EntryVerdict, HealthProblem } from '../../core/binfmt/health.ts';
import { DEFAULT_BINFMT_DIR } from '../../kernel/binfmt-fs.ts';
import type { EmulatorReport, MountedStatus, StatusReport } from '../../runner/binfmt/health.ts';
import { collectStatus } from '../../runner/binfmt/health.ts';
import { summarizeEntry } from './binfmt-check.ts';

interface StatusOptions {
  readonly binfmtDir: string;
  readonly json?: boolean;
  readonly probe: boolean;
}

/** Byte strings (latin1) from the kernel, as the UTF-8 text a terminal shows. */
function displayText(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function problemJson(problem: HealthProblem) {
  return { code: problem.code, severity: problem.severity, message: displayText(problem.message), fix: problem.fix };
}

export function entryJson(verdict: EntryVerdict) {
  const summary = summarizeEntry(verdict.entry);
  return {
    name: displayText(verdict.entry.name),
    enabled: verdict.entry.enabled,
    ...summary,
    arches: verdict.arches,
    owner: verdict.owner,
    health: {
      interpreterExists: verdict.health.interpreterExists,
      interpreterStatic: verdict.health.interpreterStatic,
      pinned: verdict.health.pinned,
      probe: verdict.health.probe,
      reason: verdict.health.reason === null ? null : displayText(verdict.health.reason),
      problems: verdict.health.problems.map(problemJson),
    },
  };
}

export function archJson(verdict: ArchVerdict) {
  return {
    arch: verdict.arch,
    native: verdict.native,
    handler: verdict.handler === null ? null : displayText(verdict.handler),
    works: verdict.works,
    reason: verdict.reason === null ? null : displayText(verdict.reason),
    problems: verdict.problems.map(problemJson),
  };
}

/** The JSON document of `binfmt status --json` (the issue's contract, plus `note`, `enabled` and `problems`). */
export function statusJson(report: StatusReport) {
  const common = { mounted: report.mounted, path: report.path, namespace: report.namespace.namespace, note: report.namespace.note };
  if (!report.mounted) return { ...common, hint: report.hint, entries: [], emulators: [], arches: [] };
  return {
    ...common,
    enabled: report.enabled,
    probed: report.verdict.arches.some((arch) => arch.probes !== null),
    nativeMethod: report.nativeMethod,
    entries: report.verdict.entries.map(entryJson),
    emulators: report.emulators.map((emulator: EmulatorReport) => ({ ...emulator })),
    arches: report.verdict.arches.map(archJson),
  };
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  return all.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
    .join('  ').trimEnd()).join('\n') + '\n';
}

function yesNo(value: boolean | null, unknown = '?'): string {
  return value === null ? unknown : value ? 'yes' : 'no';
}

function printHuman(io: Io, report: MountedStatus): void {
  const entries = report.verdict.entries;
  io.stdout(`binfmt_misc at ${report.path}: ${report.enabled ? 'enabled' : 'DISABLED'}, ${report.namespace.namespace} instance, ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}\n`);
  if (report.namespace.note !== null) io.stdout(`note: ${report.namespace.note}\n`);
  io.stdout('\n');
  if (entries.length === 0) {
    io.stdout('no entries: foreign programs fail with "exec format error" (crossroot binfmt install all)\n\n');
  } else {
    io.stdout(formatTable(['ENTRY', 'STATE', 'FLAGS', 'ARCHES', 'INTERPRETER', 'PROBE', 'REASON'], entries.map((verdict) => {
      const json = entryJson(verdict);
      const interpreter = `${json.interpreter}${json.health.interpreterStatic === false ? ' (dynamic)' : ''}${json.health.interpreterExists ? '' : ' (missing)'}`;
      return [
        `${json.name}${json.owner === 'crossroot' ? ' *' : ''}`,
        json.enabled ? 'enabled' : 'disabled',
        json.flags === '' ? '-' : json.flags,
        json.type === 'extension' ? `.${json.extension ?? ''}` : json.arches.length === 0 ? '-' : json.arches.join(','),
        interpreter,
        json.health.probe,
        json.health.reason ?? '',
      ];
    })));
    if (entries.some((verdict) => verdict.owner === 'crossroot')) io.stdout('* installed by crossroot\n');
    io.stdout('\n');
  }
  const emulators = new Map(report.emulators.map((emulator) => [emulator.arch, emulator]));
  const rows = report.verdict.arches.map((verdict) => {
    const emulator = emulators.get(verdict.arch);
    const works = verdict.works === null ? '-' : verdict.works ? 'yes' : 'NO';
    return [
      verdict.arch,
      yesNo(verdict.native),
      verdict.handler === null ? '-' : displayText(verdict.handler),
      works,
      emulator === undefined ? '-' : `${emulator.path}${emulator.static ? '' : ' (dynamic)'}${emulator.version === null ? '' : ` ${emulator.version.split(' ')[0] ?? ''}`}`,
      verdict.works === true && verdict.reason === null ? '' : displayText(verdict.reason ?? ''),
    ];
  });
  io.stdout(formatTable(['ARCH', 'NATIVE', 'HANDLER', 'WORKS', 'EMULATOR', 'REASON'], rows));
  const working = report.verdict.arches.filter((verdict) => verdict.works === true && verdict.native !== true).length;
  io.stdout(`\n${working} foreign architecture${working === 1 ? '' : 's'} run${working === 1 ? 's' : ''} directly and inside an empty root\n`);
}

/** 1 when any entry in use failed its probe; 0 otherwise. */
export function statusExitCode(report: StatusReport): number {
  if (!report.mounted) return 1;
  return report.verdict.entries.some((verdict) => verdict.health.probe === 'failed') ? 1 : 0;
}

export function registerBinfmtStatus(binfmt: Command, context: CliContext): void {
  const command = binfmt
    .command('status')
    .description('Show every binfmt_misc entry, whether it works (probes run directly and in an empty root), and the emulators on disk.')
    .option('--binfmt-dir <dir>', 'the binfmt_misc instance to read', DEFAULT_BINFMT_DIR)
    .option('--no-probe', 'do not run the probe programs (faster; works is null)')
    .option('--json', 'print one JSON document');
  onRun<StatusOptions>(command, context, async (_args, options) => {
    const { io } = context;
    const report = await collectStatus({ binfmtDir: options.binfmtDir, probe: options.probe });
    if (options.json) {
      writeJson(io, statusJson(report));
    } else if (!report.mounted) {
      io.stderr(`crossroot: binfmt_misc is not mounted at '${report.path}'\nhint: ${report.hint}\n`);
    } else {
      printHuman(io, report);
    }
    return statusExitCode(report);
  });
}
