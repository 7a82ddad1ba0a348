// crossroot shell [DIR | --arch ARCH] [options]: the root user's (or
// --user's) login shell from the root's /etc/passwd (/bin/sh when none),
// interactive, in the same namespaces as `crossroot run`.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { onRun } from '../context.ts';
import { addHelpSections, archOf } from '../options.ts';
import { writeJson } from '../render/json.ts';
import { UsageError } from '../../core/errors.ts';
import { enterRoot } from '../../runner/enter/enter.ts';
import type { EnterCliOptions } from './run.ts';
import { addEnterOptions, enterOptionsOf, runJson } from './run.ts';

export function registerShell(program: Command, context: CliContext): void {
  const command = addEnterOptions(program.command('shell')
    .description("Start the login shell of the root's user inside a root of any architecture.")
    .argument('[dir]', 'the root (omit with --arch for the managed root)'));
  addHelpSections(command, {
    examples: ['crossroot shell ./arm64-root', 'crossroot shell --arch riscv64 --user builder --bind .:/src'],
    exitStatus: "the shell's; 1 the run could not be set up; 2 usage error.",
  });
  onRun<EnterCliOptions>(command, context, async (args, options) => {
    const [dir, ...extra] = args;
    if (extra.length > 0) throw new UsageError('shell: too many arguments', { hint: 'to run a command use crossroot run DIR -- CMD' });
    if (dir === undefined && archOf(options) === undefined) throw new UsageError('shell: give DIR or --arch ARCH');
    const result = await enterRoot({ ...await enterOptionsOf(options, context, dir), argv: null });
    if (options.json === true) writeJson(context.io, runJson(result), 'stderr');
    return result.exitCode;
  }, 'stderr');
}
