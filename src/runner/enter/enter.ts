// `crossroot run` and `crossroot shell`: prepare.ts turns the options and the
// facts into an EnterPlan; this module carries it out through the native
// helper (run-helper.ts, crossroot-enter.c):
//
//   crossroot (node)
//     crossroot-enter                    unshares user, mount, PID, UTS, IPC [, network]
//       crossroot-enter = PID 1          mounts (race-free), reaps, forwards signals
//         [setarch linux32] [setpriv ...] unshare --root DIR --wd W --setuid U -- CMD
//
// crossroot writes the new user namespace's uid_map/gid_map from outside (as
// root: the identity map; rootless: newuidmap and newgidmap with the user's
// /etc/subuid and /etc/subgid ranges), then sends the plan, which is the
// helper's "go".
//
// With `accelerate`, runner/accelerate plans native cross tools of the root's
// exact compiler version (core/accelerate); their steps come after the run's
// own and go through the same setup, inside the run's mount namespace only;
// with `icecream` (runner/icecream) the run's own iceccd runs on the host from
// just before the setup until the run ends.
//
// Nothing of a run outlives it and nothing of it stays in the root: the
// mounts (shadows included) live in the private mount namespace, every
// process in the PID namespace dies with PID 1, and PID 1 ends the run when
// its socket reaches EOF, which happens when crossroot dies, even by SIGKILL.
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import type { EnterPlan } from '../../core/enter/enter-plan.ts';
import type { ProfileReport } from '../../core/enter/profile.ts';
import { renamePrograms } from '../../core/enter/profile.ts';
import { CrossrootError, isCrossrootError } from '../../core/errors.ts';
import type { AccelerationFacts } from '../accelerate/accelerate.ts';
import type { IdMaps } from '../../core/users/id-maps.ts';
import { writeIdMaps } from '../host/userns.ts';
import type { EnterOptions, PreparedAcceleration } from './prepare.ts';
import { prepareRun } from './prepare.ts';
import { ProfileSampler } from './profile-sampler.ts';
import { startAccounting } from './process-accounting.ts';
import { exitStatusOf } from '../process/process.ts';
import type { HelperMessage, StartedHelper } from './run-helper.ts';
import { HelperReader, encodeFields, ensureHelper, helperRecords, startHelper } from './run-helper.ts';

export type { EnterOptions } from './prepare.ts';
export type { EnterEvent } from './events.ts';
export { PRIVATE_BINFMT_KERNEL } from '../../core/host/kernel-release.ts';
export { mountsUnder } from '../host/mounts.ts';

export interface EnterResult {
  readonly exitCode: number;
  readonly plan: EnterPlan;
  readonly timings: Readonly<Record<string, number>>;
  /** With `accelerate`: the acceleration plan and facts (null when not asked or the root runs natively). */
  readonly acceleration: AccelerationFacts | null;
  /** With `profile`: CPU time per program, most first (null when not asked). */
  readonly profile: ProfileReport | null;
}

/** The signals crossroot passes to the command while it runs. */
const RELAYED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;
const KEYBOARD = new Set<string>(['SIGINT', 'SIGQUIT']);
const SIGNAL_NUMBERS: Readonly<Record<(typeof RELAYED)[number], number>> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGQUIT: 3, SIGUSR1: 10, SIGUSR2: 12 };

/** Whether this process is in its terminal's foreground process group (a keyboard signal then reached the command too). */
function inForegroundGroup(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[2] !== undefined && fields[2] === fields[5];
  } catch {
    return false;
  }
}

