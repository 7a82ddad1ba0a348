// `crossroot binfmt check RULE...`: judges register strings as this kernel would, against the
// entries visible at --binfmt-dir, without registering anything.
import type { Command } from 'commander';
import type { CliContext, Io } from '../context.ts';
import { onRun } from '../context.ts';
import { addBinfmtDirOption, addHelpSections, addJsonOption } from '../options.ts';
import type { EntrySummary } from '../render/binfmt.ts';
import { summarizeEntry } from '../render/binfmt.ts';
import { warn } from '../render/errors.ts';
import { displayText, writeJson } from '../render/json.ts';
import { painter } from '../render/style.ts';
import { renderEntryText } from '../../core/binfmt/rule.ts';
import type { RuleCheck } from '../../runner/binfmt/check.ts';
import { checkRules } from '../../runner/binfmt/check.ts';

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
  readonly warnings: RuleCheck['warnings'];
  /** For a rule that does not parse: the expected layout. */
  readonly hint: string | null;
}

function checkRecord(check: RuleCheck, visible: boolean): CheckRecord {
  const { verdict, entry } = check;
  return {
    rule: check.rule,
    valid: verdict.ok,
    errno: verdict.ok ? null : verdict.errno,
    reason: verdict.ok ? null : verdict.reason,
    entryText: verdict.ok ? displayText(renderEntryText(verdict.entry)) : null,
    name: entry === null ? null : displayText(entry.name),
    entry: entry === null ? null : summarizeEntry(entry),
    arches: check.arches,
    nameChecked: visible,
    warnings: check.warnings,
    hint: check.hint,
  };
}

function printHuman(io: Io, records: readonly CheckRecord[]): void {
  const paint = painter(io);
  for (const record of records) {
    // The rule as typed (a shell would need it in single quotes), not JSON-escaped.
    const rule = `'${record.rule}'`;
    if (record.valid && record.entryText !== null) {
      io.stdout(`${paint('good', 'valid')}    ${rule}\n`);
      for (const line of record.entryText.replace(/\n$/, '').split('\n')) io.stdout(`         ${line}\n`);
    } else {
      io.stdout(`${paint('bad', (record.errno ?? '').padEnd(8))} ${rule}: ${record.reason ?? ''}\n`);
      if (record.hint !== null) io.stdout(`hint: ${record.hint}\n`);
    }
  }
}

export function registerBinfmtCheck(binfmt: Command, context: CliContext): void {
  const command = binfmt
    .command('check')
    .description('Judge binfmt_misc register strings as this kernel would, without registering them.')
    .argument('<rule...>', 'register strings, e.g. \':qemu-aarch64:M::\\x7fELF...:...:/usr/bin/qemu-aarch64-static:F\'');
  addBinfmtDirOption(command, 'the binfmt_misc instance whose names count as taken');
  addJsonOption(command, 'print a JSON array, one record per rule');
  addHelpSections(command, {
    examples: [
      "crossroot binfmt check ':demo:E::demo::/bin/cat:'",
      "crossroot binfmt check ':qemu-aarch64:M::\\x7fELF\\x02::/usr/bin/qemu-aarch64-static:F' --json",
    ],
    exitStatus: '0 every rule is valid; 1 one is not (the record says why, with the errno); 2 usage error.',
  });
  onRun<{ binfmtDir: string; json?: boolean }>(command, context, async (rules, options) => {
    const { io } = context;
    const { checks, visible } = checkRules(rules, options.binfmtDir, io.cwd);
    if (!visible) warn(io, `no binfmt_misc at '${options.binfmtDir}': taken names (EEXIST) not checked`);
    const records = checks.map((check) => checkRecord(check, visible));
    for (const record of records) {
      for (const warning of record.warnings) {
        warn(io, `check '${record.rule}': ${warning.message}`);
        io.stderr(`hint: ${warning.hint}\n`);
      }
    }
    if (options.json === true) writeJson(io, records);
    else printHuman(io, records);
    return records.every((record) => record.valid) ? 0 : 1;
  });
}
