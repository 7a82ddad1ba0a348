// Verdicts on a binfmt_misc instance: facts in (the entries, what is known about
// each interpreter, the probe results per architecture, which architectures the
// host runs natively), verdicts and reasons out. Used by `binfmt status`,
// `binfmt test` and `doctor`.
//
// Rules (DESIGN.md section 3, research binfmt-registrars.md sections 3 and 5):
//  - the handler of an architecture is the newest enabled entry whose magic/mask
//    matches that architecture's probe header (findHandler: newest first);
//  - an entry's probe result is that of the architectures it wins: 'ok' when
//    every one ran with the expected status directly AND inside an empty root,
//    'failed' when any did not, 'skipped' when it wins none (disabled,
//    shadowed, extension or non-ELF entries) or probes were not run;
//  - an architecture `works` when its probe ran right in both modes (null when
//    not probed); its `reason` says why not, naming the entry at fault.
import type { BinfmtEntry } from './entry.ts';
import type { ArchName } from '../arch/arch.ts';
import { ARCHITECTURES } from '../arch/arch.ts';
import { entryMatchesHead, findHandler } from './match.ts';
import { referenceHead, referenceProgram } from './install-plan.ts';
import { isCrossrootEntry } from './own-entries.ts';

/** crossroot's own entries are named crossroot-<canonical arch> (own-entries.ts): ownership is that prefix. */
export function ownerOf(name: string): 'crossroot' | null {
  return isCrossrootEntry(name) ? 'crossroot' : null;
}

const headers = new Map<ArchName, Uint8Array>(ARCHITECTURES.map((arch) => [arch.name, referenceHead(arch)]));

/**
 * The first bytes of a program of `arch`: its probe program (a real header the
 * kernel sees; i486 is the i386 probe with EM_486) or the catalog magic.
 */
export function archHeader(arch: ArchName): Uint8Array {
  return headers.get(arch) ?? new Uint8Array(0);
}

/** The path a probe has inside the empty root; no '.', so extension entries never take it. */
export function probePathInRoot(arch: ArchName): string {
  return `/${arch}`;
}

/** Canonical architectures whose header this entry's magic/mask matches (enabled or not). */
export function entryArches(entry: BinfmtEntry): ArchName[] {
  return ARCHITECTURES.filter((arch) => entryMatchesHead(entry, archHeader(arch.name))).map((arch) => arch.name);
}

/** The entry the kernel hands programs of `arch` to, or null. */
export function handlerOf(entries: readonly BinfmtEntry[], arch: ArchName, instanceEnabled: boolean): BinfmtEntry | null {
  return findHandler(entries, archHeader(arch), probePathInRoot(arch), instanceEnabled);
}

export interface InterpreterFacts {
  readonly exists: boolean;
  /** null when missing or not an ELF file (a script, unreadable). */
  readonly static: boolean | null;
  /** PT_INTERP of a dynamic interpreter, else null. */
  readonly loader: string | null;
  /** Whether the emulator honours P (AT_FLAGS), when known. */
  readonly honoursP?: boolean | undefined;
}

export interface ProbeFact {
  readonly ok: boolean;
  readonly expectedStatus: number;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly errno: string | null;
  readonly timedOut: boolean;
}

export interface ArchProbes {
  readonly direct: ProbeFact;
  readonly emptyRoot: ProbeFact;
}

export type Severity = 'error' | 'warning' | 'info';

/** Stable problem codes: tests and scripts match these, never the prose. */
export const HEALTH_CODES = {
  INSTANCE_DISABLED: 'binfmt_misc is switched off (status 0): no entry is used',
  ENTRY_DISABLED: 'the entry is disabled',
  INTERPRETER_MISSING: 'the interpreter does not exist and is not pinned by F',
  INTERPRETER_REMOVED: 'the pinned (F) interpreter was removed after registration',
  SHADOWED: 'a newer entry takes every program this entry matches',
  PARTLY_SHADOWED: 'a newer entry takes some of the programs this entry matches',
  F_DYNAMIC: 'F pins a dynamically linked interpreter: its loader is missing inside roots',
  NO_F: 'no F flag: the interpreter must exist inside every root',
  NO_C: 'no C flag: setuid programs lose their privileges',
  NO_P: 'no P flag although the emulator honours it: argv[0] is lost',
  NOT_AN_ARCH: 'the entry matches no catalog architecture: not probed',
  EXTENSION_ENTRY: 'an extension entry: chosen by file name, not probed',
  PROBE_DIRECT_FAILED: 'the probe failed when run directly',
  PROBE_EMPTY_ROOT_FAILED: 'the probe failed inside an empty root',
  NO_HANDLER: 'no enabled entry matches programs of the architecture',
  NATIVE_TAKEN_OVER: 'an entry takes programs of an architecture the host runs natively',
  NO_PROBE: 'no probe program exists for the architecture',
  NOT_PROBED: 'probes were not run',
} as const;

