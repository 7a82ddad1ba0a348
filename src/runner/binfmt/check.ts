// The `binfmt check` use case: judge register strings as this kernel would
// (core/binfmt/rule.ts), with the interpreter opened as the kernel opens it
// and names checked against the entries visible at the instance.
import { ARCHITECTURES } from '../../core/arch/arch.ts';
import type { BinfmtEntry } from '../../core/binfmt/entry.ts';
import { entryMatchesHead } from '../../core/binfmt/match.ts';
import { REGISTER_STRING_FORMAT, judgeRegisterString } from '../../core/binfmt/rule.ts';
import type { ArchName } from '../../core/arch/arch.ts';
import { ruleWarnings } from '../../core/binfmt/install-plan.ts';
import type { RuleWarning } from '../../core/binfmt/install-plan.ts';
import { guessNativeArches } from '../host/native.ts';
import type { RegisterVerdict } from '../../core/binfmt/rule.ts';
import { entryExists, isBinfmtDir } from '../../kernel/binfmt-fs.ts';
import { openExecErrno } from '../fs/open-exec.ts';

export interface RuleCheck {
  readonly rule: string;
  readonly verdict: RegisterVerdict;
  /** The entry, when the rule parses far enough to have one. */
  readonly entry: BinfmtEntry | null;
  /** Catalog architectures whose reference header (the catalog magic, zero-padded) this rule matches. */
  readonly arches: string[];
  /** Traps of a valid rule that install would refuse (TAKES_NATIVE). */
  readonly warnings: readonly RuleWarning[];
  /** For a rule that does not parse: the expected layout. */
  readonly hint: string | null;
}

/** Judges each rule; `visible` says whether the dir holds a binfmt_misc instance to check names against. */
export function checkRules(
  rules: readonly string[], dir: string, cwd: string, nativeArches: readonly ArchName[] = guessNativeArches(),
): { checks: RuleCheck[]; visible: boolean } {
  const visible = isBinfmtDir(dir);
  const checks = rules.map((rule): RuleCheck => {
    const verdict: RegisterVerdict = judgeRegisterString(new TextEncoder().encode(rule), {
      openInterpreter: (interpreter) => openExecErrno(interpreter, cwd),
      nameTaken: (name) => visible && entryExists(dir, name),
    });
    const entry = verdict.entry;
    const arches = entry === null ? [] : ARCHITECTURES.filter((arch) => entryMatchesHead(entry, arch.magic)).map((arch) => arch.name);
    const warnings = verdict.ok ? ruleWarnings(verdict.entry, nativeArches) : [];
    const hint = !verdict.ok && verdict.errno === 'EINVAL' ? `a register string is ${REGISTER_STRING_FORMAT}` : null;
    return { rule, verdict, entry, arches, warnings, hint };
  });
  return { checks, visible };
}
