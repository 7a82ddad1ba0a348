// `crossroot icecream-env (ROOT | --arch ARCH) --output FILE [--json]`: the
// icecream toolchain tarball of the native cross compiler of exactly the
// root's gcc version (runner/icecream/toolchain-env.ts), for ICECC_VERSION
// outside crossroot; `run --icecream` hands the same tarball to the cluster itself.
import { copyFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { onRun } from '../context.ts';
import type { ArchOptions } from '../options.ts';
import { addArchOption, addHelpSections, addJsonOption, archOf } from '../options.ts';
import { writeJson } from '../render/json.ts';
import { UsageError } from '../../core/errors.ts';
import { icecreamVersion } from '../../core/icecream/icecream-plan.ts';
import { ensureManagedRoot } from '../../runner/roots/roots.ts';
import { toolchainEnvForRoot } from '../../runner/icecream/toolchain-env.ts';

interface IcecreamEnvCliOptions extends ArchOptions {
  readonly output?: string;
  readonly json?: boolean;
}

export function registerIcecreamEnv(program: Command, context: CliContext): void {
  const command = program.command('icecream-env')
    .description("Write the icecream toolchain tarball of the native cross compiler of exactly the root's gcc version (cached by its hash).")
    .argument('[root]', 'the foreign root directory (or --arch for the managed root)');
  addArchOption(command, 'the managed root of this architecture (created on first use)');
  command.requiredOption('--output <file>', 'where to write the tarball (.tar.gz)');
  addJsonOption(command, 'print what was written as one JSON document');
  addHelpSections(command, {
    examples: [
      'crossroot icecream-env --arch arm64 --output /srv/icecc/arm64-gcc.tar.gz',
      'crossroot icecream-env ./arm64-root --output arm64-gcc.tar.gz --json',
    ],
  });
  onRun<IcecreamEnvCliOptions>(command, context, async ([root], options) => {
    const { io } = context;
    const arch = archOf(options);
    if ((root === undefined) === (arch === undefined)) {
      throw new UsageError('icecream-env: give ROOT or --arch ARCH (one of them)', { hint: "run 'crossroot icecream-env --help' for usage" });
    }
    const home = io.env['CROSSROOT_HOME'];
    const rootDir = root === undefined
      ? (await ensureManagedRoot(arch ?? '', { env: io.env })).dir
      : resolve(io.cwd, root);
    const env = await toolchainEnvForRoot(rootDir, { ...(home === undefined ? {} : { home }), log: (line) => io.stderr(`crossroot: ${line}\n`) });
    const output = resolve(io.cwd, options.output ?? '');
    copyFileSync(env.path, output);
    const version = icecreamVersion(output, env.triplet);
    if (options.json === true) writeJson(io, { ...env, output, icecc_version: version });
    else {
      io.stdout(`wrote ${output}: gcc ${env.gccMajor} for ${env.triplet} from ${env.toolsDir}, ${String(env.files)} files, sha256 ${env.sha256}${env.created ? '' : ' (cached)'}\n`);
      io.stdout(`ICECC_VERSION=${version}\n`);
    }
    return 0;
  });
}
