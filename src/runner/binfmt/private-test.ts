// `binfmt test` where the host's binfmt_misc cannot answer (not mounted, or no
// foreign entry registered): the test runs in a binfmt_misc instance of its
// own, in a user namespace, with crossroot's entries for the emulators on
// disk, which is what `crossroot run` uses on Linux >= 6.7
// (private-test-child.ts does the work; host/private-instance.ts the namespace).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchName } from '../../core/arch/arch.ts';
import type { ArchVerdict } from '../../core/binfmt/health.ts';
import { nodeScriptArgv } from '../process/process.ts';
import type { PrivateTestInput, PrivateTestReport } from './private-test-child.ts';
import { runInPrivateInstance } from '../host/private-instance.ts';

/** What the private test says, or why it could not run. */
export type PrivateTestOutcome = { readonly results: readonly ArchVerdict[]; readonly failure: null } | { readonly results: null; readonly failure: string };

export const PRIVATE_TEST_NOTE = 'tested in a private binfmt_misc instance of crossroot\'s own user namespace, with crossroot\'s entries for the emulators on disk, as \'crossroot run\' does';

/** Tests `arches` (null: every foreign one with an emulator on disk) in a fresh private instance. */
export async function testInPrivateInstance(arches: readonly ArchName[] | null): Promise<PrivateTestOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'crossroot-test-'));
  try {
    const mountDir = join(dir, 'binfmt_misc');
    mkdirSync(mountDir);
    const input: PrivateTestInput = { mountDir, arches };
    const outcome = await runInPrivateInstance<PrivateTestReport>(nodeScriptArgv(import.meta.url, 'private-test-child'), input, 180_000);
    return outcome.report === null ? { results: null, failure: outcome.failure } : { results: outcome.report.results, failure: null };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