function describePlan(plan: EnterPlan, mapping: IdMaps, acceleration: PreparedAcceleration | null): string[] {
  const lines = [
    `root '${plan.rootDir}' (${plan.arch}), hostname '${plan.hostname}', network ${plan.network}`,
    `emulation: ${plan.emulation.mode}: ${plan.emulation.reason}`,
    `user namespace: ${mapping.kind === 'identity' ? 'identity map (root)' : 'newuidmap/newgidmap with /etc/subuid and /etc/subgid'}`,
  ];
  for (const step of plan.steps) {
    if (step.op === 'mount') lines.push(`mount ${step.what}: ${step.fstype === 'none' ? step.source : step.fstype} on ${step.target} (${step.options})`);
    else if (step.op === 'register') lines.push(`register ${step.text.split(':')[1] ?? ''} in the private binfmt_misc instance`);
    else if (step.op === 'shadow') lines.push(`shadow ${step.path} (its entries bound on a tmpfs, for mount points the root lacks)`);
    else if (step.op !== 'symlink') lines.push(`create ${step.op === 'mkdir' ? 'directory' : 'file'} ${step.path}`);
  }
  for (const line of acceleration?.verboseLines ?? []) lines.push(`accelerate: ${line}`);
  if (plan.personality !== null) lines.push(`personality ${plan.personality}`);
  lines.push(`exec ${plan.exec.join(' ')}`);
  return lines;
}

/** The helper's messages, as promises of the first of each kind. */
function listen(helper: StartedHelper): { next: (kind: HelperMessage['kind']) => Promise<HelperMessage | null>; errors: HelperMessage[] } {
  const reader = new HelperReader();
  const seen: HelperMessage[] = [];
  const errors: HelperMessage[] = [];
  const waiters: { kind: string; resolve: (message: HelperMessage | null) => void }[] = [];
  let ended = false;
  const settle = (): void => {
    for (const waiter of [...waiters]) {
      const found = seen.find((message) => message.kind === waiter.kind) ?? (ended || errors.length > 0 ? null : undefined);
      if (found === undefined) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(found);
    }
  };
  helper.channel.setEncoding('utf8');
  helper.channel.on('error', () => { /* the helper's exit status tells */ });
  helper.channel.on('data', (chunk: string) => {
    for (const message of reader.push(chunk)) (message.kind === 'error' ? errors : seen).push(message);
    settle();
  });
  helper.channel.on('close', () => { ended = true; settle(); });
  return {
    next: (kind) => new Promise((resolve) => { waiters.push({ kind, resolve }); settle(); }),
    errors,
  };
}

function helperError(errors: readonly HelperMessage[], fallback: string): CrossrootError {
  const error = errors[0];
  if (error?.kind !== 'error') {
    return new CrossrootError('USERNS_BLOCKED', `create the run's namespaces: ${fallback}`, {
      hint: 'user namespaces may be disabled: check sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone and kernel.apparmor_restrict_unprivileged_userns, or run crossroot doctor',
    });
  }
  const code = error.code as ConstructorParameters<typeof CrossrootError>[0];
  return new CrossrootError(code, error.code === 'ENTER_FAILED' ? `set the run up: ${error.message}` : error.message, {
    hint: code === 'ENTER_FAILED' ? 'something may be changing the root while crossroot enters it; run again with --verbose, or crossroot doctor' : undefined,
  });
}

/** The acceleration's scratch mount point, on the host: empty once the run's namespace is gone. */
function removeScratch(dir: string | null): void {
  if (dir === null) return;
  try {
    rmdirSync(dir);
  } catch {
    // already removed by the run's PID 1
  }
}

