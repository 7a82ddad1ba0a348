// crossroot run [DIR | --arch ARCH] [options] -- CMD...: runs CMD inside a
// root (private mount and PID namespaces, API filesystems, emulation for a
// foreign architecture) and exits with its status (128+N when killed by
// signal N). The work is in runner/enter/enter.ts; this file only parses and renders.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CliContext, Io } from '../context.ts';
import { onRun } from '../context.ts';
import type { ArchOptions, ProgressOptions } from '../options.ts';
import { addArchOption, addHelpSections, addJsonOption, addProgressOptions, addVerboseOption, archOf, collect } from '../options.ts';
import { info, warn } from '../render/errors.ts';
import { writeJson } from '../render/json.ts';
import { progressReporter } from '../render/progress.ts';
import { UsageError } from '../../core/errors.ts';
import type { EmulationChoice } from '../../core/enter/emulation.ts';
import { EMULATION_MODES } from '../../core/enter/emulation.ts';
import type { NetworkMode } from '../../core/enter/enter-plan.ts';
import { NETWORK_MODES } from '../../core/enter/enter-plan.ts';
import { renderProfile } from '../../core/enter/profile.ts';
import { enterRoot, type EnterOptions, type EnterResult } from '../../runner/enter/enter.ts';
import type { EnterEvent } from '../../runner/enter/events.ts';

export interface EnterCliOptions extends ArchOptions, ProgressOptions {
  readonly create?: boolean;
  readonly bind?: string[];
  readonly workdir?: string;
  readonly env?: string[];
  readonly user?: string;
  readonly emulation?: EmulationChoice;
  readonly verbose?: boolean;
  readonly accelerate?: boolean;
  readonly hostname?: string;
  readonly network?: NetworkMode;
  readonly json?: boolean;
}

interface RunCliOptions extends EnterCliOptions {
  readonly profile?: boolean;
  readonly profileJson?: string;
  readonly icecream?: string;
}

/** The options `run` and `shell` share. */
export function addEnterOptions(command: Command): Command {
  addArchOption(command, 'the architecture: without DIR, use (and create on first use) the managed root of ARCH');
  command
    .option('--no-create', 'with --arch: fail instead of creating the managed root when it does not exist yet')
    .option('--bind <src[:dst]>', 'bind-mount a host path into the root (DST inside the root, default: SRC; append :ro for read-only); repeatable', collect)
    .option('--workdir <dir>', 'working directory inside the root (default: /; the home directory for shell)')
    .option('--env <name[=value]>', "set a variable in the clean environment (NAME alone copies the host's value, as docker -e); repeatable", collect)
    .option('--user <user[:group]>', "run as this user of the root's /etc/passwd (name or uid; default: root)")
    .addOption(new Option('--emulation <mode>', 'how foreign binaries run').choices(['auto', ...EMULATION_MODES]).default('auto', 'auto'))
    .option('--hostname <name>', "the run's hostname, in its own UTS namespace (default: the root directory's name)")
    .addOption(new Option('--network <mode>', "host: the host's network, resolv.conf and hosts; none: a network namespace with only loopback").choices([...NETWORK_MODES]).default('host', 'host'))
    .option('--accelerate', "run the root's compiler tools (cc1, as, ld, ...) as native cross tools of exactly the same version, in this run only; says on stderr what stays emulated and why");
  addVerboseOption(command, 'describe the namespaces, mounts, emulation and timings on stderr');
  addProgressOptions(command);
  return addJsonOption(command, "print crossroot's report (root, architecture, emulation, exit status; or the error) as one JSON document on stderr; stdout stays the command's");
}

/**
 * Splits the operands into DIR and the command. Without --arch the first
 * operand is DIR. With --arch, an operand before `--` is DIR and the command
 * is what follows `--` (commander drops the `--`, so the typed words tell).
 */
export function splitOperands(args: readonly string[], typed: readonly string[], hasArch: boolean): { dir: string | undefined; argv: string[] } {
  if (!hasArch) return { dir: args[0], argv: args.slice(1) };
  const separator = typed.indexOf('--');
  const afterSeparator = separator < 0 ? 0 : typed.length - separator - 1;
  const before = Math.max(0, args.length - afterSeparator);
  if (before > 1) throw new UsageError("run: put '--' before the command (only DIR may come before it)");
  return before === 1 ? { dir: args[0], argv: args.slice(1) } : { dir: undefined, argv: [...args] };
}

/** `NAME` alone takes the caller's value (dropped when the caller has none), as `docker run -e NAME` does. */
export function envAssignments(specs: readonly string[], hostEnv: Readonly<Record<string, string | undefined>>): string[] {
  return specs.flatMap((spec) => {
    if (spec.includes('=') || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(spec)) return [spec];
    const value = hostEnv[spec];
    return value === undefined ? [] : [`${spec}=${value}`];
  });
}

/** How a run's events look on stderr. */
export function renderEnterEvent(io: Io, event: EnterEvent): void {
  switch (event.kind) {
    case 'warning': warn(io, event.message); break;
    case 'note':
    case 'detail': info(io, event.message); break;
    case 'timings': info(io, `timings (ms): ${Object.entries(event.timings).map(([name, value]) => `${name} ${value.toFixed(1)}`).join(', ')}`); break;
  }
}

