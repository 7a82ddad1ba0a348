// The `binfmt install` and `binfmt export` use case: resolve the architectures,
// read the instance, probe the native ones, choose emulators, plan
// (core/binfmt/install-plan.ts), and for install carry the plan out
// (install.ts: kernel writes with rollback, binfmt.d persistence). The CLI
// only parses and renders the report.
import type { ArchName } from '../../core/arch/arch.ts';
import { ARCH_NAMES, resolveArch } from '../../core/arch/arch.ts';
import type { BinfmtEntry, BinfmtFlags } from '../../core/binfmt/entry.ts';
import type { ArchPlan } from '../../core/binfmt/install-plan.ts';
import { allInstallableArches, parseFlagLetters, planInstall } from '../../core/binfmt/install-plan.ts';
import { UsageError } from '../../core/errors.ts';
import { isBinfmtDir, readInstance } from '../../kernel/binfmt-fs.ts';
import { binfmtDDir, DEFAULT_BINFMT_D_DIR, executeArchPlan, persistArch, selectEmulators } from './install.ts';
import type { NativeProbe } from '../host/native.ts';
import { probeNativeArches } from '../host/native.ts';
import { findEmulators } from '../host/emulators.ts';
import type { InstanceNamespace } from '../host/userns.ts';
import { currentInstanceNamespace } from '../host/userns.ts';

