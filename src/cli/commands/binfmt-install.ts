// `crossroot binfmt install [ARCH...|all]`: registers crossroot's entries (crossroot-<arch>) for
// foreign architectures, idempotently and without a gap, refusing what would break the host.
// The use case is runner/binfmt/install-entries.ts; this file parses and renders.
import type { Command } from 'commander';
import type { CliContext, Io } from '../context.ts';
import { onRun } from '../context.ts';
import { addBinfmtDirOption, addHelpSections, addJsonOption } from '../options.ts';
import { note, warn } from '../render/errors.ts';
import { writeJson } from '../render/json.ts';
import { formatTable } from '../render/table.ts';
import type { InstallOptions, InstallReport } from '../../runner/binfmt/install-entries.ts';
import { runInstall } from '../../runner/binfmt/install-entries.ts';
import { PRIVATE_INSTANCE_NOTE } from '../../runner/host/userns.ts';

function resultLines(report: InstallReport): string[][] {
  const rows: string[][] = [];
  for (const result of report.results) {
    rows.push([result.action, result.arch, `${result.name}${result.flags === '' ? '' : ` flags ${result.flags}`}${result.emulator === null ? '' : ` ${result.emulator}`}`]);
    const more = (text: string): void => { rows.push(['', '', text]); };
    if (result.message !== null) more(`${result.reason === null ? '' : `${result.reason}: `}${result.message}`);
    for (const overlap of result.overlaps) {
      more(`also matched by '${overlap.name}' (${overlap.interpreter}): ${overlap.winner === 'crossroot' ? `${result.name} is newer and wins` : `'${overlap.name}' is newer and wins`}`);
    }
    if (report.dryRun) for (const step of result.steps) more(step.op === 'register' ? `register ${step.registerString}` : `remove   ${step.name}`);
    if (result.persisted !== null) more(`persisted in ${result.persisted}`);
  }
  return rows;
}

function printHuman(io: Io, report: InstallReport): void {
  if (report.native.method === 'guess') {
    warn(io, `native architectures guessed (${report.native.reason ?? ''}): ${report.native.arches.join(', ')}`);
  }
  if (report.results.length === 0) io.stdout('nothing to install: no foreign architecture has an emulator on disk\n');
  else io.stdout(formatTable(null, resultLines(report), { width: io.columns }));
  if (report.instance.namespace === 'private') note(io, `${PRIVATE_INSTANCE_NOTE} (binfmt_misc at '${report.instance.dir}')`);
}

export function registerBinfmtInstall(binfmt: Command, context: CliContext): void {
  const command = binfmt
    .command('install')
    .description('Register crossroot\'s binfmt_misc entries (crossroot-<arch>) so foreign programs run under QEMU.')
    .argument('[arch...]', 'architectures by any alias (aarch64, arm64, linux/arm/v7, ...), or \'all\'')
    .option('--flags <flags>', 'binfmt_misc flags instead of the defaults (F, C, and P where the emulator honours it)')
    .option('--persist', 'also write systemd binfmt.d files so a reboot restores the entries (host instance only)')
    .option('--emulator <path>', 'use this emulator for the given architecture(s)')
    .option('--emulator-dir <dir>', 'look for emulators only in this directory')
    .option('--dry-run', 'print the plan and the register strings; change nothing')
    .option('--force', 'register even entries that match the host\'s own programs');
  addBinfmtDirOption(command);
  addJsonOption(command, 'print one JSON report: instance, native architectures, one result per architecture');
  addHelpSections(command, {
    examples: ['crossroot binfmt install arm64 riscv64', 'crossroot binfmt install all --dry-run', 'crossroot binfmt install arm64 --persist'],
    exitStatus: '0 every architecture installed or unchanged; 1 one was refused or failed; 2 usage error.',
  });
  onRun<InstallOptions & { json?: boolean }>(command, context, async (args, options) => {
    const { report, status } = await runInstall(args, options, context.io);
    if (options.json === true) writeJson(context.io, report);
    else printHuman(context.io, report);
    return status;
  });
}
