// A child process with a binfmt_misc instance of its own: node running one of
// crossroot's child scripts inside `unshare --user --map-root-user --mount`,
// where the script mounts a fresh binfmt_misc (Linux >= 6.7 gives each user
// namespace its own instance; a new one is empty, so no registration of any
// ancestor namespace takes part). Used where the answer must not depend on
// the host's registrations (native.ts: which architectures run natively) and
// where the host has no binfmt_misc to use (binfmt/private-test.ts: `binfmt
// test` in an instance of its own, as `run` has).
//
// Parent side: runInPrivateInstance(argv of the child script, input) -> the
// child's report, or why there is none. Child side: mountPrivateInstance(dir).
// Input goes to the child's stdin as JSON, the report is its last stdout line
// (argv stays data).
import { readdirSync } from 'node:fs';
import { ProcessError, runProcess, shortStderr } from '../process/process.ts';
import { lastJsonLine } from '../process/json-lines.ts';

/** Every child's report says whether its instance could be mounted (null: it was). */
export interface PrivateChildReport {
  readonly mountError: string | null;
}

export type PrivateOutcome<R> = { readonly report: R; readonly failure: null } | { readonly report: null; readonly failure: string };

/** Runs `childArgv` (nodeScriptArgv of a child script) in a new user and mount namespace; see the file comment. */
export async function runInPrivateInstance<R extends PrivateChildReport>(
  childArgv: readonly string[], input: unknown, timeoutMs: number,
): Promise<PrivateOutcome<R>> {
  const failed = (failure: string): PrivateOutcome<R> => ({ report: null, failure });
  let run;
  try {
    run = await runProcess(
      ['unshare', '--user', '--map-root-user', '--mount', '--propagation', 'private', '--', ...childArgv],
      { input: JSON.stringify(input), timeoutMs, env: { ...process.env, LC_ALL: 'C' } },
    );
  } catch (error) {
    return failed(`could not start unshare: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (run.exitCode !== 0) return failed(new ProcessError(run, { code: 'USERNS_BLOCKED', action: 'no new user namespace' }).message);
  const report = lastJsonLine(run.stdout) as R | undefined;
  if (report === undefined) return failed(`the child printed no report: ${shortStderr(run.stderr)}`);
  if (report.mountError !== null) return failed(`no private binfmt_misc instance (Linux >= 6.7 needed): ${report.mountError}`);
  return { report, failure: null };
}

/** In the child: mounts a fresh binfmt_misc on `dir`; null when done, else why not. */
export async function mountPrivateInstance(dir: string): Promise<string | null> {
  const mount = await runProcess(['mount', '-t', 'binfmt_misc', 'none', dir], { env: { ...process.env, LC_ALL: 'C' } });
  if (mount.exitCode !== 0) return new ProcessError(mount, { code: 'BINFMT_NOT_MOUNTED', action: 'mount a private binfmt_misc instance' }).message;
  const entries = readdirSync(dir).filter((name) => name !== 'register' && name !== 'status');
  return entries.length > 0 ? `the new instance is not empty: ${entries.join(', ')}` : null;
}
