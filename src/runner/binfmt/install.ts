// Carrying out the installer's plan (core/binfmt-plan.ts): emulator choice, the kernel writes with
// all-or-nothing rollback per architecture, and systemd binfmt.d persistence.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArchName } from '../../core/arch/arch.ts';
import type { BinfmtEntry, BinfmtFlags } from '../../core/binfmt/entry.ts';
import type { ArchPlan, EmulatorFacts } from '../../core/binfmt/install-plan.ts';
import { binfmtDFileName, binfmtDFileText, CROSSROOT_ENTRY_PREFIX } from '../../core/binfmt/install-plan.ts';
import { formatRegisterString } from '../../core/binfmt/rule.ts';
import { CrossrootError, isCrossrootError } from '../../core/errors.ts';
import { registerEntry, removeEntry } from '../../kernel/binfmt-write.ts';
import type { Emulator, FindEmulatorsOptions } from '../host/emulators.ts';
import { chooseEmulator, describeEmulator, findEmulatorCandidates, honoursPreserveArgv0 } from '../host/emulators.ts';

/** Where --persist writes: CROSSROOT_BINFMT_D_DIR overrides /etc/binfmt.d (tests). */
export const DEFAULT_BINFMT_D_DIR = '/etc/binfmt.d';
export function binfmtDDir(env: Readonly<Record<string, string | undefined>>): string {
  return env['CROSSROOT_BINFMT_D_DIR'] ?? DEFAULT_BINFMT_D_DIR;
}

export interface EmulatorSelection {
  readonly facts: Partial<Record<ArchName, EmulatorFacts>>;
  readonly chosen: Partial<Record<ArchName, Emulator>>;
}

/**
 * The emulator of each wanted architecture. `explicitPath` (--emulator) serves every wanted
 * architecture. P support is settled (a version query per emulator) only when the flags are the
 * defaults, because only then does it change anything.
 */
export async function selectEmulators(
  arches: readonly ArchName[],
  search: FindEmulatorsOptions,
  explicitPath: string | undefined,
  flags: BinfmtFlags | undefined,
  cwd: string,
): Promise<EmulatorSelection> {
  const candidates = findEmulatorCandidates(search);
  const chosen: Partial<Record<ArchName, Emulator>> = {};
  for (const arch of arches) {
    const emulator = explicitPath !== undefined
      ? describeEmulator(arch, explicitPath, 'explicit', cwd)
      : chooseEmulator(candidates, arch, flags?.P);
    if (emulator !== null) chosen[arch] = emulator;
  }
  const facts: Partial<Record<ArchName, EmulatorFacts>> = {};
  await Promise.all(Object.entries(chosen).map(async ([arch, emulator]) => {
    const honoursP = flags === undefined ? await honoursPreserveArgv0(emulator) : emulator.honoursP;
    facts[arch as ArchName] = { path: emulator.path, static: emulator.static, honoursP, requiresP: emulator.requiresP };
  }));
  return { facts, chosen };
}

export interface ExecutionResult {
  readonly ok: boolean;
  readonly error: CrossrootError | null;
  /** What the rollback did, when a step failed. */
  readonly rollback: string | null;
}

/**
 * Runs one architecture's steps. On a failure, undoes what was done so that the architecture is
 * as before: temporary entries removed, a removed old entry registered again.
 */
export function executeArchPlan(dir: string, plan: ArchPlan, before: readonly BinfmtEntry[]): ExecutionResult {
  const registered: string[] = [];
  const removed: BinfmtEntry[] = [];
  for (const step of plan.steps) {
    try {
      if (step.op === 'register') {
        registerEntry(dir, step.registerString);
        registered.push(step.name);
      } else {
        removeEntry(dir, step.name);
        const old = before.find((entry) => entry.name === step.name);
        if (old !== undefined) removed.push(old);
        const index = registered.indexOf(step.name);
        if (index >= 0) registered.splice(index, 1);
      }
    } catch (error) {
      const failure = isCrossrootError(error) ? error : new CrossrootError('BINFMT_WRITE', String(error));
      const notes: string[] = [];
      // Old entries back first (under their own names, newest position), then our new names away.
      for (const old of removed) {
        if (registered.includes(old.name)) continue;
        try {
          registerEntry(dir, formatRegisterString(old));
          if (!old.enabled) notes.push(`'${old.name}' restored (enabled: it was disabled)`);
          else notes.push(`'${old.name}' restored`);
        } catch (restoreError) {
          notes.push(`'${old.name}' could not be restored: ${restoreError instanceof Error ? restoreError.message : String(restoreError)}`);
        }
      }
      for (const name of registered.reverse()) {
        if (removed.some((old) => old.name === name)) continue;
        try {
          removeEntry(dir, name);
          notes.push(`'${name}' removed`);
        } catch (removeError) {
          notes.push(`'${name}' could not be removed: ${removeError instanceof Error ? removeError.message : String(removeError)}`);
        }
      }
      return { ok: false, error: failure, rollback: notes.length === 0 ? 'nothing to undo' : notes.join('; ') };
    }
  }
  return { ok: true, error: null, rollback: null };
}

/** Writes (atomically) the binfmt.d file of an installed architecture; returns its path. */
export function persistArch(binfmtD: string, plan: ArchPlan): string {
  mkdirSync(binfmtD, { recursive: true });
  const path = join(binfmtD, binfmtDFileName(plan.arch));
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, binfmtDFileText(plan), { mode: 0o644 });
  renameSync(temporary, path);
  return path;
}

/** Removes crossroot's binfmt.d files: of `arch`, or all of them; returns the removed paths. */
export function removePersisted(binfmtD: string, arch: ArchName | 'all'): string[] {
  if (!existsSync(binfmtD)) return [];
  const names = arch === 'all'
    ? readdirSync(binfmtD).filter((name) => name.startsWith(`zz-${CROSSROOT_ENTRY_PREFIX}`) && name.endsWith('.conf'))
    : [binfmtDFileName(arch)].filter((name) => existsSync(join(binfmtD, name)));
  for (const name of names) rmSync(join(binfmtD, name), { force: true });
  return names.map((name) => join(binfmtD, name));
}
