// `crossroot binfmt uninstall [ARCH...|all]`: removes crossroot's own entries and their binfmt.d
// files; someone else's entry only when named exactly (`all` never touches them). The use case
// is runner/binfmt/uninstall-entries.ts; this file parses and renders.
import type { Command } from 'commander';
import type { CliContext, Io } from '../context.ts';
import { onRun } from '../context.ts';
import { addBinfmtDirOption, addHelpSections, addJsonOption } from '../options.ts';
import { note } from '../render/errors.ts';
import { writeJson } from '../render/json.ts';
import { formatTable } from '../render/table.ts';
import type { UninstallReport } from '../../runner/binfmt/uninstall-entries.ts';
import { runUninstall } from '../../runner/binfmt/uninstall-entries.ts';
import { PRIVATE_INSTANCE_NOTE } from '../../runner/host/userns.ts';

function printHuman(io: Io, report: UninstallReport): void {
  const rows: string[][] = [];
  for (const result of report.results) {
    rows.push([result.action, `${result.name ?? `(no entry for '${result.target}')`}${result.reason === null ? '' : `: ${result.reason}`}`]);
    for (const path of result.persistedRemoved) rows.push(['', `removed ${path}`]);
  }
  if (report.results.length === 0) io.stdout('nothing to remove: no crossroot entries\n');
  else io.stdout(formatTable(null, rows, { width: io.columns }));
  if (report.instance.namespace === 'private') note(io, `${PRIVATE_INSTANCE_NOTE} (binfmt_misc at '${report.instance.dir}')`);
}

export function registerBinfmtUninstall(binfmt: Command, context: CliContext): void {
  const command = binfmt
    .command('uninstall')
    .description('Remove crossroot\'s binfmt_misc entries (and their binfmt.d files); others\' entries only when named exactly.')
    .argument('[target...]', 'architectures (crossroot\'s entries for them), exact entry names, or \'all\' (crossroot\'s only)');
  addBinfmtDirOption(command);
  addJsonOption(command, 'print one JSON report: instance, one result per entry');
  addHelpSections(command, {
    examples: ['crossroot binfmt uninstall arm64', 'crossroot binfmt uninstall all', 'crossroot binfmt uninstall qemu-aarch64'],
    exitStatus: '0 removed or already absent; 1 a removal failed; 2 usage error.',
  });
  onRun<{ binfmtDir: string; json?: boolean }>(command, context, async (args, options) => {
    const { report, status } = runUninstall(args, options, context.io);
    if (options.json === true) writeJson(context.io, report);
    else printHuman(context.io, report);
    return status;
  });
}
