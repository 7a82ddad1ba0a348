// `crossroot binfmt uninstall [ARCH...|all]`: removes crossroot's own entries (crossroot-<arch>,
// and leftovers of an interrupted replace) and their binfmt.d files. Someone else's entry is removed
// only when named exactly (e.g. `qemu-aarch64`); `all` never touches register, status or entries
// that are not crossroot's (WSLInterop, python3.11, llvm-14-runtime.binfmt, qemu-*).
import type { Command } from 'commander';
import type { CliContext, Io } from '../context.ts';
import { onRun, writeJson } from '../context.ts';
import type { ArchName } from '../../core/arch/arch.ts';
import { resolveArch } from '../../core/arch/arch.ts';
import { planUninstall } from '../../core/binfmt/install-plan.ts';
import { isCrossrootError, UsageError } from '../../core/errors.ts';
import { DEFAULT_BINFMT_DIR, readInstance } from '../../kernel/binfmt-fs.ts';
import { removeEntry } from '../../kernel/binfmt-write.ts';
import { binfmtDDir, removePersisted } from '../../runner/binfmt/install.ts';
import type { InstanceNamespace } from '../../runner/host/userns.ts';
import { currentInstanceNamespace, PRIVATE_INSTANCE_NOTE } from '../../runner/host/userns.ts';

interface UninstallOptions {
  readonly binfmtDir: string;
  readonly json?: boolean;
}

export interface UninstallResult {
  readonly target: string;
  readonly arch: ArchName | null;
  readonly name: string | null;
  readonly action: 'removed' | 'absent' | 'failed';
  readonly reason: string | null;
  readonly persistedRemoved: string[];
}

export interface UninstallReport {
  readonly instance: { readonly dir: string; readonly namespace: InstanceNamespace };
  readonly results: UninstallResult[];
}

function resolveOrNull(alias: string): ArchName | null {
  try {
    return resolveArch(alias).name;
  } catch {
    return null;
  }
}

export function runUninstall(args: readonly string[], options: UninstallOptions, io: Io): { report: UninstallReport; status: number } {
  if (args.length === 0) throw new UsageError('uninstall: name the architectures or entries to remove, or \'all\'');
  const instance = readInstance(options.binfmtDir);
  const targets = planUninstall(args, instance.entries, resolveOrNull);
  const binfmtD = binfmtDDir(io.env);
  const results: UninstallResult[] = [];
  for (const target of targets) {
    const persistedRemoved = target.kind === 'crossroot' || target.kind === 'absent'
      ? (target.arch === null ? [] : removePersisted(binfmtD, target.arch))
      : [];
    if (target.names.length === 0) {
      results.push({ target: target.target, arch: target.arch, name: null, action: 'absent', reason: null, persistedRemoved });
      continue;
    }
    target.names.forEach((name, index) => {
      const files = index === 0 ? persistedRemoved : [];
      try {
        removeEntry(options.binfmtDir, name);
        results.push({ target: target.target, arch: target.arch, name, action: 'removed', reason: null, persistedRemoved: files });
      } catch (error) {
        const reason = isCrossrootError(error) ? `${error.message}${error.hint === undefined ? '' : ` (${error.hint})`}` : String(error);
        results.push({ target: target.target, arch: target.arch, name, action: 'failed', reason, persistedRemoved: files });
      }
    });
  }
  if (args.includes('all')) {
    for (const path of removePersisted(binfmtD, 'all')) {
      results.push({ target: 'all', arch: null, name: null, action: 'removed', reason: 'persisted file without a kernel entry', persistedRemoved: [path] });
    }
  }
  const report = { instance: { dir: options.binfmtDir, namespace: currentInstanceNamespace() }, results };
  return { report, status: results.some((result) => result.action === 'failed') ? 1 : 0 };
}

function printHuman(io: Io, report: UninstallReport): void {
  for (const result of report.results) {
    io.stdout(`${result.action.padEnd(8)} ${result.name ?? `(no entry for '${result.target}')`}${result.reason === null ? '' : `: ${result.reason}`}\n`);
    for (const path of result.persistedRemoved) io.stdout(`         removed ${path}\n`);
  }
  if (report.results.length === 0) io.stdout('nothing to remove: no crossroot entries\n');
  if (report.instance.namespace === 'private') io.stderr(`crossroot: note: ${PRIVATE_INSTANCE_NOTE} (binfmt_misc at '${report.instance.dir}')\n`);
}

export function registerBinfmtUninstall(binfmt: Command, context: CliContext): void {
  const command = binfmt
    .command('uninstall')
    .description('Remove crossroot\'s binfmt_misc entries (and their binfmt.d files); others\' entries only when named exactly.')
    .argument('[target...]', 'architectures (crossroot\'s entries for them), exact entry names, or \'all\' (crossroot\'s only)')
    .option('--binfmt-dir <dir>', 'the binfmt_misc instance', DEFAULT_BINFMT_DIR)
    .option('--json', 'print a JSON report');
  onRun<UninstallOptions>(command, context, async (args, options) => {
    const { report, status } = runUninstall(args, options, context.io);
    if (options.json === true) writeJson(context.io, report);
    else printHuman(context.io, report);
    return status;
  });
}
