// `crossroot roots list [--json]`, `crossroot roots path ARCH`, `crossroot roots rm ARCH`:
// the managed default roots (one per architecture, created by `run --arch`).
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { onRun, writeJson } from '../context.ts';
import { listManagedRoots, managedRootPath, removeManagedRoot } from '../../runner/roots/roots.ts';

export function registerRoots(program: Command, context: CliContext): void {
  const roots = program.command('roots').description('list, locate and remove the managed default roots (one per architecture)');
  const list = roots.command('list')
    .description('list the managed roots')
    .option('--json', 'print a JSON array: arch, debianArch, dir, suite, variant, includes, created, tool, state (ready or creating), creator');
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
    for (const root of found) {
      if (root.state === 'creating') {
        const by = root.creator === null ? '' : ` by pid ${String(root.creator.pid)} since ${root.creator.since}: ${root.creator.stage}`;
        context.io.stdout(`${root.debianArch.padEnd(9)} (being created${by}) ${root.dir}\n`);
        continue;
      }
      context.io.stdout(`${root.debianArch.padEnd(9)} ${root.suite.padEnd(9)} ${[root.variant, ...root.includes].join('+').padEnd(24)} ${root.dir}\n`);
    }
    return 0;
  });
  const path = roots.command('path')
    .description("print the managed root's directory for ARCH (it may not exist yet)")
    .argument('<arch>', 'architecture');
  onRun(path, context, async ([arch]) => {
    context.io.stdout(`${managedRootPath(arch ?? '', context.io.env)}\n`);
    return 0;
  });
  const rm = roots.command('rm')
    .description('remove the managed root for ARCH (refused while a run uses it)')
    .argument('<arch>', 'architecture');
  onRun(rm, context, async ([arch]) => {
    const dir = await removeManagedRoot(arch ?? '', context.io.env);
    context.io.stdout(`removed ${dir}\n`);
    return 0;
  });
}
