// Child of createRoot() (create.ts), started as
//   setpriv --pdeathsig KILL -- unshare --user --mount --pid --fork --kill-child=SIGKILL
//     --propagation private -- node create-stage.ts
// so it is PID 1 of a new PID namespace inside a new user and mount namespace.
// The parent writes our uid_map/gid_map from outside (an identity map as root,
// newuidmap/newgidmap with the user's subordinate ranges otherwise); we wait for
// it, then, in our private mount namespace:
//   1. mount a read-only tmpfs on /proc/sys/fs/binfmt_misc (a guard: unmounting
//      the instance above it can never uncover the host's), then our own
//      binfmt_misc instance (Linux >= 6.7: one per user namespace) on top, and
//      register the F entry for the target architecture (mmdebstrap reads that
//      entry's flags and so does not copy qemu into the root);
//   2. bind-mount the shared package cache into the root being built;
//   3. with twins (create-twins.ts), serve mmdebstrap's twins hook (twins-hook.ts);
//   4. run the bootstrap commands, their output streamed to our stderr.
// Everything mounted here vanishes with the namespace: when we exit, when the
// parent is killed (pdeathsig chain), on any signal.
// Input (stdin, JSON): StageInput. Output: the commands' output on stderr, one
// JSON StageReport line on stdout. Exit status: 0, or the failing command's.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { jsonLine } from '../process/json-lines.ts';
import { ProcessError, describeEnd, runProcess } from '../process/process.ts';
import type { CreateTwinsSetup } from './create-twins.ts';
import type { TwinsHookServer, TwinsOutcome } from './twins-hook.ts';
import { serveTwinsHook } from './twins-hook.ts';

export interface StageInput {
  /** Where to mount the private binfmt_misc instance (normally /proc/sys/fs/binfmt_misc). */
  readonly binfmtDir: string;
  /** Register string of the entry to add, or null (native target). */
  readonly register: string | null;
  /** Bind mounts: absolute source and target; the target directory is created. */
  readonly binds: readonly { readonly source: string; readonly target: string }[];
  readonly commands: readonly (readonly string[])[];
  readonly env: Readonly<Record<string, string>>;
  /** The twins hook: an existing empty directory to serve it in (a tmpfs is mounted on it here), and what to plan with. */
  readonly twins?: { readonly hookDir: string; readonly setup: CreateTwinsSetup } | null;
}

export interface StageReport {
  readonly ok: boolean;
  /** Index of the command that failed, or of the setup step (-1) */
  readonly failed: number | null;
  readonly exitCode: number | null;
  readonly message: string | null;
  /** What the twins did, when a hook was served. */
  readonly twins?: TwinsOutcome | null;
}

async function waitForIdMap(): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (readFileSync('/proc/self/uid_map', 'utf8').trim() !== '' && readFileSync('/proc/self/gid_map', 'utf8').trim() !== '') return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return false;
}

async function mount(argv: readonly string[], env: Readonly<Record<string, string>>): Promise<string | null> {
  // Children of this process are exec'd after the id map exists, so they hold
  // full capabilities in the namespace (we, exec'd before it, may not).
  const result = await runProcess(['mount', ...argv], { env });
  return result.exitCode === 0 ? null : new ProcessError(result, { code: 'CREATE_FAILED', action: `mount ${argv.join(' ')}` }).message;
}

async function main(): Promise<StageReport> {
  const input = JSON.parse(readFileSync(0, 'utf8')) as StageInput;
  const env = { ...input.env };
  if (!(await waitForIdMap())) return { ok: false, failed: -1, exitCode: null, message: 'the user namespace id map was never written' };
  if (input.register !== null) {
    const failure = await mount(['-t', 'tmpfs', '-o', 'ro,nosuid,nodev,noexec,size=4k,mode=0555', 'crossroot-guard', input.binfmtDir], env)
      ?? await mount(['-t', 'binfmt_misc', 'binfmt_misc', input.binfmtDir], env);
    if (failure !== null) {
      return { ok: false, failed: -1, exitCode: null, message: `${failure} (a private binfmt_misc instance needs Linux >= 6.7)` };
    }
    try {
      // One write(2): the kernel parses each write as one whole register string.
      writeFileSync(`${input.binfmtDir}/register`, Buffer.from(input.register, 'latin1'));
    } catch (error) {
      return { ok: false, failed: -1, exitCode: null, message: `register the private binfmt_misc entry: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
    }
  }
  for (const bind of input.binds) {
    mkdirSync(bind.target, { recursive: true });
    const failure = await mount(['--bind', bind.source, bind.target], env);
    if (failure !== null) return { ok: false, failed: -1, exitCode: null, message: failure };
  }
  let hook: TwinsHookServer | null = null;
  if (input.twins != null) {
    try {
      hook = await serveTwinsHook(input.twins.hookDir, input.twins.setup, env, (line) => { process.stderr.write(`${line}\n`); });
    } catch (error) {
      return { ok: false, failed: -1, exitCode: null, message: `serve the twins hook: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  const report = await runCommands(input.commands, env);
  if (hook === null) return report;
  const { outcome, failure } = await hook.close();
  if (report.ok && failure !== null) return { ok: false, failed: -1, exitCode: null, message: `take the twins off: ${failure}`, twins: outcome };
  return { ...report, twins: outcome };
}

async function runCommands(commands: StageInput['commands'], env: Readonly<Record<string, string>>): Promise<StageReport> {
  for (const [index, argv] of commands.entries()) {
    const result = await runProcess(argv, {
      env,
      onOutput: (_stream, chunk) => { process.stderr.write(chunk); },
    });
    if (result.exitCode !== 0) {
      return { ok: false, failed: index, exitCode: result.exitCode, message: `'${argv[0] ?? ''}' ${describeEnd(result)}` };
    }
  }
  return { ok: true, failed: null, exitCode: 0, message: null };
}

const report = await main();
process.stdout.write(jsonLine(report));
process.exitCode = report.ok ? 0 : (report.exitCode !== null && report.exitCode > 0 ? report.exitCode : 1);
