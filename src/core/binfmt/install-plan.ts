// The installer's planner (pure): wanted architectures + chosen emulators + flags + the instance's
// entries (newest first) -> per architecture, what to do and the exact kernel writes, in order.
//
// Ownership is the name (own-entries.ts): crossroot's entries are `crossroot-<canonical arch>`.
//
// Gap-free replace. The kernel tries entries newest first and names are unique, so:
//   1. register `crossroot-X.next` (new content)  -> newest, it wins at once
//   2. remove   `crossroot-X`        (old content) -> .next still wins
//   3. register `crossroot-X`        (new content) -> newest again, identical content
//   4. remove   `crossroot-X.next`
// At every instant between two writes an enabled entry with the old or the new content handles
// the architecture (install-plan.test.ts replays the steps and checks every intermediate state).
import type { ArchName, Architecture } from '../arch/arch.ts';
import { ARCHITECTURES, archByName, headerMatches } from '../arch/arch.ts';
import type { BinfmtEntry, BinfmtFlags, MagicEntry } from './entry.ts';
import { flagsToString } from './entry.ts';
import { entryMatchesHead, findHandler } from './match.ts';
import { formatRegisterString, renderEntryText } from './rule.ts';
import { UsageError } from '../errors.ts';
import { buildProbeElf, isProbeArch } from '../probe/probe-elf.ts';
import { archOfEntryName, entryNameFor, isCrossrootEntry, NEXT_SUFFIX, ownEntry } from './own-entries.ts';

// runner/binfmt/install.ts takes the prefix from here; its one home is own-entries.ts.
export { CROSSROOT_ENTRY_PREFIX } from './own-entries.ts';

/**
 * A header of a real program of `arch`: the probe (core/probe/probe-elf.ts) where one exists — i486 is
 * the i386 probe with e_machine EM_486 —, otherwise the catalog magic (zero-padded by the matcher).
 */
export function referenceProgram(arch: ArchName): Uint8Array | null {
  if (isProbeArch(arch)) return buildProbeElf(arch, 0);
  if (arch === 'i486') {
    const program = buildProbeElf('i386', 0);
    program[18] = 0x06; // e_machine EM_486 (little-endian)
    program[19] = 0x00;
    return program;
  }
  return null;
}

export function referenceHead(arch: Architecture): Uint8Array {
  return referenceProgram(arch.name) ?? arch.magic;
}

/** "POCF" letters (any order, any case) -> flags; C implies O as in the kernel. */
export function parseFlagLetters(text: string): BinfmtFlags {
  const flags = { P: false, O: false, C: false, F: false };
  for (const letter of text.toUpperCase()) {
    if (letter !== 'P' && letter !== 'O' && letter !== 'C' && letter !== 'F') {
      throw new UsageError(`parse flags '${text}': '${letter}' is not one of P, O, C, F`, {
        hint: 'P preserve argv[0], O open binary, C credentials (setuid), F fix binary (works in any root)',
      });
    }
    flags[letter] = true;
  }
  if (flags.C) flags.O = true;
  return flags;
}

/** The emulator facts the planner needs (runner/host/emulators.ts provides them). */
export interface EmulatorFacts {
  readonly path: string;
  readonly static: boolean;
  /** true honours P, false does not, null unknown (treated as not). */
  readonly honoursP: boolean | null;
  /** A -binfmt-P name: registered without P its arguments shift by one. */
  readonly requiresP: boolean;
}

/** Default flags: F always, C (with O) for setuid programs, P when the emulator honours it. */
export function defaultFlags(emulator: Pick<EmulatorFacts, 'honoursP' | 'requiresP'>): BinfmtFlags {
  return { P: emulator.honoursP === true || emulator.requiresP, O: true, C: true, F: true };
}

export const REFUSAL_CODES = {
  HOST_NATIVE: 'the entry would match the host\'s own native programs and hand them to an emulator',
  NO_EMULATOR: 'no emulator for this architecture was found',
  DYNAMIC_WITH_F: 'flag F pins a dynamically linked emulator: its loader and libraries would be looked up inside each root',
  NEEDS_P: 'this emulator (a -binfmt-P name) assumes flag P: without P its arguments shift by one',
} as const;
export type RefusalCode = keyof typeof REFUSAL_CODES;

