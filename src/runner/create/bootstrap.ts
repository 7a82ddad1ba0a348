// The bootstrap of a Debian root (mmdebstrap or debootstrap, planned by
// core/create/create-plan.ts) in the build namespace, or a copy of a current
// snapshot; then the checks, the snapshot for the next create, the marker and
// the rename into place. Abort signals kill the namespace and remove the
// partial tree before crossroot dies of them.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CrossrootError } from '../../core/errors.ts';
import {
  INITIAL_PROGRESS, RUN_MOUNT_POINT_FILES, advanceProgress, aptCacheDir, failureReason, isPlainHookPath, parseProgressLine, planBootstrap,
} from '../../core/create/create-plan.ts';
import type { BootstrapPlan, BootstrapTool, ProgressState, TargetArch, Variant } from '../../core/create/create-plan.ts';
import { mountsUnder } from '../host/mounts.ts';
import { tryLock, withLock } from '../roots/root-lock.ts';
import type { NamespaceRun } from './build-namespace.ts';
import { isRoot, removeTree, runInBuildNamespace } from './build-namespace.ts';
import type { StageInput } from './create-stage.ts';
import { TWINS_HOOK_NAME } from './twins-hook.ts';
import { copyTree, fetchReleaseDigest, listsReleaseDigest, saveSnapshot, snapshotDir, snapshotIsCurrent } from './snapshots.ts';
import type { TargetState } from './target.ts';
import { addMissingInsideRoot, checkTarget, makePartialDir, putInPlace, removeInsideRoot, writeMarker } from './target.ts';

type TwinsHookInput = NonNullable<StageInput['twins']>;

/** A validated create request (createRoot checks the options). */
export interface BootstrapRequest {
  readonly dir: string;
  readonly target: TargetArch;
  readonly suite: string;
  readonly variant: Variant;
  readonly includes: readonly string[];
  readonly mirror: string;
  readonly tool: BootstrapTool;
  readonly emulate: boolean;
  readonly force: boolean;
  readonly fresh: boolean;
  readonly cacheRoot: string;
  readonly started: number;
  readonly onProgress?: ((state: ProgressState, seconds: number) => void) | undefined;
  /** The environment the proxies and SOURCE_DATE_EPOCH come from. */
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
  /** The tools root whose same-version twins run after the essential phase, or why there are none. */
  readonly twins: { readonly toolsRoot: string; readonly multiarch: string } | { readonly refused: string };
}

/** What the twins did in a create (CreateResult.twins). */
export interface CreateTwinsOutcome {
  readonly toolsRoot: string | null;
  /** Programs that ran natively after the essential phase. */
  readonly substituted: number;
  /** Why none did, or null. */
  readonly refused: string | null;
}

export interface BootstrapOutcome {
  readonly fromSnapshot: boolean;
  readonly packages: number;
  readonly downloaded: number;
  readonly twins: CreateTwinsOutcome;
}

function countDebs(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir).filter((name) => name.endsWith('.deb')));
  } catch {
    return new Set();
  }
}


