// `crossroot binfmt export [ARCH...] --format systemd|debian|register`: the entries install would
// register, as a systemd binfmt.d file, update-binfmts templates or raw register strings, on stdout.
// Nothing is registered; without ARCH (or with `all`) the architectures are install's `all`.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { onRun } from '../context.ts';
import { addBinfmtDirOption, addHelpSections, addJsonOption } from '../options.ts';
import { writeJson } from '../render/json.ts';
import { binfmtDFileName, debianTemplateText } from '../../core/binfmt/install-plan.ts';
import { buildPlans } from '../../runner/binfmt/install-entries.ts';

const FORMATS = ['systemd', 'debian', 'register'] as const;
type ExportFormat = (typeof FORMATS)[number];

interface ExportOptions {
  readonly format: ExportFormat;
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
    .addOption(new Option('--format <format>', 'systemd binfmt.d lines, debian update-binfmts templates, or raw register strings').choices(FORMATS).makeOptionMandatory())
    .option('--flags <flags>', 'binfmt_misc flags instead of the defaults')
    .option('--emulator <path>', 'use this emulator for the given architecture(s)')
    .option('--emulator-dir <dir>', 'look for emulators only in this directory')
    .option('--force', 'include entries that match the host\'s own programs');
  addBinfmtDirOption(command, 'the binfmt_misc instance (only to report overlaps)');
  addJsonOption(command, 'print a JSON array of { arch, file, text }');
  addHelpSections(command, {
    examples: [
      'crossroot binfmt export arm64 --format systemd > /etc/binfmt.d/zz-crossroot.conf',
      'crossroot binfmt export --format debian',
      'crossroot binfmt export riscv64 --format register --flags OCF',
    ],
    exitStatus: '0 every entry exported; 1 one was refused (said on stderr, the others are printed); 2 usage error.',
  });
  onRun<ExportOptions>(command, context, async (args, options) => {
    const { io } = context;
    const format = options.format;
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
