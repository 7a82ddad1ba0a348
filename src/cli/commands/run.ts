// crossroot run [DIR | --arch ARCH] [options] -- CMD...: runs CMD inside a
// root (private mount and PID namespaces, API filesystems, emulation for a
// foreign architecture) and exits with its status (128+N when killed by
// signal N). The work is in runner/enter.ts; this file only parses.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { onRun } from '../context.ts';
import { UsageError } from '../../core/errors.ts';
import type { EmulationChoice } from '../../core/enter/enter-plan.ts';
import { EMULATION_MODES, isEmulationChoice } from '../../core/enter/enter-plan.ts';
import { renderProfile } from '../../core/enter/profile.ts';
import { enterRoot, type EnterOptions } from '../../runner/enter/enter.ts';
import { progressReporter } from './create.ts';

export interface EnterCliOptions {
  readonly arch?: string;
  readonly bind?: string[];
  readonly workdir?: string;
  readonly env?: string[];
  readonly user?: string;
  readonly emulation?: string;
  readonly verbose?: boolean;
  readonly accelerate?: boolean;
}

interface RunCliOptions extends EnterCliOptions {
  readonly profile?: boolean;
  readonly profileJson?: string;
  readonly icecream?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The options `run` and `shell` share. */
export function addEnterOptions(command: Command): Command {
  return command
    .option('--arch <arch>', 'the architecture: without DIR, use (and create on first use) the managed root of ARCH')
    .option('--bind <src[:dst]>', 'bind-mount a host path into the root (DST inside the root, default SRC; append :ro for read-only); repeatable', collect)
    .option('--workdir <dir>', 'working directory inside the root (default /; the home directory for shell)')
    .option('--env <name=value>', 'set a variable in the clean environment; repeatable', collect)
    .option('--user <user[:group]>', "run as this user of the root's /etc/passwd (name or uid; default root)")
    .addOption(new Option('--emulation <mode>', 'how foreign binaries run').choices(['auto', ...EMULATION_MODES]).default('auto'))
    .option('--accelerate', "run the root's compiler tools (cc1, as, ld, ...) as native cross tools of exactly the same version, in this run only; says on stderr what stays emulated and why")
    .option('-v, --verbose', 'describe the namespaces, mounts, emulation and timings on stderr');
}

export function emulationOf(value: string | undefined): EmulationChoice {
  const choice = value ?? 'auto';
  if (!isEmulationChoice(choice)) throw new UsageError(`parse --emulation: '${choice}' is not one of auto, ${EMULATION_MODES.join(', ')}`);
  return choice;
}

/**
 * Splits the operands into DIR and the command. Without --arch the first
 * operand is DIR. With --arch, an operand before `--` is DIR and the command
 * is what follows `--`.
 */
export function splitOperands(args: readonly string[], rawArgs: readonly string[], hasArch: boolean): { dir: string | undefined; argv: string[] } {
  if (!hasArch) return { dir: args[0], argv: args.slice(1) };
  const separator = rawArgs.indexOf('--');
  const afterSeparator = separator < 0 ? 0 : rawArgs.length - separator - 1;
  const before = Math.max(0, args.length - afterSeparator);
  if (before > 1) throw new UsageError("run: put '--' before the command (only DIR may come before it)");
  return before === 1 ? { dir: args[0], argv: args.slice(1) } : { dir: undefined, argv: [...args] };
}

/** The enter options `run` and `shell` share, from their common flags. */
export function enterOptionsOf(options: EnterCliOptions, context: CliContext, dir: string | undefined): Omit<EnterOptions, 'argv'> {
  const progress = progressReporter(context.io, false);
  return {
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
    verbose: options.verbose === true,
    stderr: context.io.stderr,
    hostEnv: context.io.env,
    cwd: context.io.cwd,
  };
}

export function registerRun(program: Command, context: CliContext): void {
  const command = addEnterOptions(program.command('run')
    .description('run a command inside a root of any architecture, in private namespaces; exits with its status')
    .argument('[dir-and-command...]', 'DIR (unless --arch names a managed root), then -- and the command'))
    .option('--profile', 'at the end, print on stderr which programs used the most CPU time, emulated or native')
    .option('--icecream <scheduler[:port]>', 'with --accelerate: send compile jobs to the icecream cluster of this icecc-scheduler (port 8765 by default); jobs it cannot serve compile locally')
    .option('--profile-json <file>', 'write that profile as JSON to FILE (implies --profile sampling; the table is printed only with --profile)')
    .addHelpText('after', [
      '',
      'Examples:',
      '  crossroot run ./arm64-root -- uname -m',
      '  crossroot run --arch arm64 --bind .:/src --workdir /src -- make',
      '  crossroot run --arch arm64 --accelerate --profile --bind .:/src --workdir /src -- make -j2',
      '  crossroot run --arch arm64 --accelerate --icecream scheduler.lan --bind .:/src --workdir /src -- make -j16',
      '',
      'Exit status: the command\'s (128+N when killed by signal N); 1 when the run could not be set up; 2 usage error.',
    ].join('\n'));
  onRun<RunCliOptions>(command, context, async (args, options) => {
    const { dir, argv } = splitOperands(args, (program as unknown as { rawArgs?: string[] }).rawArgs ?? [], options.arch !== undefined);
    if (dir === undefined && options.arch === undefined) throw new UsageError('run: give DIR or --arch ARCH', { hint: "run 'crossroot run --help' for usage" });
    if (argv.length === 0) throw new UsageError('run: give the command after --', { hint: 'for an interactive shell use crossroot shell' });
    if (options.icecream !== undefined && options.accelerate !== true) {
      throw new UsageError('run: --icecream needs --accelerate', { hint: 'the cluster compiles with the native cross compiler that --accelerate finds' });
    }
    const result = await enterRoot({
      ...enterOptionsOf(options, context, dir),
      profile: options.profile === true || options.profileJson !== undefined,
      icecream: options.icecream === undefined ? undefined : { scheduler: options.icecream },
      argv,
    });
    if (result.profile !== null) {
      if (options.profile === true) context.io.stderr(renderProfile(result.profile));
      if (options.profileJson !== undefined) writeFileSync(resolve(context.io.cwd, options.profileJson), `${JSON.stringify(result.profile, null, 2)}\n`);
    }
    return result.exitCode;
  });
}