export type HealthCode = keyof typeof HEALTH_CODES;

export interface HealthProblem {
  readonly code: HealthCode;
  readonly severity: Severity;
  readonly message: string;
  readonly fix: string | null;
}

export interface EntryHealth {
  readonly interpreterExists: boolean;
  readonly interpreterStatic: boolean | null;
  readonly pinned: boolean;
  readonly probe: 'ok' | 'failed' | 'skipped';
  /** The most important problem's message, or null when healthy. */
  readonly reason: string | null;
  readonly problems: readonly HealthProblem[];
}

export interface EntryVerdict {
  readonly entry: BinfmtEntry;
  readonly arches: readonly ArchName[];
  /** Architectures this entry handles (wins). */
  readonly handles: readonly ArchName[];
  readonly owner: 'crossroot' | null;
  readonly health: EntryHealth;
}

export interface ArchVerdict {
  readonly arch: ArchName;
  /** null when unknown (native detection not run or failed). */
  readonly native: boolean | null;
  readonly handler: string | null;
  /** null when not probed. */
  readonly works: boolean | null;
  readonly reason: string | null;
  readonly problems: readonly HealthProblem[];
  readonly probes: ArchProbes | null;
}

export interface InstanceFacts {
  readonly enabled: boolean;
  /** Newest first, as readInstance returns them. */
  readonly entries: readonly BinfmtEntry[];
  /** Keyed by the interpreter string as registered. */
  readonly interpreters: ReadonlyMap<string, InterpreterFacts>;
  /** Probe results per architecture; an architecture absent here was not probed. */
  readonly probes: ReadonlyMap<ArchName, ArchProbes>;
  /** Architectures the host runs natively; null when unknown. */
  readonly native: ReadonlySet<ArchName> | null;
  /** Architectures to report (default: the whole catalog). */
  readonly arches?: readonly ArchName[];
}

export interface InstanceVerdict {
  readonly entries: readonly EntryVerdict[];
  readonly arches: readonly ArchVerdict[];
}

function problem(code: HealthCode, severity: Severity, message: string, fix: string | null = null): HealthProblem {
  return { code, severity, message, fix };
}

/** "exit status '1', expected '42'", "exec failed with ENOENT", ... */
export function describeProbe(fact: ProbeFact): string {
  if (fact.ok) return `exit status '${fact.expectedStatus}' as expected`;
  if (fact.timedOut) return 'it timed out';
  if (fact.errno !== null) return `exec failed with ${fact.errno}`;
  if (fact.signal !== null) return `it was killed by signal '${fact.signal}'`;
  return `exit status '${String(fact.exitCode)}', expected '${fact.expectedStatus}'`;
}

function quoteList(names: readonly string[]): string {
  return names.map((name) => `'${name}'`).join(', ');
}

const MISSING_INTERPRETER: InterpreterFacts = { exists: false, static: null, loader: null };

function interpreterOf(facts: InstanceFacts, entry: BinfmtEntry): InterpreterFacts {
  return facts.interpreters.get(entry.interpreter) ?? MISSING_INTERPRETER;
}

/**
 * Problems that follow from the entry and its interpreter alone; `emptyRootFailed`
 * (undefined when not probed) decides whether a missing F is an error or a warning.
 */
