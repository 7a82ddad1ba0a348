// The `binfmt uninstall` use case: crossroot's own entries (crossroot-<arch>,
// and leftovers of an interrupted replace) and their binfmt.d files go;
// someone else's entry only when named exactly (core/binfmt/install-plan.ts
// planUninstall decides which).
import type { ArchName } from '../../core/arch/arch.ts';
import { resolveArch } from '../../core/arch/arch.ts';
import { planUninstall } from '../../core/binfmt/install-plan.ts';
import { isCrossrootError, UsageError } from '../../core/errors.ts';
import { readInstance } from '../../kernel/binfmt-fs.ts';
import { removeEntry } from '../../kernel/binfmt-write.ts';
import { binfmtDDir, removePersisted } from './install.ts';
import type { InstanceNamespace } from '../host/userns.ts';
import { currentInstanceNamespace } from '../host/userns.ts';

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

export function runUninstall(
  args: readonly string[],
  options: { readonly binfmtDir: string },
  caller: { readonly env: Readonly<Record<string, string | undefined>> },
): { report: UninstallReport; status: number } {
  if (args.length === 0) throw new UsageError('uninstall: name the architectures or entries to remove, or \'all\'');
  const instance = readInstance(options.binfmtDir);
  const targets = planUninstall(args, instance.entries, resolveOrNull);
  const binfmtD = binfmtDDir(caller.env);
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
