// The `binfmt` command group: one subcommand per file (binfmt-<name>.ts), registered here.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { addHelpSections } from '../options.ts';
import { registerBinfmtCheck } from './binfmt-check.ts';
import { registerBinfmtInstall } from './binfmt-install.ts';
import { registerBinfmtUninstall } from './binfmt-uninstall.ts';
import { registerBinfmtExport } from './binfmt-export.ts';
import { registerBinfmtStatus } from './binfmt-status.ts';
import { registerBinfmtTest } from './binfmt-test.ts';

export function registerBinfmt(program: Command, context: CliContext): void {
  const binfmt = program
    .command('binfmt')
    .description('Inspect and manage the kernel\'s binfmt_misc registrations.');
  addHelpSections(binfmt, { examples: ['crossroot binfmt status', 'crossroot binfmt install arm64', 'crossroot binfmt test'] });
  registerBinfmtCheck(binfmt, context);
  registerBinfmtInstall(binfmt, context);
  registerBinfmtUninstall(binfmt, context);
  registerBinfmtExport(binfmt, context);
  registerBinfmtStatus(binfmt, context);
  registerBinfmtTest(binfmt, context);
}