function staticProblems(entry: BinfmtEntry, arches: readonly ArchName[], interpreter: InterpreterFacts): HealthProblem[] {
  const problems: HealthProblem[] = [];
  const reRegister = 'register it again with flags F and C (crossroot binfmt install ARCH)';
  if (!interpreter.exists) {
    problems.push(entry.flags.F
      ? problem('INTERPRETER_REMOVED', 'warning',
        `interpreter '${entry.interpreter}' was removed after registration: F keeps running the old file until the entry is registered again`,
        'register the entry again so it pins the current emulator')
      : problem('INTERPRETER_MISSING', 'error',
        `interpreter '${entry.interpreter}' is missing: every matching exec fails with ENOENT`,
        'install the emulator or remove the entry'));
  }
  if (entry.type === 'magic' && arches.length > 0) {
    if (entry.flags.F && interpreter.static === false) {
      const loader = interpreter.loader === null ? 'its loader' : `its loader '${interpreter.loader}'`;
      problems.push(problem('F_DYNAMIC', 'error',
        `F pinned to a dynamically linked emulator: '${entry.interpreter}' needs ${loader} inside the root, so execs in a chroot or container fail with ENOENT`,
        'register a static emulator (qemu-user-static) instead'));
    }
    if (!entry.flags.F && interpreter.exists) {
      problems.push(problem('NO_F', 'error',
        `entry '${entry.name}' has no F flag: inside a root '${entry.interpreter}' does not exist`,
        reRegister));
    }
    if (!entry.flags.C) {
      problems.push(problem('NO_C', 'warning',
        'no C flag: setuid programs such as sudo run without their privileges', reRegister));
    }
    if (!entry.flags.P && interpreter.honoursP === true) {
      problems.push(problem('NO_P', 'warning',
        `no P flag: '${entry.interpreter}' honours it, and without it programs lose their argv[0] (busybox applets, login shells)`,
        'register it again with flag P'));
    }
  }
  return problems;
}

/** The first problem that explains a failure in `mode`, from the handler's own problems. */
function explainFailure(mode: 'direct' | 'emptyRoot', entryProblems: readonly HealthProblem[]): HealthProblem | undefined {
  const relevant: readonly HealthCode[] = mode === 'direct'
    ? ['INTERPRETER_MISSING']
    : ['INTERPRETER_MISSING', 'F_DYNAMIC', 'NO_F'];
  return entryProblems.find((candidate) => relevant.includes(candidate.code));
}

interface ProbeFailure {
  readonly problem: HealthProblem;
  /** The entry problem that explains it, when one does. */
  readonly cause: HealthProblem | undefined;
}

/**
 * Probe failures of one architecture (empty when both modes ran right). An
 * explained failure leads with its cause: "entry 'qemu-aarch64' has no F flag:
 * ... (probe inside an empty root: exec failed with ENOENT)".
 */
function probeFailures(arch: ArchName, probes: ArchProbes, handlerProblems: readonly HealthProblem[]): ProbeFailure[] {
  const failures: ProbeFailure[] = [];
  const modes = [
    { mode: 'direct', fact: probes.direct, code: 'PROBE_DIRECT_FAILED', where: 'run directly' },
    { mode: 'emptyRoot', fact: probes.emptyRoot, code: 'PROBE_EMPTY_ROOT_FAILED', where: 'inside an empty root' },
  ] as const;
  for (const { mode, fact, code, where } of modes) {
    if (fact.ok) continue;
    const cause = explainFailure(mode, handlerProblems);
    const message = cause === undefined
      ? `probe of '${arch}' failed ${where}: ${describeProbe(fact)}`
      : `${cause.message} (probe of '${arch}' ${where}: ${describeProbe(fact)})`;
    const fix = cause?.fix ?? (mode === 'direct'
      ? `run the emulator by hand on a '${arch}' program to see its error`
      : 'register the entry with flag F and a static emulator');
    failures.push({ problem: problem(code, 'error', message, fix), cause });
  }
  return failures;
}

/** Which problem becomes the one-line `reason`: why an entry is unused first, then what breaks it. */
const REASON_ORDER: readonly HealthCode[] = [
  'INSTANCE_DISABLED', 'ENTRY_DISABLED', 'SHADOWED', 'NO_HANDLER', 'INTERPRETER_MISSING', 'F_DYNAMIC', 'NO_F',
  'PROBE_DIRECT_FAILED', 'PROBE_EMPTY_ROOT_FAILED', 'NATIVE_TAKEN_OVER', 'INTERPRETER_REMOVED', 'NO_C', 'NO_P',
  'PARTLY_SHADOWED', 'EXTENSION_ENTRY', 'NOT_AN_ARCH', 'NO_PROBE', 'NOT_PROBED',
];

