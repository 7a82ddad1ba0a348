// The `explain` use case: read the binfmt_misc instance (or none), build the
// exec world over the host or a root, and let the core's simulator predict
// execve(PATH, [argv0, ARG...]) without running anything. The CLI renders.
import { isAbsolute, resolve } from 'node:path';
import type { ExecPrediction, Problem } from '../../core/exec/simulate.ts';
import { simulateExec } from '../../core/exec/simulate.ts';
import { UsageError } from '../../core/errors.ts';
import { DEFAULT_BINFMT_DIR, isBinfmtDir, readInstance } from '../../kernel/binfmt-fs.ts';
import { createExecWorld } from './exec-world.ts';

export interface ExplainOptions {
  readonly argv0?: string;
  readonly root?: string;
  readonly binfmtDir?: string;
}

export interface ExplainReport extends ExecPrediction {
  readonly path: string;
  readonly root: string | null;
  readonly binfmtDir: string;
}

/** Command-line text (UTF-8 decoded by Node) to the byte strings the core uses. */
const toBytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

/** The caller's cwd (relative paths) and environment (QEMU_LD_PREFIX, which QEMU reads too). */
export interface ExplainCaller {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function explain(path: string, args: readonly string[], options: ExplainOptions, caller: ExplainCaller): ExplainReport {
  const { cwd } = caller;
  const qemuLdPrefix = caller.env['QEMU_LD_PREFIX'];
  const root = options.root === undefined ? null : resolve(cwd, options.root);
  if (root !== null && !isAbsolute(root)) throw new UsageError(`explain: bad --root '${options.root ?? ''}'`);
  const binfmtDir = options.binfmtDir === undefined ? DEFAULT_BINFMT_DIR : resolve(cwd, options.binfmtDir);
  // An unmounted default instance has no visible entries; an explicit --binfmt-dir must be one.
  const mounted = options.binfmtDir !== undefined || isBinfmtDir(binfmtDir);
  const instance = mounted ? readInstance(binfmtDir) : { enabled: true, entries: [] };
  const world = createExecWorld({
    root: root === null ? null : toBytes(root),
    cwd: root === null ? toBytes(cwd) : '/',
    hostCwd: toBytes(cwd),
    binfmt: { enabled: instance.enabled, entries: instance.entries, dir: toBytes(binfmtDir) },
    qemuLdPrefix: qemuLdPrefix === undefined || qemuLdPrefix === '' ? null : toBytes(qemuLdPrefix),
  });
  const argv = [toBytes(options.argv0 ?? path), ...args.map(toBytes)];
  const prediction = simulateExec({ path: toBytes(path), argv }, world);
  const problems: Problem[] = mounted ? [...prediction.problems] : [...prediction.problems, {
    code: 'BINFMT_NOT_MOUNTED', severity: 'warning',
    message: `binfmt_misc is not mounted at '${DEFAULT_BINFMT_DIR}': predicted as if no entries were registered`,
    fix: `mount it (mount -t binfmt_misc binfmt_misc ${DEFAULT_BINFMT_DIR}) or pass --binfmt-dir DIR`,
  }];
  return { path: toBytes(path), root: root === null ? null : toBytes(root), binfmtDir: toBytes(binfmtDir), ...prediction, problems };
}