export type PlanStep =
  | { readonly op: 'register'; readonly name: string; readonly registerString: string }
  | { readonly op: 'remove'; readonly name: string };

export interface ForeignOverlap {
  /** A foreign entry (not crossroot's) that also matches programs of this architecture. */
  readonly name: string;
  readonly interpreter: string;
  /** After the plan: 'crossroot' (ours is newer and wins) or 'foreign'. */
  readonly winner: 'crossroot' | 'foreign';
}

export interface ArchPlan {
  readonly arch: ArchName;
  readonly name: string;
  readonly action: 'unchanged' | 'add' | 'replace' | 'refuse';
  readonly reason: RefusalCode | null;
  /** Human explanation of a refusal or of why a replace happens. */
  readonly message: string | null;
  /** The entry crossroot wants (null when refused before one could be built). */
  readonly entry: MagicEntry | null;
  readonly registerString: string | null;
  readonly flags: string;
  readonly emulator: string | null;
  /** The kernel writes, in order (empty for unchanged and refuse). */
  readonly steps: readonly PlanStep[];
  readonly overlaps: readonly ForeignOverlap[];
}

export interface InstallPlanInput {
  /** Wanted architectures, canonical names, in the order to process them. */
  readonly arches: readonly ArchName[];
  /** The chosen emulator per architecture; a missing one is NO_EMULATOR. */
  readonly emulators: Readonly<Partial<Record<ArchName, EmulatorFacts>>>;
  /** Explicit flags (--flags); undefined = defaultFlags() of each emulator. */
  readonly flags?: BinfmtFlags | undefined;
  /** The instance's entries, newest first. */
  readonly entries: readonly BinfmtEntry[];
  /** Architectures the host runs without binfmt_misc (runner/host/native.ts). */
  readonly nativeArches: readonly ArchName[];
  readonly force?: boolean | undefined;
}

/** Same magic, mask, offset, interpreter, flags and enabled state (the name aside). */
export function sameEntryContent(a: BinfmtEntry, b: BinfmtEntry): boolean {
  return renderEntryText(a) === renderEntryText(b);
}

/** The native architectures whose programs `entry` would match. */
export function nativeMatches(entry: BinfmtEntry, nativeArches: readonly ArchName[]): ArchName[] {
  return nativeArches.filter((name) => entryMatchesHead(entry, referenceHead(archByName(name))));
}

/** What an entry that matches host programs does to them (install's HOST_NATIVE, check's TAKES_NATIVE). */
export function takesNativeMessage(native: readonly ArchName[], interpreter: string): string {
  return `the entry matches programs of ${native.map((n) => `'${n}'`).join(', ')}, which this host runs natively: every such host program would go through '${interpreter}'`;
}

export const RULE_WARNING_CODES = {
  TAKES_NATIVE: 'the rule would take the host\'s own native programs (install refuses it without --force)',
} as const;
export type RuleWarningCode = keyof typeof RULE_WARNING_CODES;

export interface RuleWarning {
  readonly code: RuleWarningCode;
  readonly message: string;
  readonly hint: string;
}

/** The traps of a valid rule that `binfmt install` would refuse: an entry that takes host programs. */
export function ruleWarnings(entry: BinfmtEntry, nativeArches: readonly ArchName[]): RuleWarning[] {
  const native = nativeMatches(entry, nativeArches);
  if (native.length === 0) return [];
  return [{
    code: 'TAKES_NATIVE',
    message: takesNativeMessage(native, entry.interpreter),
    hint: 'pin the foreign e_machine, class and byte order with the magic and mask (crossroot binfmt install ARCH writes such a rule)',
  }];
}

/** A temporary name free in `taken` and not the final one: .next, .next2, ... */
function temporaryName(finalName: string, taken: ReadonlySet<string>): string {
  for (let i = 1; ; i++) {
    const candidate = `${finalName}${NEXT_SUFFIX}${i === 1 ? '' : String(i)}`;
    if (!taken.has(candidate)) return candidate;
  }
}

function refuse(arch: ArchName, code: RefusalCode, message: string, partial: Partial<ArchPlan> = {}): ArchPlan {
  return {
    arch, name: entryNameFor(arch), action: 'refuse', reason: code, message, entry: null, registerString: null,
    flags: '', emulator: null, steps: [], overlaps: [], ...partial,
  };
}

