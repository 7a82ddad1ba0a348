// `crossroot binfmt status`: every entry of the visible binfmt_misc instance
// with its fields, the architectures it covers, its owner and its health; the
// emulators on disk; and per architecture whether it is native, which entry
// handles it and whether a probe program really runs (directly and inside an
// empty root). Exit 1 when an entry in use fails its probe, or when
// binfmt_misc is not mounted where that is an error (core/binfmt/mount-state.ts:
// a kernel without private instances; on 6.7+ it is a warning, as in doctor).
import type { Command } from 'commander';
import type { CliContext, Io } from '../context.ts';
import { onRun } from '../context.ts';
import { addBinfmtDirOption, addHelpSections, addJsonOption, addVerboseOption } from '../options.ts';
import { entryJson, statusJson } from '../render/binfmt.ts';
import { displayText, writeJson } from '../render/json.ts';
import { warn } from '../render/errors.ts';
import { painter } from '../render/style.ts';
import { formatTable, plural, wrapText } from '../render/table.ts';
import { ARCHITECTURES } from '../../core/arch/arch.ts';
import type { ArchVerdict } from '../../core/binfmt/health.ts';
import type { EmulatorReport, MountedStatus, StatusReport, UnmountedStatus } from '../../runner/binfmt/health.ts';
import { collectStatus } from '../../runner/binfmt/health.ts';

interface StatusOptions {
  readonly binfmtDir: string;
  readonly json?: boolean;
  readonly probe: boolean;
  readonly verbose?: boolean;
}

function yesNo(value: boolean | null, unknown = '?'): string {
  return value === null ? unknown : value ? 'yes' : 'no';
}

/** The first line: what state the instance is in, and the command that fixes it when one does. */
export function statusSummary(report: MountedStatus): string {
  const entries = report.verdict.entries;
  const head = `binfmt_misc at ${report.path}: ${report.enabled ? 'enabled' : 'DISABLED'}, ${report.namespace.namespace} instance, ${plural(entries.length, 'entry', 'entries')}`;
  const foreign = report.verdict.arches.filter((verdict) => verdict.native !== true);
  const working = foreign.filter((verdict) => verdict.works === true).length;
  const withEmulator = new Set(report.emulators.map((emulator) => emulator.arch));
  const missing = foreign.filter((verdict) => verdict.handler === null && withEmulator.has(verdict.arch)).length;
  if (!report.enabled) return `${head}; nothing foreign runs (fix: echo 1 > ${report.path}/status)`;
  if (missing > 0) return `${head}; ${working} foreign architectures work, ${missing} with an emulator on disk have no entry (fix: crossroot binfmt install all)`;
  return `${head}; ${plural(working, 'foreign architecture')} work${working === 1 ? 's' : ''}`;
}

function entryRows(report: MountedStatus): string[][] {
  return report.verdict.entries.map((verdict) => {
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
  });
}

/** The REASON cell: short for the common case (no entry: ENOEXEC), the full text in --json. */
function archReason(verdict: ArchVerdict): string {
  if (verdict.works === true && verdict.reason === null) return '';
  if (verdict.handler === null && verdict.native !== true) return 'no entry (ENOEXEC)';
  return displayText(verdict.reason ?? '');
}

function archRow(verdict: ArchVerdict, emulator: EmulatorReport | undefined, paint: ReturnType<typeof painter>): string[] {
  const works = verdict.works === null ? '-' : verdict.works ? 'yes' : paint('bad', 'NO');
  return [
    verdict.arch,
    yesNo(verdict.native),
    verdict.handler === null ? '-' : displayText(verdict.handler),
    works,
    emulator === undefined ? '-' : `${emulator.path}${emulator.static ? '' : ' (dynamic)'}${emulator.version === null ? '' : ` ${emulator.version.split(' ')[0] ?? ''}`}`,
    archReason(verdict),
  ];
}

