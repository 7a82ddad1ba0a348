// The `binfmt` command group: one subcommand per file (binfmt-<name>.ts), registered here.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { registerBinfmtCheck } from './binfmt-check.ts';

export function registerBinfmt(program: Command, context: CliContext): void {
  const binfmt = program
    .command('binfmt')
    .description('Inspect and manage the kernel\'s binfmt_misc registrations.');
  registerBinfmtCheck(binfmt, context);
}