/** Signals that abort a create; their handlers stay installed only while a create runs. */
const ABORT_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Runs `work` with abort signals turned into a flag plus a kill of the build namespace. */
async function withAbortHandling<T>(work: (abort: { signal: NodeJS.Signals | null; setPid: (pid: number) => void }) => Promise<T>): Promise<T> {
  const state: { signal: NodeJS.Signals | null; pid: number | null } = { signal: null, pid: null };
  const handler = (signal: NodeJS.Signals): void => {
    state.signal = signal;
    if (state.pid !== null) {
      try { process.kill(state.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  };
  for (const signal of ABORT_SIGNALS) process.on(signal, handler);
  try {
    return await work({
      get signal() { return state.signal; },
      setPid: (pid) => { state.pid = pid; },
    });
  } finally {
    for (const signal of ABORT_SIGNALS) process.off(signal, handler);
    if (state.signal !== null) {
      // Cleaned up: now die of the signal as the user asked.
      process.kill(process.pid, state.signal);
    }
  }
}


/** The progress state with its reporting: one place advances it and tells the caller. */
class Progress {
  #state: ProgressState = INITIAL_PROGRESS;
  constructor(private readonly request: BootstrapRequest) { this.report(); }
  stage(stage: string): void { this.advance({ kind: 'stage', stage }); }
  line(line: string): void {
    const event = parseProgressLine(line);
    if (event !== null) this.advance(event);
  }
  private advance(event: Parameters<typeof advanceProgress>[1]): void {
    this.#state = advanceProgress(this.#state, event);
    this.report();
  }
  private report(): void { this.request.onProgress?.(this.#state, (performance.now() - this.request.started) / 1000); }
}

interface Build {
  readonly request: BootstrapRequest;
  readonly partial: string;
  readonly cache: string;
  readonly plan: BootstrapPlan;
  readonly snapshot: string | null;
  readonly releaseDigest: string | null;
  readonly progress: Progress;
  readonly twinsHook: TwinsHookInput | null;
}

/**
 * Runs `work` holding the lock of the build's package cache: apt refuses to
 * run while another apt holds the cache's own lock ("Could not get lock
 * .../archives/lock"), so creates of the same suite and port take turns.
 */
async function withCacheLock<T>(build: Build, work: () => Promise<T>): Promise<T> {
  const lock = `${build.cache}.lock`;
  const held = tryLock(lock);
  if ('release' in held) {
    try {
      return await work();
    } finally {
      held.release();
    }
  }
  build.progress.stage(`waiting: another create (pid ${String(held.pid)}) uses the package cache of '${build.request.suite}' '${build.request.target.debianArch}'`);
  return withLock(lock, work);
}

/** The snapshot's copy when it is current, else the bootstrap itself. */
async function runBuild(build: Build): Promise<{ run: NamespaceRun; fromSnapshot: boolean }> {
  const { request, partial, plan, snapshot } = build;
  return withAbortHandling(async (abort) => {
    if (snapshot !== null && snapshotIsCurrent(snapshot, build.releaseDigest)) {
      build.progress.stage('copying the cached root (archive unchanged since it was built)');
      const copy = await copyTree(join(snapshot, 'root'), partial, abort.setPid);
      if (copy.ok) return { run: copy, fromSnapshot: true };
    }
    const run = await withCacheLock(build, () => runInBuildNamespace({
      register: plan.register,
      binds: [{ source: build.cache, target: join(partial, plan.cacheMountPoint) }],
      commands: plan.commands,
      twins: build.twinsHook,
    }, { onPid: abort.setPid, onLine: (line) => build.progress.line(line) }, request.hostEnv));
    if (abort.signal !== null) {
      await removeTree(partial);
      throw new CrossrootError('CREATE_FAILED', `create root '${request.dir}': interrupted by '${abort.signal}'`);
    }
    return { run, fromSnapshot: false };
  });
}

/** Checks the finished partial tree, saves a snapshot of a fresh bootstrap, marks it and renames it onto DIR. */
async function finishBuild(build: Build, run: NamespaceRun, fromSnapshot: boolean, existing: TargetState): Promise<void> {
  const { request, partial } = build;
  if (!run.ok) {
    const reason = failureReason(run.output) ?? run.report?.message ?? `the bootstrap was killed by '${String(run.signal)}'`;
    // dpkg replacing a file a twin covers (a package of another suite upgrading an essential one) meets the bind mount.
    const twinsInTheWay = (run.report?.twins?.substituted ?? 0) > 0 && /Device or resource busy/.test(run.output);
    throw new CrossrootError('CREATE_FAILED', `create root '${request.dir}': ${reason}`, {
      hint: /is not in the archive/.test(reason)
        ? `check the package names given to --include for '${request.suite}' on '${request.target.debianArch}' (apt-cache policy NAME, or packages.debian.org)`
        : twinsInTheWay ? 'dpkg could not replace a file the twins covered: run again with --no-twins'
        : 'run again with a terminal to see the progress; the partial tree was removed',
    });
  }
  if (mountsUnder(partial).length > 0) {
    throw new CrossrootError('CREATE_FAILED', `create root '${request.dir}': mounts are left under the partial tree`, { hint: 'report this as a bug' });
  }
  if (!fromSnapshot) {
    for (const file of build.plan.removeAfter) removeInsideRoot(partial, file);
    if (build.snapshot !== null) {
      build.progress.stage('saving a copy for the next root');
      await saveSnapshot(partial, build.snapshot, build.releaseDigest ?? listsReleaseDigest(partial, request.suite));
    }
  }
  build.progress.stage('finishing');
  for (const file of RUN_MOUNT_POINT_FILES) addMissingInsideRoot(partial, file.path, file.text);
  const { target, suite, variant, includes, mirror, tool } = request;
  writeMarker(partial, {
    format: 1, arch: target.arch.name, debianArch: target.debianArch, suite, variant, includes: [...includes], mirror,
    tool, created: new Date().toISOString(), ownerUid: process.getuid?.() ?? 0,
  });
  await putInPlace(partial, request.dir, existing);
}

/** Builds the root of `request` at its DIR; see the file comment. */
export async function bootstrapRoot(request: BootstrapRequest): Promise<BootstrapOutcome> {
  const { dir, target, suite, variant, includes, mirror, tool, emulate } = request;
  const existing = checkTarget(dir, request.force);
  const partial = await makePartialDir(dir);
  const cache = aptCacheDir(request.cacheRoot, suite, target.debianArch);
  mkdirSync(join(cache, 'partial'), { recursive: true });
  const before = countDebs(cache);
  const hookOrRefusal = twinsHookFor(request, partial);
  const twinsHook = 'refused' in hookOrRefusal ? null : hookOrRefusal;
  const plan = planBootstrap({
    tool, target, suite, variant, includes: [...includes], mirror, dir: partial, emulate, keepLists: true,
    twinsHook: twinsHook === null ? null : join(twinsHook.hookDir, TWINS_HOOK_NAME),
  });
  // apt inside the finished root wants archives/partial under the (then unmounted) cache mount point.
  mkdirSync(join(partial, plan.cacheMountPoint, 'partial'), { recursive: true });
  const snapshot = request.fresh ? null : snapshotDir(request.cacheRoot, { suite, debianArch: target.debianArch, variant, includes, mirror, tool });
  const build: Build = {
    request, partial, cache, plan, snapshot, releaseDigest: await fetchReleaseDigest(mirror, suite), progress: new Progress(request), twinsHook,
  };
  let fromSnapshot: boolean;
  let twins: CreateTwinsOutcome;
  try {
    const outcome = await runBuild(build);
    fromSnapshot = outcome.fromSnapshot;
    twins = twinsOutcome(request, hookOrRefusal, outcome.run, fromSnapshot);
    await finishBuild(build, outcome.run, fromSnapshot, existing);
  } catch (error) {
    await removeTree(partial).catch(() => { /* best effort; the next create removes stale partials */ });
    throw error;
  }
  const after = countDebs(cache);
  return { fromSnapshot, packages: after.size, downloaded: [...after].filter((name) => !before.has(name)).length, twins };
}

/** The twins hook's directory and setup, or why there is none. */
function twinsHookFor(request: BootstrapRequest, partial: string): TwinsHookInput | { readonly refused: string } {
  if ('refused' in request.twins) return request.twins;
  if (request.tool !== 'mmdebstrap') return { refused: 'only mmdebstrap has the hooks twins need' };
  const hookDir = join(request.cacheRoot, 'hooks');
  if (!isPlainHookPath(join(hookDir, TWINS_HOOK_NAME))) {
    return { refused: `the cache directory's path '${request.cacheRoot}' is not plain enough for an mmdebstrap hook` };
  }
  mkdirSync(hookDir, { recursive: true });
  return {
    hookDir,
    setup: { rootDir: partial, toolsRoot: request.twins.toolsRoot, multiarch: request.twins.multiarch, debianArch: request.target.debianArch, installMissing: isRoot() },
  };
}

function twinsOutcome(request: BootstrapRequest, hook: TwinsHookInput | { readonly refused: string }, run: NamespaceRun, fromSnapshot: boolean): CreateTwinsOutcome {
  if ('refused' in request.twins) return { toolsRoot: null, substituted: 0, refused: request.twins.refused };
  const { toolsRoot } = request.twins;
  if (fromSnapshot) return { toolsRoot, substituted: 0, refused: 'copied from a snapshot: nothing ran' };
  if ('refused' in hook) return { toolsRoot, substituted: 0, refused: hook.refused };
  return { toolsRoot, ...(run.report?.twins ?? { substituted: 0, refused: 'the build stage reported nothing of the twins' }) };
}

