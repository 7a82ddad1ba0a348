// `crossroot binfmt check RULE...`: judges register strings as this kernel would, against the
// entries visible at --binfmt-dir, without registering anything.
import type { Command } from 'commander';
import type { CliContext, Io } from '../context.ts';
import { onRun, writeJson } from '../context.ts';
import type { BinfmtEntry } from '../../core/binfmt/entry.ts';
import { flagsToString } from '../../core/binfmt/entry.ts';
import { judgeRegisterString, renderEntryText, toHex } from '../../core/binfmt/rule.ts';
import type { RegisterVerdict } from '../../core/binfmt/rule.ts';
import { DEFAULT_BINFMT_DIR, entryExists, isBinfmtDir } from '../../kernel/binfmt-fs.ts';
import { openExecErrno } from '../../runner/fs/open-exec.ts';
import { ARCHITECTURES } from '../../core/arch/arch.ts';
import { entryMatchesHead } from '../../core/binfmt/match.ts';
import type { ArchName } from '../../core/arch/arch.ts';
import { ruleWarnings } from '../../core/binfmt/install-plan.ts';
import type { RuleWarning } from '../../core/binfmt/install-plan.ts';
import { REGISTER_STRING_FORMAT } from '../../core/binfmt/rule.ts';
import { guessNativeArches } from '../../runner/host/native.ts';

interface CheckOptions {
  readonly binfmtDir: string;
  readonly json?: boolean;
}

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

export interface CheckRecord {
  readonly rule: string;
  readonly valid: boolean;
  readonly errno: string | null;
  readonly reason: string | null;
  /** What the entry file would read after the registration; null when invalid. */
  readonly entryText: string | null;
  /** The entry name, when the rule parses far enough to have one. */
  readonly name: string | null;
  readonly entry: EntrySummary | null;
  /** Catalog architectures whose reference header (the catalog magic, zero-padded) this rule matches. */
  readonly arches: string[];
  /** false when no binfmt_misc was visible at the dir: taken names (EEXIST) were not checked. */
  readonly nameChecked: boolean;
  /** Traps of a valid rule that install would refuse (TAKES_NATIVE). */
  readonly warnings: readonly RuleWarning[];
  /** For a rule that does not parse: the expected layout. */
  readonly hint: string | null;
}

/** Byte strings (latin1) from the core, as the UTF-8 text a terminal shows. */
function displayText(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
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

/** Judges each rule; `visible` says whether the dir holds a binfmt_misc instance to check names against. */
export function checkRules(
  rules: readonly string[], dir: string, cwd: string, nativeArches: readonly ArchName[] = guessNativeArches(),
): { records: CheckRecord[]; visible: boolean } {
  const visible = isBinfmtDir(dir);
  const records = rules.map((rule): CheckRecord => {
    const verdict: RegisterVerdict = judgeRegisterString(new TextEncoder().encode(rule), {
      openInterpreter: (interpreter) => openExecErrno(interpreter, cwd),
      nameTaken: (name) => visible && entryExists(dir, name),
    });
    const entry = verdict.entry;
    return {
      rule,
      valid: verdict.ok,
      errno: verdict.ok ? null : verdict.errno,
      reason: verdict.ok ? null : verdict.reason,
      entryText: verdict.ok ? displayText(renderEntryText(verdict.entry)) : null,
      name: entry === null ? null : displayText(entry.name),
      entry: entry === null ? null : summarizeEntry(entry),
      arches: entry === null ? [] : ARCHITECTURES.filter((arch) => entryMatchesHead(entry, arch.magic)).map((arch) => arch.name),
      nameChecked: visible,
      warnings: verdict.ok ? ruleWarnings(verdict.entry, nativeArches) : [],
      hint: !verdict.ok && verdict.errno === 'EINVAL' ? `a register string is ${REGISTER_STRING_FORMAT}` : null,
    };
  });
  return { records, visible };
}

function printHuman(io: Io, records: readonly CheckRecord[]): void {
  for (const record of records) {
    // The rule as typed (a shell would need it in single quotes), not JSON-escaped.
    const rule = `'${record.rule}'`;
    if (record.valid && record.entryText !== null) {
      io.stdout(`valid    ${rule}\n`);
      for (const line of record.entryText.replace(/\n$/, '').split('\n')) io.stdout(`         ${line}\n`);
    } else {
      io.stdout(`${(record.errno ?? '').padEnd(8)} ${rule}: ${record.reason ?? ''}\n`);
      if (record.hint !== null) io.stdout(`hint: ${record.hint}\n`);
    }
    for (const warning of record.warnings) io.stderr(`crossroot: warning: check ${rule}: ${warning.message}\nhint: ${warning.hint}\n`);
  }
}

export function registerBinfmtCheck(binfmt: Command, context: CliContext): void {
  const command = binfmt
    .command('check')
    .description('Judge binfmt_misc register strings as this kernel would, without registering them.')
    .argument('<rule...>', 'register strings, e.g. \':qemu-aarch64:M::\\x7fELF...:...:/usr/bin/qemu-aarch64-static:F\'')
    .option('--binfmt-dir <dir>', 'the binfmt_misc instance whose names count as taken', DEFAULT_BINFMT_DIR)
    .option('--json', 'print a JSON array, one record per rule');
  onRun<CheckOptions>(command, context, async (rules, options) => {
    const { io } = context;
    const { records, visible } = checkRules(rules, options.binfmtDir, io.cwd);
    if (!visible) {
      io.stderr(`crossroot: warning: no binfmt_misc at '${options.binfmtDir}': taken names (EEXIST) not checked\n`);
    }
    if (options.json) writeJson(io, records);
    else printHuman(io, records);
    return records.every((record) => record.valid) ? 0 : 1;
  });
}