function sortProblems(problems: readonly HealthProblem[]): HealthProblem[] {
  return [...problems].sort((a, b) => REASON_ORDER.indexOf(a.code) - REASON_ORDER.indexOf(b.code));
}

/** The first problem's message; informational notes only when nothing else is wrong. */
function reasonOf(sorted: readonly HealthProblem[]): string | null {
  return sorted[0]?.message ?? null;
}

type Handlers = ReadonlyMap<ArchName, BinfmtEntry | null>;

/** Why the kernel does not use the entry for some or all of its architectures. */
function visibilityProblems(facts: InstanceFacts, entry: BinfmtEntry, arches: readonly ArchName[], handles: readonly ArchName[], handlers: Handlers): HealthProblem[] {
  const problems: HealthProblem[] = [];
  if (!facts.enabled) {
    problems.push(problem('INSTANCE_DISABLED', 'error',
      'binfmt_misc is disabled: the kernel uses none of its entries', 'write 1 to the instance\'s \'status\' file'));
  }
  if (!entry.enabled) {
    problems.unshift(problem('ENTRY_DISABLED', 'warning', 'entry disabled', `write 1 to the entry's file to enable '${entry.name}'`));
  } else if (facts.enabled && arches.length > 0) {
    const shadowed = arches.filter((arch) => !handles.includes(arch));
    const winners = [...new Set(shadowed.map((arch) => handlers.get(arch)?.name).filter((name) => name !== undefined))];
    if (shadowed.length > 0 && handles.length === 0) {
      problems.push(problem('SHADOWED', 'warning', `shadowed by newer entry ${quoteList(winners)}`,
        `remove the entry, or register it again to make it the newest`));
    } else if (shadowed.length > 0) {
      problems.push(problem('PARTLY_SHADOWED', 'info',
        `shadowed for ${quoteList(shadowed)} by newer entry ${quoteList(winners)}`, null));
    }
  }
  return problems;
}

/**
 * Runs the probes of the architectures the entry handles against its
 * problems (in place): a probe that worked in the empty root disproves NO_F
 * and F_DYNAMIC; unexplained failures are added.
 */
function applyProbes(facts: InstanceFacts, handles: readonly ArchName[], problems: HealthProblem[]): EntryHealth['probe'] {
  const probed = handles.filter((arch) => facts.probes.has(arch));
  if (probed.length === 0) return 'skipped';
  const failures = probed.flatMap((arch) => {
    const probes = facts.probes.get(arch);
    return probes === undefined ? [] : probeFailures(arch, probes, problems);
  });
  const outcome = failures.length === 0 ? 'ok' : 'failed';
  // A probe that worked in the empty root proves the interpreter is reachable there after all.
  if (outcome === 'ok') {
    const disproved: readonly HealthCode[] = ['NO_F', 'F_DYNAMIC'];
    for (let i = problems.length - 1; i >= 0; i--) {
      const candidate = problems[i];
      if (candidate !== undefined && disproved.includes(candidate.code)) problems.splice(i, 1);
    }
  }
  // An explained failure is already there as its cause; add only the unexplained ones.
  problems.push(...failures.filter((failure) => failure.cause === undefined).map((failure) => failure.problem));
  return outcome;
}

function assessEntry(facts: InstanceFacts, entry: BinfmtEntry, handlers: Handlers): EntryVerdict {
  const arches = entry.type === 'magic' ? entryArches(entry) : [];
  const handles = arches.filter((arch) => handlers.get(arch) === entry);
  const interpreter = interpreterOf(facts, entry);
  const visibility = visibilityProblems(facts, entry, arches, handles, handlers);
  // Disabled states lead, shadowing follows the entry's own problems.
  const leading = visibility.filter((item) => item.code === 'ENTRY_DISABLED' || item.code === 'INSTANCE_DISABLED');
  const problems = [...leading, ...staticProblems(entry, arches, interpreter), ...visibility.filter((item) => !leading.includes(item))];
  if (entry.type === 'extension') {
    problems.push(problem('EXTENSION_ENTRY', 'info', `extension entry: chosen by the file name ending '.${entry.extension}', not probed`));
  } else if (arches.length === 0) {
    problems.push(problem('NOT_AN_ARCH', 'info', 'matches no CPU architecture of the catalog: not probed'));
  }
  const probe = applyProbes(facts, handles, problems);
  const sorted = sortProblems(problems);
  return {
    entry,
    arches,
    handles,
    owner: ownerOf(entry.name),
    health: {
      interpreterExists: interpreter.exists,
      interpreterStatic: interpreter.static,
      pinned: entry.flags.F,
      probe,
      reason: reasonOf(sorted),
      problems: sorted,
    },
  };
}