/** Says on the first line that a managed root will be bootstrapped now (minutes, once); not when another crossroot is creating it (the run says it waits). */
async function announceCreate(io: Io, arch: string | undefined, dir: string | undefined, options: EnterCliOptions): Promise<void> {
  if (dir !== undefined || arch === undefined || options.create === false || options.json === true || options.quiet === true) return;
  // Loaded only for managed roots (runner/roots brings runner/create): start-up time counts.
  const { listManagedRoots, managedRootPath } = await import('../../runner/roots/roots.ts');
  const path = managedRootPath(arch, io.env);
  if (listManagedRoots(io.env).some((root) => root.dir === path)) return;
  info(io, `no managed ${arch} root yet: creating one at ${path} first (a few minutes, once; --no-create refuses instead)`);
}

/** The enter options `run` and `shell` share, from their common flags. */
export async function enterOptionsOf(options: EnterCliOptions, context: CliContext, dir: string | undefined): Promise<Omit<EnterOptions, 'argv'>> {
  const { io } = context;
  const arch = archOf(options);
  await announceCreate(io, arch, dir, options);
  const progress = progressReporter(io, { quiet: options.quiet === true || options.json === true, mode: options.progress });
  return {
    progress: progress.update,
    rootReady: progress.done,
    rootDir: dir,
    arch,
    createRoot: options.create !== false,
    binds: options.bind ?? [],
    workdir: options.workdir,
    env: envAssignments(options.env ?? [], io.env),
    user: options.user,
    emulation: options.emulation ?? 'auto',
    hostname: options.hostname,
    network: options.network ?? 'host',
    waiting: (owner) => { if (options.quiet !== true) info(io, `waiting: the managed root is being created by ${owner}`); },
    accelerate: options.accelerate === true,
    verbose: options.verbose === true,
    onEvent: (event) => { if (options.json !== true || event.kind === 'warning') renderEnterEvent(io, event); },
    hostEnv: io.env,
    cwd: io.cwd,
  };
}

/** The report of `run --json` / `shell --json`. */
export function runJson(result: EnterResult) {
  return {
    exitCode: result.exitCode,
    root: result.plan.rootDir,
    arch: result.plan.arch,
    emulation: result.plan.emulation.mode,
    timings: result.timings,
    profile: result.profile,
  };
}

export function registerRun(program: Command, context: CliContext): void {
  const command = addEnterOptions(program.command('run')
    .description('Run a command inside a root of any architecture, in private namespaces; exits with its status.')
    .argument('[dir-and-command...]', 'DIR (unless --arch names a managed root), then -- and the command'))
    .option('--profile', 'at the end, print on stderr which programs used the most CPU time, emulated or native')
    .option('--profile-json <file>', 'write that profile as JSON to FILE (implies --profile sampling; the table is printed only with --profile)')
    .option('--icecream <scheduler[:port]>', 'with --accelerate: send compile jobs to the icecream cluster of this icecc-scheduler (port 8765 by default); jobs it cannot serve compile locally');
  addHelpSections(command, {
    examples: [
      'crossroot run ./arm64-root -- uname -m',
      'crossroot run --arch arm64 --bind .:/src --workdir /src -- make',
      'crossroot run --platform linux/riscv64 --env CFLAGS --env LANG=C.UTF-8 -- gcc --version',
      'crossroot run --arch arm64 --accelerate --profile --bind .:/src --workdir /src -- make -j2',
      'crossroot run --arch arm64 --accelerate --icecream scheduler.lan --bind .:/src --workdir /src -- make -j16',
    ],
    exitStatus: "the command's (128+N when killed by signal N; 127 when it is not found); 1 the run could not be set up; 2 usage error.",
  });
  onRun<RunCliOptions>(command, context, async (args, options) => {
    const typed = context.argv.slice(context.argv.indexOf('run') + 1);
    const arch = archOf(options);
    const { dir, argv } = splitOperands(args, typed, arch !== undefined);
    if (dir === undefined && arch === undefined) throw new UsageError('run: give DIR or --arch ARCH', { hint: "run 'crossroot run --help' for usage" });
    if (argv.length === 0) throw new UsageError('run: give the command after --', { hint: 'for an interactive shell use crossroot shell' });
    if (options.icecream !== undefined && options.accelerate !== true) {
      throw new UsageError('run: --icecream needs --accelerate', { hint: 'the cluster compiles with the native cross compiler that --accelerate finds' });
    }
    const result = await enterRoot({
      ...await enterOptionsOf(options, context, dir),
      profile: options.profile === true || options.profileJson !== undefined,
      icecream: options.icecream === undefined ? undefined : { scheduler: options.icecream },
      argv,
    });
    if (result.profile !== null) {
      if (options.profile === true) context.io.stderr(renderProfile(result.profile));
      if (options.profileJson !== undefined) writeFileSync(resolve(context.io.cwd, options.profileJson), `${JSON.stringify(result.profile, null, 2)}\n`);
    }
    if (options.json === true) writeJson(context.io, runJson(result), 'stderr');
    return result.exitCode;
  }, 'stderr');
}
