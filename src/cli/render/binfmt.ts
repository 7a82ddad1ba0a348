// The JSON shapes of binfmt_misc entries, architectures and probes, shared by
// `binfmt check`, `binfmt status` and `binfmt test` (and DESIGN.md's contract).
import type { BinfmtEntry } from '../../core/binfmt/entry.ts';
import { flagsToString } from '../../core/binfmt/entry.ts';
import type { ArchVerdict, EntryVerdict, HealthProblem, ProbeFact } from '../../core/binfmt/health.ts';
import { toHex } from '../../core/binfmt/rule.ts';
import type { EmulatorReport, StatusReport } from '../../runner/binfmt/health.ts';
import { displayText } from './json.ts';

/** The entry's fields for JSON; byte strings shown as UTF-8 text. */
export interface EntrySummary {
  readonly type: 'magic' | 'extension';
  readonly offset: number | null;
  readonly magic: string | null;
  readonly mask: string | null;
  readonly extension: string | null;
  readonly interpreter: string;
  readonly flags: string;
}

export function summarizeEntry(entry: BinfmtEntry): EntrySummary {
  return {
    type: entry.type,
    offset: entry.type === 'magic' ? entry.offset : null,
    magic: entry.type === 'magic' ? toHex(entry.magic) : null,
    mask: entry.type === 'magic' && entry.mask !== null ? toHex(entry.mask) : null,
    extension: entry.type === 'extension' ? displayText(entry.extension) : null,
    interpreter: displayText(entry.interpreter),
    flags: flagsToString(entry.flags),
  };
}

function problemJson(problem: HealthProblem) {
  return { code: problem.code, severity: problem.severity, message: displayText(problem.message), fix: problem.fix };
}

export function entryJson(verdict: EntryVerdict) {
  return {
    name: displayText(verdict.entry.name),
    enabled: verdict.entry.enabled,
    ...summarizeEntry(verdict.entry),
    arches: verdict.arches,
    owner: verdict.owner,
    health: {
      interpreterExists: verdict.health.interpreterExists,
      interpreterStatic: verdict.health.interpreterStatic,
      pinned: verdict.health.pinned,
      probe: verdict.health.probe,
      reason: verdict.health.reason === null ? null : displayText(verdict.health.reason),
      problems: verdict.health.problems.map(problemJson),
    },
  };
}

export function archJson(verdict: ArchVerdict) {
  return {
    arch: verdict.arch,
    native: verdict.native,
    handler: verdict.handler === null ? null : displayText(verdict.handler),
    works: verdict.works,
    reason: verdict.reason === null ? null : displayText(verdict.reason),
    problems: verdict.problems.map(problemJson),
  };
}

/** The JSON document of `binfmt status --json` (the contract, plus `note`, `enabled` and `problems`). */
export function statusJson(report: StatusReport) {
  const common = { mounted: report.mounted, path: report.path, namespace: report.namespace.namespace, note: report.namespace.note };
  const emulators = report.emulators.map((emulator: EmulatorReport) => ({ ...emulator }));
  if (!report.mounted) return { ...common, hint: report.hint, severity: report.severity, entries: [], emulators, arches: [] };
  return {
    ...common,
    enabled: report.enabled,
    probed: report.verdict.arches.some((arch) => arch.probes !== null),
    nativeMethod: report.nativeMethod,
    entries: report.verdict.entries.map(entryJson),
    emulators,
    arches: report.verdict.arches.map(archJson),
  };
}

function probeJson(fact: ProbeFact | undefined) {
  if (fact === undefined) return null;
  return { ok: fact.ok, exitCode: fact.exitCode, signal: fact.signal, errno: fact.errno, timedOut: fact.timedOut, expectedStatus: fact.expectedStatus };
}

export function testResultJson(verdict: ArchVerdict) {
  return {
    ...archJson(verdict),
    direct: probeJson(verdict.probes?.direct),
    emptyRoot: probeJson(verdict.probes?.emptyRoot),
  };
}
