// `crossroot binfmt install [ARCH...|all]`: registers crossroot's entries (crossroot-<arch>) for
// foreign architectures, idempotently and without a gap, refusing what would break the host.
import type { Command } from 'commander';
import type { CliContext, Io } from '../context.ts';
import { onRun, writeJson } from '../context.ts';
import type { ArchName } from '../../core/arch/arch.ts';
import { ARCH_NAMES, resolveArch } from '../../core/arch/arch.ts';
import type { BinfmtEntry, BinfmtFlags } from '../../core/binfmt/entry.ts';
import type { ArchPlan } from '../../core/binfmt/install-plan.ts';
import { allInstallableArches, parseFlagLetters, planInstall } from '../../core/binfmt/install-plan.ts';
import { UsageError } from '../../core/errors.ts';
import { DEFAULT_BINFMT_DIR, isBinfmtDir, readInstance } from '../../kernel/binfmt-fs.ts';
import { binfmtDDir, executeArchPlan, persistArch, selectEmulators } from '../../runner/binfmt/install.ts';
import type { NativeProbe } from '../../runner/host/native.ts';
import { probeNativeArches } from '../../runner/host/native.ts';
import { findEmulators } from '../../runner/host/emulators.ts';
import type { InstanceNamespace } from '../../runner/host/userns.ts';
import { currentInstanceNamespace, PRIVATE_INSTANCE_NOTE } from '../../runner/host/userns.ts';

export interface InstallOptions {
  readonly flags?: string;
  readonly persist?: boolean;
  readonly emulator?: string;
  readonly emulatorDir?: string;
  readonly dryRun?: boolean;
  readonly force?: boolean;
  readonly binfmtDir: string;
  readonly json?: boolean;
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

/** Resolves ARCH arguments; `all` (or nothing, for export) means every installable architecture. */
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
export async function buildPlans(
  args: readonly string[],
  options: { binfmtDir: string; flags?: string | undefined; emulator?: string | undefined; emulatorDir?: string | undefined; force?: boolean | undefined; requireInstance: boolean },
  io: Io,
): Promise<PlanContext> {
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
  const search = { path: io.env['PATH'], emulatorDir: options.emulatorDir };
  const arches = wantedArches(args, () => allInstallableArches(findEmulators(search).map((e) => e.arch), native.arches));
  const selection = await selectEmulators(arches, search, options.emulator, flags, io.cwd);
  const plans = planInstall({ arches, emulators: selection.facts, flags, entries, nativeArches: native.arches, force: options.force });
  return { arches, plans, entries, native, mounted };
}

function printHuman(io: Io, report: InstallReport): void {
  if (report.native.method === 'guess') {
    io.stderr(`crossroot: warning: native architectures guessed (${report.native.reason ?? ''}): ${report.native.arches.join(', ')}\n`);
  }
  for (const result of report.results) {
    const label = result.action.padEnd(15);
    io.stdout(`${label} ${result.arch.padEnd(12)} ${result.name}${result.flags === '' ? '' : ` flags ${result.flags}`}${result.emulator === null ? '' : ` ${result.emulator}`}\n`);
    if (result.message !== null) io.stdout(`${' '.repeat(16)}${result.reason === null ? '' : `${result.reason}: `}${result.message}\n`);
    for (const overlap of result.overlaps) {
      io.stdout(`${' '.repeat(16)}also matched by '${overlap.name}' (${overlap.interpreter}): ${overlap.winner === 'crossroot' ? `${result.name} is newer and wins` : `'${overlap.name}' is newer and wins`}\n`);
    }
    if (report.dryRun) for (const step of result.steps) io.stdout(`${' '.repeat(16)}${step.op === 'register' ? `register ${step.registerString}` : `remove   ${step.name}`}\n`);
    if (result.persisted !== null) io.stdout(`${' '.repeat(16)}persisted in ${result.persisted}\n`);
  }
  if (report.results.length === 0) io.stdout('nothing to install: no foreign architecture has an emulator on disk\n');
  if (report.instance.namespace === 'private') io.stderr(`crossroot: note: ${PRIVATE_INSTANCE_NOTE} (binfmt_misc at '${report.instance.dir}')\n`);
}

export async function runInstall(args: readonly string[], options: InstallOptions, io: Io): Promise<{ report: InstallReport; status: number }> {
  if (args.length === 0) throw new UsageError('install: name the architectures to install, or \'all\'', { hint: `e.g. 'crossroot binfmt install aarch64 arm' (known: ${ARCH_NAMES.slice(0, 6).join(', ')}, ...)` });
  const dryRun = options.dryRun === true;
  const context = await buildPlans(args, { ...options, requireInstance: !dryRun }, io);
  const namespace = currentInstanceNamespace();
  const binfmtD = binfmtDDir(io.env);
  const results: InstallResult[] = context.plans.map((plan): InstallResult => {
    const common = {
      arch: plan.arch, name: plan.name, reason: plan.reason, message: plan.message, registerString: plan.registerString,
      flags: plan.flags, emulator: plan.emulator, steps: plan.steps, overlaps: plan.overlaps, persisted: null,
    };
    if (plan.action === 'refuse') return { ...common, action: 'refused' };
    if (dryRun) return { ...common, action: plan.action === 'unchanged' ? 'unchanged' : plan.action === 'add' ? 'planned-add' : 'planned-replace' };
    const outcome = executeArchPlan(options.binfmtDir, plan, context.entries);
    if (!outcome.ok) {
      return {
        ...common, action: 'failed', reason: outcome.error?.code ?? 'BINFMT_WRITE',
        message: `${outcome.error?.message ?? 'write failed'}${outcome.error?.hint === undefined ? '' : ` (${outcome.error.hint})`}; rollback: ${outcome.rollback ?? ''}`,
      };
    }
    const persisted = options.persist === true ? persistArch(binfmtD, plan) : null;
    return { ...common, action: plan.action === 'unchanged' ? 'unchanged' : plan.action === 'add' ? 'added' : 'replaced', persisted };
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

export function registerBinfmtInstall(binfmt: Command, context: CliContext): void {
  const command = binfmt
    .command('install')
    .description('Register crossroot\'s binfmt_misc entries (crossroot-<arch>) so foreign programs run under QEMU.')
    .argument('[arch...]', 'architectures by any alias (aarch64, arm64, linux/arm/v7, ...), or \'all\'')
    .option('--flags <flags>', 'binfmt_misc flags instead of the defaults (F, C, and P where the emulator honours it)')
    .option('--persist', 'also write systemd binfmt.d files so a reboot or systemd-binfmt restores the entries')
    .option('--emulator <path>', 'use this emulator for the given architecture(s)')
    .option('--emulator-dir <dir>', 'look for emulators only in this directory')
    .option('--dry-run', 'print the plan and the register strings; change nothing')
    .option('--force', 'register even entries that match the host\'s own programs')
    .option('--binfmt-dir <dir>', 'the binfmt_misc instance', DEFAULT_BINFMT_DIR)
    .option('--json', 'print a JSON report');
  onRun<InstallOptions>(command, context, async (args, options) => {
    const { report, status } = await runInstall(args, options, context.io);
    if (options.json === true) writeJson(context.io, report);
    else printHuman(context.io, report);
    return status;
  });
}
