// Child of testInPrivateInstance() (private-test.ts), inside its own user and
// mount namespace (host/private-instance.ts): mounts a fresh binfmt_misc
// instance, registers there what `binfmt install` would (the named
// architectures, or every foreign one with an emulator on disk), and runs
// `binfmt test`'s probes against that instance. Nothing outlives the
// namespace. Input (stdin, JSON): PrivateTestInput. Output (stdout, JSON): PrivateTestReport.
import { readFileSync } from 'node:fs';
import type { ArchName } from '../../core/arch/arch.ts';
import { ARCH_NAMES } from '../../core/arch/arch.ts';
import type { ArchVerdict } from '../../core/binfmt/health.ts';
import { testedVerdicts } from '../../core/binfmt/health.ts';
import type { PrivateChildReport } from '../host/private-instance.ts';
import { mountPrivateInstance } from '../host/private-instance.ts';
import { collectStatus } from './health.ts';
import { runInstall } from './install-entries.ts';

export interface PrivateTestInput {
  readonly mountDir: string;
  /** null: every foreign architecture with an emulator. */
  readonly arches: readonly ArchName[] | null;
}

export interface PrivateTestReport extends PrivateChildReport {
  readonly results: readonly ArchVerdict[];
}

async function main(): Promise<PrivateTestReport> {
  const input = JSON.parse(readFileSync(0, 'utf8')) as PrivateTestInput;
  const mountError = await mountPrivateInstance(input.mountDir);
  if (mountError !== null) return { mountError, results: [] };
  // Refusals (no emulator on disk, ...) leave the architecture without an entry: its probes then say so.
  await runInstall(input.arches ?? ['all'], { binfmtDir: input.mountDir }, { env: process.env, cwd: process.cwd() });
  const status = await collectStatus({ binfmtDir: input.mountDir, probeArches: input.arches ?? ARCH_NAMES, versions: false });
  if (!status.mounted) return { mountError: `the private instance at '${input.mountDir}' is gone`, results: [] };
  return { mountError: null, results: testedVerdicts(status.verdict.arches, input.arches) };
}

process.stdout.write(JSON.stringify(await main()));
