// `crossroot create DIR --arch ARCH [--suite S] [--variant V] [--include PKG,...] [--mirror URL]
//  [--from-tar FILE | --from-image FILE] [--force] [--json]`: a Debian root of another architecture.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext, Io } from '../context.ts';
import { onRun, writeJson } from '../context.ts';
import { cacheRoot, createRoot } from '../../runner/create/create.ts';
import type { CreateResult } from '../../runner/create/create.ts';
import { BOOTSTRAP_TOOLS, DEFAULT_SUITE, DEFAULT_VARIANT, parseIncludes, renderProgress } from '../../core/create/create-plan.ts';
import type { BootstrapTool, ProgressState } from '../../core/create/create-plan.ts';
import { UsageError } from '../../core/errors.ts';

interface CreateCliOptions {
  readonly arch?: string;
  readonly suite?: string;
  readonly variant?: string;
  readonly include?: string[];
  readonly mirror?: string;
  readonly fromTar?: string;
  readonly fromImage?: string;
  readonly force?: boolean;
  readonly tool?: string;
  readonly fresh?: boolean;
  readonly json?: boolean;
}

/**
 * A progress display: one updating line on a terminal, plain lines (one per
 * stage) otherwise, nothing with --json.
 */
export function progressReporter(io: Io, quiet: boolean): { update: (state: ProgressState, seconds: number) => void; done: () => void } {
  if (quiet) return { update: () => { /* quiet */ }, done: () => { /* quiet */ } };
  const tty = io.stderrIsTTY === true;
  let lastStage = '';
  let lastDraw = 0;
  let drawn = false;
  return {
    update: (state, seconds) => {
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 100 && state.stage === lastStage) return;
        lastDraw = now;
        lastStage = state.stage;
        const width = Math.max(40, (process.stderr.columns || 100) - 1);
        io.stderr(`\r\x1b[K${renderProgress(state, seconds, width)}`);
        drawn = true;
      } else if (state.stage !== lastStage) {
        lastStage = state.stage;
        io.stderr(`${renderProgress({ ...state, current: '' }, seconds)}\n`);
      }
    },
    done: () => {
      if (drawn) io.stderr('\r\x1b[K');
    },
  };
}

export function renderCreateResult(result: CreateResult): string {
  const cache = result.tool === 'tar' || result.tool === 'image' ? '' : result.cache.snapshot
    ? '; copied from the snapshot of an identical earlier create (the archive has not changed since)'
    : result.cache.hit
    ? `; all ${result.cache.packages} packages came from the cache`
    : `; ${result.cache.downloaded} packages downloaded`;
  return `created ${result.debianArch} ${result.suite} root (${result.variant}) at ${result.dir} with ${result.tool} in ${result.seconds.toFixed(1)} s${cache}\n`;
}

export function registerCreate(program: Command, context: CliContext): void {
  const command = program.command('create')
    .description('create a Debian root filesystem of another architecture (emulation set up privately, packages cached)')
    .argument('<dir>', 'directory to create (must be new, empty, or a crossroot root with --force)')
    .option('--arch <arch>', 'architecture: arm64, armhf, riscv64, ... (any spelling crossroot knows)')
    .option('--suite <suite>', `Debian release codename (default: ${DEFAULT_SUITE}; riscv64 needs trixie)`)
    .option('--variant <variant>', `package set: minbase, buildd, apt, required, important, standard (default: ${DEFAULT_VARIANT})`)
    .option('--include <packages>', 'extra packages, comma-separated (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--mirror <url>', 'Debian mirror URL (default: http://deb.debian.org/debian)')
    .option('--from-tar <file>', 'import a root filesystem tarball (.tar, .tar.gz, .tar.xz, .tar.zst) instead of bootstrapping')
    .option('--from-image <file>', 'import an OCI image (layout directory or tar) or a docker archive; an index needs --arch')
    .option('--force', 'replace an existing crossroot root at DIR')
    .option('--fresh', 'bootstrap even if an identical earlier root could be copied (the package cache is still used)')
    .option('--tool <tool>', 'bootstrap tool: mmdebstrap (default) or debootstrap')
    .option('--json', 'print one JSON object: dir, arch, debianArch, suite, variant, tool, seconds, cache');
  onRun<CreateCliOptions>(command, context, async ([dir], options) => {
    const { io } = context;
    if (dir === undefined) throw new UsageError('create: DIR is required');
    if (options.fromTar !== undefined && options.fromImage !== undefined) throw new UsageError("create: give '--from-tar' or '--from-image', not both");
    if (options.arch === undefined && options.fromTar === undefined && options.fromImage === undefined) {
      throw new UsageError("create: '--arch' is required", { hint: "e.g. 'crossroot create ./arm64-root --arch arm64'" });
    }
    if (options.tool !== undefined && !(BOOTSTRAP_TOOLS as readonly string[]).includes(options.tool)) {
      throw new UsageError(`parse option '--tool': '${options.tool}' is not one of ${BOOTSTRAP_TOOLS.join(', ')}`);
    }
    const progress = progressReporter(io, options.json === true);
    let result: CreateResult;
    try {
      result = await createRoot({
        dir: resolve(io.cwd, dir),
        arch: options.arch,
        suite: options.suite,
        variant: options.variant,
        includes: parseIncludes(options.include ?? []),
        mirror: options.mirror,
        fromTar: options.fromTar === undefined ? undefined : resolve(io.cwd, options.fromTar),
        fromImage: options.fromImage === undefined ? undefined : resolve(io.cwd, options.fromImage),
        force: options.force,
        tool: options.tool as BootstrapTool | undefined,
        fresh: options.fresh,
        cacheRoot: cacheRoot(io.env),
        onProgress: progress.update,
      });
    } finally {
      progress.done();
    }
    if (options.json === true) writeJson(io, result);
    else io.stdout(renderCreateResult(result));
    for (const warning of options.json === true ? [] : result.warnings ?? []) io.stderr(`crossroot: warning: ${warning}\n`);
    return 0;
  });
}
