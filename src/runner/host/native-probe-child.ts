// Child of probeNativeArches() (native.ts): runs inside `unshare --user --map-root-user --mount`,
// mounts its own binfmt_misc instance (empty, Linux >= 6.7) so that no registration of any
// ancestor namespace can take part, then execs every probe and reports its exit status.
// Input (stdin, JSON): { mountDir, probes: [{ arch, path }] }. Output (stdout, JSON): NativeChildReport.
import { readFileSync } from 'node:fs';
import { runProcess } from '../process/process.ts';
import type { PrivateChildReport } from './private-instance.ts';
import { mountPrivateInstance } from './private-instance.ts';

export interface NativeChildInput {
  readonly mountDir: string;
  readonly probes: readonly { readonly arch: string; readonly path: string }[];
}

export interface NativeChildReport extends PrivateChildReport {
  readonly results: readonly { readonly arch: string; readonly exitCode: number | null; readonly signal: string | null; readonly error: string | null }[];
}

async function main(): Promise<NativeChildReport> {
  const input = JSON.parse(readFileSync(0, 'utf8')) as NativeChildInput;
  const mountError = await mountPrivateInstance(input.mountDir);
  if (mountError !== null) return { mountError, results: [] };
  const results = await Promise.all(input.probes.map(async ({ arch, path }) => {
    try {
      const run = await runProcess([path], { timeoutMs: 10_000 });
      return { arch, exitCode: run.exitCode, signal: run.signal, error: null };
    } catch (error) {
      return { arch, exitCode: null, signal: null, error: error instanceof Error ? error.message : String(error) };
    }
  }));
  return { mountError: null, results };
}

process.stdout.write(JSON.stringify(await main()));
