// `crossroot binfmt export [ARCH...] --format systemd|debian|register`: the entries install would
// register, as a systemd binfmt.d file, update-binfmts templates or raw register strings, on stdout.
// Nothing is registered; without ARCH (or with `all`) the architectures are install's `all`.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { onRun, writeJson } from '../context.ts';
import { binfmtDFileName, debianTemplateText } from '../../core/binfmt/install-plan.ts';
import { UsageError } from '../../core/errors.ts';
import { DEFAULT_BINFMT_DIR } from '../../kernel/binfmt-fs.ts';
import { buildPlans } from './binfmt-install.ts';

const FORMATS = ['systemd', 'debian', 'register'] as const;
type ExportFormat = (typeof FORMATS)[number];

interface ExportOptions {
  readonly format: string;
  readonly flags?: string;
  readonly emulator?: string;
  readonly emulatorDir?: string;
  readonly force?: boolean;
  readonly binfmtDir: string;
  readonly json?: boolean;
}

export function registerBinfmtExport(binfmt: Command, context: CliContext): void {
  const command = binfmt
    .command('export')
    .description('Print the entries install would register, as binfmt.d lines, update-binfmts templates or register strings.')
    .argument('[arch...]', 'architectures by any alias; none or \'all\' = what \'install all\' would register')
    .requiredOption('--format <format>', `one of ${FORMATS.join(', ')}`)
    .option('--flags <flags>', 'binfmt_misc flags instead of the defaults')
    .option('--emulator <path>', 'use this emulator for the given architecture(s)')
    .option('--emulator-dir <dir>', 'look for emulators only in this directory')
    .option('--force', 'include entries that match the host\'s own programs')
    .option('--binfmt-dir <dir>', 'the binfmt_misc instance (only to report overlaps)', DEFAULT_BINFMT_DIR)
    .option('--json', 'print a JSON array of { arch, file, text }');
  onRun<ExportOptions>(command, context, async (args, options) => {
    const { io } = context;
    if (!(FORMATS as readonly string[]).includes(options.format)) {
      throw new UsageError(`export: format '${options.format}' is not one of ${FORMATS.join(', ')}`);
    }
    const format = options.format as ExportFormat;
    const { plans } = await buildPlans(args.length === 0 ? ['all'] : args, { ...options, requireInstance: false }, io);
    const outputs: { arch: string; file: string; text: string }[] = [];
    let status = 0;
    for (const plan of plans) {
      if (plan.action === 'refuse' || plan.entry === null || plan.registerString === null) {
        io.stderr(`crossroot: export ${plan.arch}: ${plan.reason ?? ''}: ${plan.message ?? ''}\n`);
        status = 1;
        continue;
      }
      const text = format === 'register' ? `${plan.registerString}\n`
        : format === 'systemd' ? `${plan.registerString}\n`
          : debianTemplateText(plan.entry);
      const file = format === 'systemd' ? binfmtDFileName(plan.arch) : format === 'debian' ? plan.name : '';
      outputs.push({ arch: plan.arch, file, text });
    }
    if (options.json === true) writeJson(io, outputs);
    else if (format === 'systemd') {
      io.stdout('# systemd binfmt.d(5): save as /etc/binfmt.d/zz-crossroot.conf (sorts after distribution files, so these entries win)\n');
      for (const output of outputs) io.stdout(output.text);
    } else if (format === 'debian') {
      outputs.forEach((output, index) => io.stdout(`${index === 0 ? '' : '\n'}# /usr/share/binfmts/${output.file}\n${output.text}`));
    } else for (const output of outputs) io.stdout(output.text);
    return status;
  });
}