/** Milliseconds, for the timings (process.hrtime: the global performance loads perf_hooks, a start-up cost). */
function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Runs the plan; resolves with the command's exit status (128+N for signal N). */
export async function enterRoot(options: EnterOptions): Promise<EnterResult> {
  const t0 = now();
  const timings: Record<string, number> = {};
  const [helperFile, prepared] = await Promise.all([ensureHelper(), prepareRun(options)]);
  const { plan, mapping, warnings, acceleration } = prepared;
  for (const warning of warnings) options.onEvent({ kind: 'warning', message: warning });
  for (const note of acceleration?.notes ?? []) options.onEvent({ kind: 'note', message: `accelerate: ${note}` });
  if (options.verbose === true) for (const line of describePlan(plan, mapping, acceleration)) options.onEvent({ kind: 'detail', message: line });
  timings['plan'] = now() - t0;
  const scratchDir = acceleration?.scratchDir ?? null;
  const records = encodeFields([...helperRecords({
    rootDir: plan.rootDir, scratchDir, hostname: plan.hostname, loopback: plan.network === 'none',
    steps: plan.steps, exec: plan.exec, env: plan.env,
  })]);
  const helper = startHelper(helperFile, { networkNone: plan.network === 'none' });
  const { channel } = helper;
  const messages = listen(helper);
  const relay = (signal: (typeof RELAYED)[number]): void => {
    if (KEYBOARD.has(signal) && inForegroundGroup()) return; // the terminal sent it to the command already
    channel.write(encodeFields(['signal', String(SIGNAL_NUMBERS[signal])]));
  };
  for (const signal of RELAYED) process.on(signal, relay);
  let sampler: ProfileSampler | null = null;
  try {
    const ready = await messages.next('ready');
    const pid = helper.process.pid;
    if (ready === null || pid === undefined) {
      const result = await helper.process.done;
      throw helperError(messages.errors, `the helper ${result.exitCode === null ? `was killed (${String(result.signal)})` : `exited ${String(result.exitCode)}`}`);
    }
    try {
      await writeIdMaps(pid, mapping);
    } catch (error) {
      helper.process.kill('SIGKILL');
      await helper.process.done;
      if (isCrossrootError(error)) throw error;
      throw new CrossrootError('USERNS_BLOCKED', `write the uid/gid maps of the run: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        hint: 'check that user namespaces are allowed (crossroot doctor)',
      });
    }
    timings['mapped'] = now() - t0;
    if (scratchDir !== null) mkdirSync(scratchDir, { mode: 0o700 });
    // The run's iceccd runs on the host, its socket directory exists already: it starts before the setup.
    for (const line of await acceleration?.icecream?.start() ?? []) options.onEvent({ kind: 'note', message: `icecream: ${line}` });
    channel.write(`M${records}`);
    if (options.profile === true) {
      // The exit records start before the command does ("go"), so that no process of the run escapes them.
      const init = await messages.next('pid');
      if (init?.kind === 'pid') sampler = new ProfileSampler(init.pid, plan.rootDir, await startAccounting(helperFile, init.pid));
    }
    channel.write(encodeFields(['go']));
    const result = await helper.process.done;
    const ticks = await messages.next('ticks');
    removeScratch(scratchDir);
    timings['total'] = now() - t0;
    if (messages.errors.length > 0) throw helperError(messages.errors, 'the setup failed');
    const profile = sampler?.stop(ticks?.kind === 'ticks' ? ticks.ticks : 0) ?? null;
    sampler = null;
    if (options.verbose === true) {
      options.onEvent({ kind: 'timings', timings: { ...timings } });
    }
    const names = new Map((acceleration?.facts.plan.mounts ?? []).flatMap((mount) => mount.kind === 'bind' && mount.sourceInRoot === true
      ? [[`${mount.source}-native`, mount.target], [`${mount.source}-emulated`, mount.target]] as const : []));
    return {
      exitCode: exitStatusOf(result),
      plan, timings, acceleration: acceleration?.facts ?? null,
      profile: profile === null ? null : renamePrograms(profile, names),
    };
  } finally {
    sampler?.stop(0);
    for (const signal of RELAYED) process.off(signal, relay);
    channel.destroy();
    removeScratch(scratchDir);
    // After the run and on failure: stops the daemon, says which jobs compiled locally, removes its host directory.
    for (const line of await acceleration?.icecream?.finish() ?? []) options.onEvent({ kind: 'note', message: `icecream: ${line}` });
  }
}
