// crossroot shell [DIR | --arch ARCH] [options]: the root user's (or
// --user's) login shell from the root's /etc/passwd (/bin/sh when none),
// interactive, in the same namespaces as `crossroot run`.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { onRun } from '../context.ts';
import { UsageError } from '../../core/errors.ts';
import { enterRoot } from '../../runner/enter.ts';
import { progressReporter } from './create.ts';
import type { EnterCliOptions } from './run.ts';
import { addEnterOptions, emulationOf } from './run.ts';

export function registerShell(program: Command, context: CliContext): void {
  const command = addEnterOptions(program.command('shell')
    .description("start the login shell of the root's user inside a root of any architecture")
    .argument('[dir]', 'the root (omit with --arch for the managed root)'))
    .addHelpText('after', '\nExit status: the shell\'s; 1 when the run could not be set up; 2 usage error.');
  onRun<EnterCliOptions>(command, context, async (args, options) => {
    const [dir, ...extra] = args;
    if (extra.length > 0) throw new UsageError('shell: too many arguments', { hint: 'to run a command use crossroot run DIR -- CMD' });
    if (dir === undefined && options.arch === undefined) throw new UsageError('shell: give DIR or --arch ARCH');
    const progress = progressReporter(context.io, false);
    const result = await enterRoot({
      progress: progress.update,
      rootReady: progress.done,
      rootDir: dir,
      arch: options.arch,
      binds: options.bind ?? [],
      workdir: options.workdir,
      env: options.env ?? [],
      user: options.user,
      emulation: emulationOf(options.emulation),
      accelerate: options.accelerate === true,
      argv: null,
      verbose: options.verbose === true,
      stderr: context.io.stderr,
      hostEnv: context.io.env,
      cwd: context.io.cwd,
    });
    return result.exitCode;
  });
}