/** NO_HANDLER for an architecture no enabled entry takes (unless it runs natively or its probe worked). */
function noHandlerProblem(facts: InstanceFacts, arch: ArchName, native: boolean | null, works: boolean | null): HealthProblem | null {
  if (native === true || works === true) return null;
  const disabled = facts.entries.filter((entry) => entry.type === 'magic' && entryMatchesHead(entry, archHeader(arch)));
  const why = !facts.enabled
    ? 'binfmt_misc is disabled'
    : disabled.length > 0
      ? `entry ${quoteList(disabled.map((entry) => entry.name))} matching them is disabled`
      : 'no enabled entry matches them';
  return problem('NO_HANDLER', native === false || works === false ? 'error' : 'warning',
    `'${arch}' programs have no handler: ${why}, so they fail with ENOEXEC (exec format error)`,
    `crossroot binfmt install ${arch}`);
}

function assessArch(facts: InstanceFacts, arch: ArchName, handlers: Handlers, verdictOf: ReadonlyMap<BinfmtEntry, EntryVerdict>): ArchVerdict {
  const handler = handlers.get(arch) ?? null;
  const native = facts.native === null ? null : facts.native.has(arch);
  const probes = facts.probes.get(arch) ?? null;
  const problems: HealthProblem[] = [];
  const works = probes === null ? null : probes.direct.ok && probes.emptyRoot.ok;
  if (handler === null) {
    const missing = noHandlerProblem(facts, arch, native, works);
    if (missing !== null) problems.push(missing);
  } else {
    if (native === true) {
      problems.push(problem('NATIVE_TAKEN_OVER', 'warning',
        `entry '${handler.name}' takes over native '${arch}' programs: every host program of this architecture runs under '${handler.interpreter}'`,
        `remove the entry: crossroot binfmt uninstall ${handler.name}`));
    }
    const entryProblems = verdictOf.get(handler)?.health.problems ?? [];
    if (probes !== null && works === false) {
      problems.push(...probeFailures(arch, probes, entryProblems).map((failure) => failure.problem));
    } else if (probes === null) {
      // Not probed: the entry's own errors are the best prediction.
      problems.push(...entryProblems.filter((candidate) => candidate.severity === 'error'));
    }
  }
  if (probes === null) {
    problems.push(referenceProgram(arch) !== null
      ? problem('NOT_PROBED', 'info', 'not probed')
      : problem('NO_PROBE', 'info', `no probe program for '${arch}': not probed`));
  } else if (works === false && handler === null && problems.length === 0) {
    problems.push(...probeFailures(arch, probes, []).map((failure) => failure.problem));
  }
  const sorted = sortProblems(problems);
  return { arch, native, handler: handler?.name ?? null, works, reason: reasonOf(sorted), problems: sorted, probes };
}

/** Verdicts for every entry and architecture of one instance. */
export function assessInstance(facts: InstanceFacts): InstanceVerdict {
  const archList = facts.arches ?? ARCHITECTURES.map((arch) => arch.name);
  const handlers: Handlers = new Map<ArchName, BinfmtEntry | null>(
    ARCHITECTURES.map((arch) => [arch.name, handlerOf(facts.entries, arch.name, facts.enabled)]));
  const entries = facts.entries.map((entry) => assessEntry(facts, entry, handlers));
  const verdictOf = new Map(entries.map((verdict) => [verdict.entry, verdict]));
  return { entries, arches: archList.map((arch) => assessArch(facts, arch, handlers, verdictOf)) };
}

/**
 * The architectures `binfmt test` reports: the named ones, or (none named)
 * every foreign one an entry handles; one nobody registered is absent, not failing.
 */
export function testedVerdicts(arches: readonly ArchVerdict[], requested: readonly ArchName[] | null): ArchVerdict[] {
  return requested === null
    ? arches.filter((verdict) => verdict.handler !== null && verdict.native !== true)
    : arches.filter((verdict) => requested.includes(verdict.arch));
}
