// crossroot's own binfmt_misc entries, built in one place for the three
// places that register them: `binfmt install` on the host (install-plan.ts),
// the private instance of `run`/`shell` (core/enter/enter-plan.ts) and the
// private instance of `create`, named as mmdebstrap looks for it
// (core/create/create-plan.ts). All match the catalog's magic and mask at
// offset 0; the callers choose the flags.
//
// Ownership is the name: crossroot's entries on the host are
// `crossroot-<canonical arch>` (plus the temporary `crossroot-<arch>.next` of
// a replace). No state file: whatever the kernel holds is the truth.
import type { ArchName, Architecture } from '../arch/arch.ts';
import { ARCHITECTURES } from '../arch/arch.ts';
import type { BinfmtFlags, MagicEntry } from './entry.ts';
import { formatRegisterString } from './rule.ts';

export const CROSSROOT_ENTRY_PREFIX = 'crossroot-';
export const NEXT_SUFFIX = '.next';

/** `crossroot-aarch64`. */
export function entryNameFor(arch: ArchName): string {
  return `${CROSSROOT_ENTRY_PREFIX}${arch}`;
}

/** Whether crossroot owns an entry of this name (its final or temporary names). */
export function isCrossrootEntry(name: string): boolean {
  return name.startsWith(CROSSROOT_ENTRY_PREFIX);
}

/** The architecture a crossroot entry name belongs to (`crossroot-arm.next` -> arm), or null. */
export function archOfEntryName(name: string): ArchName | null {
  if (!isCrossrootEntry(name)) return null;
  const rest = name.slice(CROSSROOT_ENTRY_PREFIX.length);
  const base = rest.includes('.') ? rest.slice(0, rest.indexOf('.')) : rest;
  return ARCHITECTURES.find((arch) => arch.name === base)?.name ?? null;
}

/**
 * The entry crossroot registers for `arch` with `interpreter` and `flags` (C
 * implies O, as in the kernel), named `crossroot-<arch>` unless `name` says
 * otherwise.
 */
export function ownEntry(arch: Pick<Architecture, 'name' | 'magic' | 'mask'>, interpreter: string, flags: BinfmtFlags, name = entryNameFor(arch.name)): MagicEntry {
  return {
    type: 'magic', name, enabled: true, interpreter, flags: { ...flags, O: flags.O || flags.C }, offset: 0, magic: arch.magic, mask: arch.mask,
  };
}

/** ownEntry as the register string the kernel takes. */
export function ownRegisterString(arch: Pick<Architecture, 'name' | 'magic' | 'mask'>, interpreter: string, flags: BinfmtFlags, name?: string): string {
  return formatRegisterString(ownEntry(arch, interpreter, flags, name));
}
