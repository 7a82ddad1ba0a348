// `crossroot create DIR --arch ARCH [--suite S] [--variant V] [--include PKG,...] [--mirror URL]
//  [--from-tar FILE | --from-image FILE] [--force] [--fresh] [--no-twins] [--json]`: a Debian root of another architecture.
import { resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { onRun } from '../context.ts';
import type { ArchOptions, ProgressOptions } from '../options.ts';
import { addArchOption, addHelpSections, addJsonOption, addProgressOptions, archOf } from '../options.ts';
import { info, warn } from '../render/errors.ts';
import { writeJson } from '../render/json.ts';
import { progressReporter } from '../render/progress.ts';
import { cacheRoot, createRoot } from '../../runner/create/create.ts';
import { crossrootHome } from '../../runner/accelerate/accelerate.ts';
import type { CreateResult } from '../../runner/create/create.ts';
import { BOOTSTRAP_TOOLS, DEFAULT_SUITE, DEFAULT_VARIANT, parseIncludes } from '../../core/create/create-plan.ts';
import type { BootstrapTool } from '../../core/create/create-plan.ts';
import { UsageError } from '../../core/errors.ts';

interface CreateCliOptions extends ArchOptions, ProgressOptions {
  readonly suite?: string;
  readonly variant?: string;
  readonly include?: string[];
  readonly mirror?: string;
  readonly fromTar?: string;
  readonly fromImage?: string;
  readonly force?: boolean;
  readonly tool?: BootstrapTool;
  readonly fresh?: boolean;
  readonly twins?: boolean;
  readonly json?: boolean;
}

const INTERRUPTS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function renderCreateResult(result: CreateResult): string {
  const cache = result.tool === 'tar' || result.tool === 'image' ? '' : result.cache.snapshot
    ? '; copied from the snapshot of an identical earlier create (the archive has not changed since)'
    : result.cache.hit
    ? `; all ${result.cache.packages} packages came from the cache`
    : `; ${result.cache.downloaded} packages downloaded`;
  const twins = result.twins !== undefined && result.twins.substituted > 0
    ? `; ${result.twins.substituted} programs ran natively after the essential phase (twins from ${result.twins.toolsRoot ?? ''})` : '';
  return `created ${result.debianArch} ${result.suite} root (${result.variant}) at ${result.dir} with ${result.tool} in ${result.seconds.toFixed(1)} s${cache}${twins}\n`;
}

export function registerCreate(program: Command, context: CliContext): void {
  const command = program.command('create')
    .description('Create a Debian root filesystem of another architecture (emulation set up privately, packages cached).')
    .argument('<dir>', 'directory to create (must be new, empty, or a crossroot root with --force)');
  addArchOption(command, 'architecture: arm64, armhf, riscv64, ... (any spelling crossroot knows)');
  command
    .option('--suite <suite>', `the Debian release codename (default: ${DEFAULT_SUITE}; riscv64 needs trixie)`)
    .option('--variant <variant>', `package set: minbase, buildd, apt, required, important, standard (default: ${DEFAULT_VARIANT})`)
    .option('--include <packages>', 'extra packages, comma-separated (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--mirror <url>', 'the Debian mirror URL (default: http://deb.debian.org/debian)')
    .option('--from-tar <file>', 'import a root filesystem tarball (.tar, .tar.gz, .tar.xz, .tar.zst) instead of bootstrapping')
    .option('--from-image <file>', 'import an OCI image (layout directory or tar) or a docker archive; an index needs --arch')
    .option('--force', 'replace an existing crossroot root at DIR')
    .option('--fresh', 'bootstrap even if an identical earlier root could be copied (the package cache is still used)')
    .option('--no-twins', "run every program of the bootstrap emulated, even when a tools root of the suite has same-version native twins")
    .addOption(new Option('--tool <tool>', 'bootstrap tool (default: mmdebstrap)').choices(BOOTSTRAP_TOOLS));
  addProgressOptions(command);
  addJsonOption(command, 'print one JSON object: dir, arch, debianArch, suite, variant, tool, seconds, cache, twins');
  addHelpSections(command, {
    examples: [
      'crossroot create ./arm64-root --arch arm64',
      'crossroot create ./rv --platform linux/riscv64 --suite trixie --include build-essential',
      'crossroot create ./imported --from-tar rootfs.tar.xz',
    ],
    exitStatus: '0 the root was created; 1 it could not be (nothing is left at DIR); 2 usage error.',
  });
  onRun<CreateCliOptions>(command, context, async ([dir], options) => {
    const { io } = context;
    if (dir === undefined) throw new UsageError('create: DIR is required');
    if (options.fromTar !== undefined && options.fromImage !== undefined) throw new UsageError("create: give '--from-tar' or '--from-image', not both");
    const arch = archOf(options);
    if (arch === undefined && options.fromTar === undefined && options.fromImage === undefined) {
      throw new UsageError("create: '--arch' is required", { hint: "e.g. 'crossroot create ./arm64-root --arch arm64'" });
    }
    const progress = progressReporter(io, { quiet: options.quiet === true || options.json === true, mode: options.progress });
    const target = resolve(io.cwd, dir);
    // Ctrl-C: the runner removes the partial tree and dies of the signal; say so before it does.
    const interrupted = (signal: NodeJS.Signals): void => {
      progress.done();
      info(io, `interrupted (${signal}): removing the partial root; nothing is left at ${target}`);
      // Nobody else is listening yet (the bootstrap had not started): die of the signal now.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    for (const signal of INTERRUPTS) process.once(signal, interrupted);
    let result: CreateResult;
    try {
      result = await createRoot({
        dir: target,
        arch,
        suite: options.suite,
        variant: options.variant,
        includes: parseIncludes(options.include ?? []),
        mirror: options.mirror,
        fromTar: options.fromTar === undefined ? undefined : resolve(io.cwd, options.fromTar),
        fromImage: options.fromImage === undefined ? undefined : resolve(io.cwd, options.fromImage),
        force: options.force,
        tool: options.tool,
        fresh: options.fresh,
        twins: options.twins !== false,
        home: crossrootHome(io.env),
        env: io.env,
        cacheRoot: cacheRoot(io.env),
        onProgress: progress.update,
      });
    } finally {
      for (const signal of INTERRUPTS) process.off(signal, interrupted);
      progress.done();
    }
    if (options.json === true) writeJson(io, result);
    else io.stdout(renderCreateResult(result));
    for (const warning of options.json === true ? [] : result.warnings ?? []) warn(io, warning);
    return 0;
  });
}