/** Plans one architecture. */
export function planArch(arch: Architecture, input: InstallPlanInput): ArchPlan {
  const name = entryNameFor(arch.name);
  const emulator = input.emulators[arch.name];
  if (emulator === undefined) {
    return refuse(arch.name, 'NO_EMULATOR', `no ${arch.emulator}-static or ${arch.emulator} found`);
  }
  const flags = input.flags ?? defaultFlags(emulator);
  const entry = ownEntry(arch, emulator.path, flags);
  const registerString = formatRegisterString(entry);
  const facts = { entry, registerString, flags: flagsToString(flags), emulator: emulator.path };
  if (flags.F && !emulator.static) {
    return refuse(arch.name, 'DYNAMIC_WITH_F',
      `'${emulator.path}' is dynamically linked: with F its loader and libraries are looked up inside each root and chroot; install a static emulator (Debian: qemu-user-static) or drop F`,
      facts);
  }
  if (emulator.requiresP && !flags.P) {
    return refuse(arch.name, 'NEEDS_P', `'${emulator.path}' assumes P (it is a -binfmt-P name): add P or use qemu-${arch.emulator.replace(/^qemu-/, '')}-static`, facts);
  }
  const native = nativeMatches(entry, input.nativeArches);
  if (native.length > 0 && input.force !== true) {
    return refuse(arch.name, 'HOST_NATIVE', `${takesNativeMessage(native, emulator.path)} (use --force to register anyway)`, facts);
  }

  const entries = input.entries;
  const taken = new Set(entries.map((e) => e.name));
  const oldIndex = entries.findIndex((e) => e.name === name);
  const old = oldIndex < 0 ? undefined : entries[oldIndex];
  const leftovers = entries.filter((e) => e.name !== name && archOfEntryName(e.name) === arch.name).map((e) => e.name);
  const head = referenceHead(arch);
  const foreignMatches = entries
    .map((e, index) => ({ e, index }))
    .filter(({ e }) => !isCrossrootEntry(e.name) && e.enabled && entryMatchesHead(e, head));
  const shadowedBy = old === undefined ? [] : foreignMatches.filter(({ index }) => index < oldIndex);
  const handlerNow = findHandler(entries, head, '/probe');
  const oursWinsNow = old !== undefined && handlerNow?.name === name;

  let action: ArchPlan['action'];
  let message: string | null = null;
  const steps: PlanStep[] = [];
  if (old !== undefined && sameEntryContent(old, entry) && leftovers.length === 0 && oursWinsNow) {
    action = 'unchanged';
  } else if (old === undefined) {
    action = 'add';
    steps.push({ op: 'register', name, registerString });
  } else {
    action = 'replace';
    message = !sameEntryContent(old, entry)
      ? `the entry differs (now: flags '${flagsToString(old.flags)}', interpreter '${old.interpreter}'${old.enabled ? '' : ', disabled'})`
      : shadowedBy.length > 0
        ? `a newer entry ${shadowedBy.map(({ e }) => `'${e.name}'`).join(', ')} takes its programs: re-registering makes crossroot's newest`
        : 'leftover temporary entries from an interrupted run';
    const temporary = temporaryName(name, taken);
    const next = { ...entry, name: temporary };
    steps.push(
      { op: 'register', name: temporary, registerString: formatRegisterString(next) },
      { op: 'remove', name },
      { op: 'register', name, registerString },
      { op: 'remove', name: temporary },
    );
  }
  for (const leftover of leftovers) steps.push({ op: 'remove', name: leftover });
  const overlaps = foreignMatches.map(({ e, index }): ForeignOverlap => ({
    name: e.name,
    interpreter: e.interpreter,
    winner: action === 'unchanged' && index < oldIndex ? 'foreign' : 'crossroot',
  }));
  return { arch: arch.name, name, action, reason: null, message, ...facts, steps, overlaps };
}

/** Plans every wanted architecture, in order. */
export function planInstall(input: InstallPlanInput): ArchPlan[] {
  return input.arches.map((name) => planArch(archByName(name), input));
}

/**
 * `all`: every catalog architecture with an emulator that the host does not run natively
 * (neither named native by the probe nor matched by a native program's header).
 */
export function allInstallableArches(emulatorArches: Iterable<ArchName>, nativeArches: readonly ArchName[]): ArchName[] {
  const available = new Set(emulatorArches);
  return ARCHITECTURES
    .filter((arch) => available.has(arch.name) && !nativeArches.includes(arch.name))
    .filter((arch) => !nativeArches.some((native) => headerMatches(arch, referenceHead(archByName(native)))))
    .map((arch) => arch.name);
}