function printHuman(io: Io, report: MountedStatus, all: boolean): void {
  const paint = painter(io);
  const width = io.columns;
  io.stdout(`${wrapText(statusSummary(report), width ?? Infinity).join('\n')}\n`);
  if (report.namespace.note !== null) io.stdout(`note: ${report.namespace.note}\n`);
  io.stdout('\n');
  if (report.verdict.entries.length === 0) {
    io.stdout('no entries: foreign programs fail with "exec format error" (fix: crossroot binfmt install all)\n\n');
  } else {
    io.stdout(formatTable(['ENTRY', 'STATE', 'FLAGS', 'ARCHES', 'INTERPRETER', 'PROBE', 'REASON'], entryRows(report), { width }));
    if (report.verdict.entries.some((verdict) => verdict.owner === 'crossroot')) io.stdout('* installed by crossroot\n');
    io.stdout('\n');
  }
  const emulators = new Map(report.emulators.map((emulator) => [emulator.arch, emulator]));
  // Without --verbose: the architectures that concern this host (native, handled, or with an emulator).
  const shown = report.verdict.arches.filter((verdict) => all || verdict.native === true || verdict.handler !== null || emulators.has(verdict.arch));
  io.stdout(formatTable(['ARCH', 'NATIVE', 'HANDLER', 'WORKS', 'EMULATOR', 'REASON'], shown.map((verdict) => archRow(verdict, emulators.get(verdict.arch), paint)), { width }));
  const hidden = report.verdict.arches.length - shown.length;
  if (hidden > 0) io.stdout(`(${plural(hidden, 'more architecture')} with no emulator, no entry and not native: --verbose lists them)\n`);
}

/** Not mounted: the warning (or error) on stderr, then the architectures and their emulators on disk. */
function printUnmounted(io: Io, report: UnmountedStatus, all: boolean): void {
  if (report.severity === 'error') io.stderr(`crossroot: ${report.message}\nhint: ${report.hint}\n`);
  else warn(io, `${report.message} (${report.hint})`);
  io.stdout(`binfmt_misc at ${report.path}: not mounted; ${plural(report.emulators.length, 'emulator')} on disk\n\n`);
  const emulators = new Map(report.emulators.map((emulator) => [emulator.arch, emulator]));
  const shown = ARCHITECTURES.filter((arch) => all || emulators.has(arch.name));
  io.stdout(formatTable(['ARCH', 'EMULATOR'], shown.map((arch) => {
    const emulator = emulators.get(arch.name);
    return [arch.name, emulator === undefined ? '-' : `${emulator.path}${emulator.static ? '' : ' (dynamic)'}`];
  }), { width: io.columns }));
  const hidden = ARCHITECTURES.length - shown.length;
  if (hidden > 0) io.stdout(`(${plural(hidden, 'more architecture')} with no emulator: --verbose lists them)\n`);
}

/** 1 when binfmt_misc is not mounted where that is an error, or any entry in use failed its probe; 0 otherwise. */
export function statusExitCode(report: StatusReport): number {
  if (!report.mounted) return report.severity === 'error' ? 1 : 0;
  return report.verdict.entries.some((verdict) => verdict.health.probe === 'failed') ? 1 : 0;
}

export function registerBinfmtStatus(binfmt: Command, context: CliContext): void {
  const command = binfmt
    .command('status')
    .description('Show every binfmt_misc entry, whether it works (probes run directly and in an empty root), and the emulators on disk.')
    .option('--no-probe', 'do not run the probe programs (faster; works is null)');
  addBinfmtDirOption(command, 'the binfmt_misc instance to read');
  addVerboseOption(command, 'list every architecture of the catalog, not only those with an emulator, an entry or native');
  addJsonOption(command, 'print one JSON document: entries, emulators, architectures');
  addHelpSections(command, {
    examples: ['crossroot binfmt status', 'crossroot binfmt status --no-probe --json'],
    exitStatus: '0 every entry in use works (binfmt_misc not mounted is a warning on Linux >= 6.7); 1 an entry fails its probe, or binfmt_misc is not mounted on an older kernel; 2 usage error.',
  });
  onRun<StatusOptions>(command, context, async (_args, options) => {
    const { io } = context;
    const report = await collectStatus({ binfmtDir: options.binfmtDir, probe: options.probe });
    if (options.json === true) {
      writeJson(io, statusJson(report));
    } else if (!report.mounted) {
      printUnmounted(io, report, options.verbose === true);
    } else {
      printHuman(io, report, options.verbose === true);
    }
    return statusExitCode(report);
  });
}
