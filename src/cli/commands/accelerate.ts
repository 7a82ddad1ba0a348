// `crossroot accelerate [ROOT | --arch ARCH] [--json] [--no-create] [--no-host] [--tools-root DIR]`:
// a dry run of `crossroot run --accelerate`: per tool, substituted or not and why.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { onRun } from '../context.ts';
import type { ArchOptions } from '../options.ts';
import { addArchOption, addHelpSections, addJsonOption, archOf } from '../options.ts';
import { info } from '../render/errors.ts';
import { writeJson } from '../render/json.ts';
import { formatTable } from '../render/table.ts';
import { UsageError } from '../../core/errors.ts';
import { managedRootPath } from '../../runner/roots/roots.ts';
import { planRootAcceleration } from '../../runner/accelerate/accelerate.ts';
import type { AccelerationFacts } from '../../runner/accelerate/accelerate.ts';

interface AccelerateCliOptions extends ArchOptions {
  readonly json?: boolean;
  readonly create?: boolean;
  readonly host?: boolean;
  readonly toolsRoot?: string;
}

export function registerAccelerate(program: Command, context: CliContext): void {
  const command = program.command('accelerate')
    .description('Show which emulated compiler tools of a root `run --accelerate` replaces with native cross tools of the same version, and why not.')
    .argument('[root]', 'the foreign root directory (omit with --arch for the managed root)');
  addArchOption(command, 'the managed root of this architecture instead of ROOT');
  addJsonOption(command, 'print the plan as JSON: tools, mounts, refusal reason');
  command
    .option('--no-create', 'do not create the amd64 tools root when it is missing')
    .option('--no-host', 'do not consider the host\'s own cross tools')
    .option('--tools-root <dir>', 'use this amd64 root of cross tools instead of the managed one');
  addHelpSections(command, {
    examples: ['crossroot accelerate ./arm64-root', 'crossroot accelerate --arch arm64 --json', 'crossroot accelerate ./riscv64-root --no-create'],
    exitStatus: '0 the plan was decided (also when nothing can be accelerated); 1 failure; 2 usage error.',
  });
  onRun<AccelerateCliOptions>(command, context, async ([root], options) => {
    const { io } = context;
    const arch = archOf(options);
    if ((root === undefined) === (arch === undefined)) throw new UsageError('accelerate: give ROOT or --arch ARCH (one of them)');
    const rootDir = arch === undefined ? resolve(io.cwd, root ?? '.') : managedRootPath(arch, io.env);
    const facts = await planRootAcceleration(rootDir, {
      createToolsRoot: options.create !== false,
      useHost: options.host !== false,
      ...(options.toolsRoot === undefined ? {} : { toolsRoot: resolve(io.cwd, options.toolsRoot) }),
      ...(io.env['CROSSROOT_HOME'] === undefined ? {} : { home: io.env['CROSSROOT_HOME'] }),
      log: (line) => info(io, line),
    });
    if (options.json === true) writeJson(io, facts);
    else io.stdout(renderAcceleration(facts, io.columns));
    // A dry run succeeds when it could decide; a root where nothing is accelerated is reported, not failed.
    return 0;
  });
}

export function renderAcceleration(facts: AccelerationFacts, width?: number): string {
  const { plan } = facts;
  const lines: string[] = [];
  lines.push(`root: ${facts.rootDir} (${facts.identity.debianArch ?? 'unknown arch'}, ${facts.identity.suite ?? 'unknown suite'})`);
  lines.push(`native tools: ${plan.sourceDir ?? facts.toolsRoot ?? 'none'}${plan.source === null ? '' : ` (${plan.source})`}`);
  if (facts.toolsRootProblem !== null) lines.push(`tools root: ${facts.toolsRootProblem}`);
  lines.push(`version rule: ${plan.versionRule}`);
  lines.push('');
  const rows: string[][] = [];
  for (const tool of plan.tools) {
    rows.push([
      tool.tool, tool.gccMajor ?? '-', tool.status,
      tool.rootPackage === null ? '-' : `${tool.rootPackage.package} ${tool.rootPackage.version}`,
      tool.nativePackage === null ? '-' : `${tool.nativePackage.package} ${tool.nativePackage.version}`,
      tool.reason,
    ]);
  }
  lines.push(formatTable(['TOOL', 'GCC', 'STATUS', 'ROOT PACKAGE', 'NATIVE PACKAGE', 'WHY'], rows, { width }));
  const substituted = plan.tools.filter((tool) => tool.status === 'substituted').length;
  lines.push(plan.refused === null
    ? `${substituted} of ${plan.tools.length} tools run natively; ${plan.mounts.length} mounts in the run's private namespace, none visible outside it`
    : `not accelerated: ${plan.refused}`);
  return `${lines.join('\n')}\n`;
}