/** Replays plan steps on an entry list (newest first), as the kernel would. */
export function applySteps(entries: readonly BinfmtEntry[], steps: readonly PlanStep[], parse: (registerString: string) => BinfmtEntry): BinfmtEntry[] {
  let state = [...entries];
  for (const step of steps) {
    if (step.op === 'register') state = [parse(step.registerString), ...state];
    else state = state.filter((e) => e.name !== step.name);
  }
  return state;
}

export interface UninstallTarget {
  /** What the user typed. */
  readonly target: string;
  /** Entry names to remove (existing ones only). */
  readonly names: readonly string[];
  /** 'crossroot': crossroot's entries of an architecture; 'explicit': an entry named exactly. */
  readonly kind: 'crossroot' | 'explicit' | 'absent';
  readonly arch: ArchName | null;
}

/**
 * What `uninstall` removes. `all`: every crossroot entry (final and temporary names), nothing else.
 * An architecture name (any alias, resolved by `resolve`): crossroot's entries of it. Any other word
 * that is exactly an entry's name: that entry (the only way to remove someone else's entry).
 * `register` and `status` are never entries.
 */
export function planUninstall(
  targets: readonly string[],
  entries: readonly BinfmtEntry[],
  resolve: (alias: string) => ArchName | null,
): UninstallTarget[] {
  const names = entries.map((e) => e.name);
  if (targets.length === 0 || targets.includes('all')) {
    const ours = names.filter(isCrossrootEntry);
    const byArch = new Map<ArchName | null, string[]>();
    for (const name of ours) byArch.set(archOfEntryName(name), [...byArch.get(archOfEntryName(name)) ?? [], name]);
    return [...byArch.entries()].map(([arch, list]) => ({ target: 'all', names: list, kind: 'crossroot', arch }));
  }
  return targets.map((target): UninstallTarget => {
    if (target === 'register' || target === 'status') {
      throw new UsageError(`uninstall '${target}': it is binfmt_misc's control file, not an entry`);
    }
    if (names.includes(target)) {
      return { target, names: [target], kind: isCrossrootEntry(target) ? 'crossroot' : 'explicit', arch: archOfEntryName(target) };
    }
    const arch = resolve(target);
    if (arch === null) {
      throw new UsageError(`uninstall '${target}': it is neither an architecture nor an entry in this instance`, {
        hint: 'see \'crossroot binfmt status\' for the entry names',
      });
    }
    const ours = names.filter((name) => archOfEntryName(name) === arch);
    return { target, names: ours, kind: ours.length === 0 ? 'absent' : 'crossroot', arch };
  });
}

/** systemd binfmt.d file name: sorts after distribution files (qemu-*.conf, python3.11.conf ...). */
export function binfmtDFileName(arch: ArchName): string {
  return `zz-${entryNameFor(arch)}.conf`;
}

export function binfmtDFileText(plan: Pick<ArchPlan, 'registerString' | 'arch'>): string {
  return `# Written by 'crossroot binfmt install --persist'; 'crossroot binfmt uninstall ${plan.arch}' removes it.\n`
    + `# The zz- prefix makes systemd-binfmt register it after distribution files, so it wins.\n`
    + `${plan.registerString ?? ''}\n`;
}

/** update-binfmts template (/usr/share/binfmts/<name>) for a magic entry, keys in the order Debian's qemu-user-static files use. */
export function debianTemplateText(entry: MagicEntry, packageName = 'crossroot'): string {
  const escape = (bytes: Uint8Array | null): string =>
    bytes === null ? '' : [...bytes].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('');
  const yesNo = (value: boolean): string => (value ? 'yes' : 'no');
  return [
    `package ${packageName}`,
    `interpreter ${entry.interpreter}`,
    `magic ${escape(entry.magic)}`,
    `offset ${entry.offset}`,
    ...(entry.mask === null ? [] : [`mask ${escape(entry.mask)}`]),
    `credentials ${yesNo(entry.flags.C)}`,
    `fix_binary ${yesNo(entry.flags.F)}`,
    `preserve ${yesNo(entry.flags.P)}`,
    '',
  ].join('\n');
}
