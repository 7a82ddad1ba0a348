// `crossroot roots list`, `crossroot roots path ARCH`, `crossroot roots rm ARCH`:
// the managed default roots (one per architecture, created by `run --arch`).
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { onRun } from '../context.ts';
import { addHelpSections, addJsonOption } from '../options.ts';
import { writeJson } from '../render/json.ts';
import { formatTable } from '../render/table.ts';
import { listManagedRoots, managedRootPath, removeManagedRoot } from '../../runner/roots/roots.ts';

export function registerRoots(program: Command, context: CliContext): void {
  const roots = program.command('roots').description('List, locate and remove the managed default roots (one per architecture).');
  addHelpSections(roots, { examples: ['crossroot roots list', 'crossroot roots path arm64', 'crossroot roots rm arm64'] });
  const list = roots.command('list').description('List the managed roots.');
  addJsonOption(list, 'print a JSON array: arch, debianArch, dir, suite, variant, includes, created, tool, state (ready or creating), creator');
  addHelpSections(list, { examples: ['crossroot roots list', 'crossroot roots list --json'] });
  onRun<{ json?: boolean }>(list, context, async (_args, options) => {
    const found = listManagedRoots(context.io.env);
    if (options.json === true) {
      writeJson(context.io, found);
      return 0;
    }
    if (found.length === 0) {
      context.io.stdout('no managed roots yet (crossroot run --arch ARCH creates one)\n');
      return 0;
    }
    const rows = found.map((root) => root.state === 'creating'
      ? [root.debianArch, '', `(being created${root.creator === null ? '' : ` by pid ${String(root.creator.pid)} since ${root.creator.since}: ${root.creator.stage}`})`, root.dir]
      : [root.debianArch, root.suite, [root.variant, ...root.includes].join('+'), root.dir]);
    context.io.stdout(formatTable(['ARCH', 'SUITE', 'PACKAGES', 'DIRECTORY'], rows, { width: context.io.columns }));
    return 0;
  });
  const path = roots.command('path')
    .description("Print the managed root's directory for ARCH (it may not exist yet).")
    .argument('<arch>', 'architecture, by any name (arm64, aarch64, linux/arm64/v8)');
  addJsonOption(path, 'print { arch, dir }');
  addHelpSections(path, { examples: ['crossroot roots path arm64', 'cd "$(crossroot roots path riscv64)"'] });
  onRun<{ json?: boolean }>(path, context, async ([arch = ''], options) => {
    const dir = managedRootPath(arch, context.io.env);
    if (options.json === true) writeJson(context.io, { arch, dir });
    else context.io.stdout(`${dir}\n`);
    return 0;
  });
  const rm = roots.command('rm')
    .description('Remove the managed root for ARCH (refused while a run uses it).')
    .argument('<arch>', 'architecture, by any name');
  addJsonOption(rm, 'print { arch, removed }');
  addHelpSections(rm, {
    examples: ['crossroot roots rm arm64'],
    exitStatus: '0 removed; 1 not a managed root, or in use; 2 usage error.',
  });
  onRun<{ json?: boolean }>(rm, context, async ([arch = ''], options) => {
    const dir = await removeManagedRoot(arch, context.io.env);
    if (options.json === true) writeJson(context.io, { arch, removed: dir });
    else context.io.stdout(`removed ${dir}\n`);
    return 0;
  });
}