/** The caller's environment (PATH for emulators, CROSSROOT_BINFMT_D_DIR) and cwd. */
export interface CallerFacts {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export interface PlanOptions {
  readonly binfmtDir: string;
  readonly flags?: string | undefined;
  readonly emulator?: string | undefined;
  readonly emulatorDir?: string | undefined;
  readonly force?: boolean | undefined;
}

export interface InstallOptions extends PlanOptions {
  readonly persist?: boolean | undefined;
  readonly dryRun?: boolean | undefined;
}

export interface InstallResult {
  readonly arch: ArchName;
  readonly name: string;
  readonly action: 'added' | 'replaced' | 'unchanged' | 'refused' | 'failed' | 'planned-add' | 'planned-replace';
  readonly reason: string | null;
  readonly message: string | null;
  readonly registerString: string | null;
  readonly flags: string;
  readonly emulator: string | null;
  readonly steps: ArchPlan['steps'];
  readonly overlaps: ArchPlan['overlaps'];
  readonly persisted: string | null;
}

export interface InstallReport {
  readonly instance: { readonly dir: string; readonly namespace: InstanceNamespace; readonly mounted: boolean };
  readonly native: { readonly arches: ArchName[]; readonly method: NativeProbe['method']; readonly reason: string | null };
  readonly dryRun: boolean;
  readonly results: InstallResult[];
}

/** Resolves ARCH arguments; `all` means every installable architecture. */
export function wantedArches(args: readonly string[], allArches: () => ArchName[]): ArchName[] {
  if (args.includes('all')) {
    if (args.length > 1) throw new UsageError('install: \'all\' cannot be combined with architecture names');
    return allArches();
  }
  const names: ArchName[] = [];
  for (const arg of args) {
    const name = resolveArch(arg).name;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

export interface PlanContext {
  readonly arches: ArchName[];
  readonly plans: ArchPlan[];
  readonly entries: BinfmtEntry[];
  readonly native: NativeProbe;
  readonly mounted: boolean;
}

/** Everything install and export share: instance, native probe, emulators, plan. */
export async function buildPlans(args: readonly string[], options: PlanOptions & { requireInstance: boolean }, caller: CallerFacts): Promise<PlanContext> {
  if (options.emulator !== undefined && options.emulatorDir !== undefined) {
    throw new UsageError('install: use either --emulator or --emulator-dir, not both');
  }
  if (options.emulator !== undefined && args.includes('all')) {
    throw new UsageError('install: --emulator names one emulator; give the architecture(s) it runs instead of \'all\'');
  }
  const flags: BinfmtFlags | undefined = options.flags === undefined ? undefined : parseFlagLetters(options.flags);
  const mounted = isBinfmtDir(options.binfmtDir);
  const entries = mounted || options.requireInstance ? readInstance(options.binfmtDir).entries : [];
  const needNative = args.includes('all') || options.force !== true;
  const native: NativeProbe = needNative ? await probeNativeArches() : { arches: [], method: 'probe', reason: 'not needed with --force', details: [] };
  const search = { path: caller.env['PATH'], emulatorDir: options.emulatorDir };
  const arches = wantedArches(args, () => allInstallableArches(findEmulators(search).map((e) => e.arch), native.arches));
  const selection = await selectEmulators(arches, search, options.emulator, flags, caller.cwd);
  const plans = planInstall({ arches, emulators: selection.facts, flags, entries, nativeArches: native.arches, force: options.force });
  return { arches, plans, entries, native, mounted };
}

/**
 * --persist writes files systemd-binfmt reads at boot, for the HOST's
 * instance. From a private instance (a user namespace's) they would register
 * host-wide after the next reboot what was meant to stay private: refused,
 * unless CROSSROOT_BINFMT_D_DIR names another directory than /etc/binfmt.d.
 */
function checkPersist(options: InstallOptions, namespace: InstanceNamespace, binfmtD: string): void {
  if (options.persist !== true || namespace === 'host' || binfmtD !== DEFAULT_BINFMT_D_DIR) return;
  throw new UsageError(`install --persist: binfmt_misc at '${options.binfmtDir}' is a private instance (this user namespace's), but ${DEFAULT_BINFMT_D_DIR} is read by the host at boot`, {
    hint: 'drop --persist (the entries last as long as this namespace), or run it in the host\'s namespace',
  });
}

function installAction(plan: ArchPlan, dryRun: boolean): InstallResult['action'] {
  if (plan.action === 'unchanged') return 'unchanged';
  if (dryRun) return plan.action === 'add' ? 'planned-add' : 'planned-replace';
  return plan.action === 'add' ? 'added' : 'replaced';
}

export async function runInstall(args: readonly string[], options: InstallOptions, caller: CallerFacts): Promise<{ report: InstallReport; status: number }> {
  if (args.length === 0) throw new UsageError('install: name the architectures to install, or \'all\'', { hint: `e.g. 'crossroot binfmt install aarch64 arm' (known: ${ARCH_NAMES.slice(0, 6).join(', ')}, ...)` });
  const dryRun = options.dryRun === true;
  const namespace = currentInstanceNamespace();
  const binfmtD = binfmtDDir(caller.env);
  checkPersist(options, namespace, binfmtD);
  const context = await buildPlans(args, { ...options, requireInstance: !dryRun }, caller);
  const results: InstallResult[] = context.plans.map((plan): InstallResult => {
    const common = {
      arch: plan.arch, name: plan.name, reason: plan.reason, message: plan.message, registerString: plan.registerString,
      flags: plan.flags, emulator: plan.emulator, steps: plan.steps, overlaps: plan.overlaps, persisted: null,
    };
    if (plan.action === 'refuse') return { ...common, action: 'refused' };
    if (dryRun) return { ...common, action: installAction(plan, true) };
    const outcome = executeArchPlan(options.binfmtDir, plan, context.entries);
    if (!outcome.ok) {
      return {
        ...common, action: 'failed', reason: outcome.error?.code ?? 'BINFMT_WRITE',
        message: `${outcome.error?.message ?? 'write failed'}${outcome.error?.hint === undefined ? '' : ` (${outcome.error.hint})`}; rollback: ${outcome.rollback ?? ''}`,
      };
    }
    const persisted = options.persist === true ? persistArch(binfmtD, plan) : null;
    return { ...common, action: installAction(plan, false), persisted };
  });
  const report: InstallReport = {
    instance: { dir: options.binfmtDir, namespace, mounted: context.mounted },
    native: { arches: context.native.arches, method: context.native.method, reason: context.native.reason },
    dryRun,
    results,
  };
  const status = results.some((result) => result.action === 'refused' || result.action === 'failed') ? 1 : 0;
  return { report, status };
}
