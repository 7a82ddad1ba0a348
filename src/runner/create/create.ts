// `crossroot create`: builds a Debian root of any architecture, privately.
//
// The root is built in a sibling directory DIR.crossroot-partial-<pid>-<rand>
// and renamed onto DIR only when complete, after the marker
// DIR/.crossroot/root.json is written: an interrupted or failed create never
// leaves anything at DIR that looks finished. The bootstrap runs in a user,
// mount and PID namespace of its own (create-stage.ts) with a private
// binfmt_misc instance, so the host's registrations are neither needed nor
// touched, and every mount dies with the namespace (also on SIGKILL of
// crossroot: setpriv's pdeathsig kills unshare, whose --kill-child kills the
// namespace's PID 1, which takes every process of the namespace with it).
import { createReadStream, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { checkResult, nodeScriptArgv, runChecked, runProcess } from '../process/process.ts';
import { LineSplitter, lastJsonLine } from '../process/json-lines.ts';
import { CrossrootError, UsageError } from '../../core/errors.ts';
import {
  DEFAULT_MIRROR, DEFAULT_SUITE, DEFAULT_VARIANT, INITIAL_PROGRESS, MARKER_DIR, MARKER_FILE, PARTIAL_INFIX,
  advanceProgress, aptCacheDir, canonicalSuite, checkSuite, failureReason, isVariant, parseMarker, parseProgressLine,
  partialDirFor, planBootstrap, resolveTargetArch, staticEmulatorPath,
} from '../../core/create/create-plan.ts';
import type { BootstrapTool, ProgressState, RootMarker, TargetArch, Variant } from '../../core/create/create-plan.ts';
import type { StageInput, StageReport } from './create-stage.ts';
import { resolveHostPathInRoot } from '../fs/root-fs.ts';
import { withFileSource } from '../fs/file-source.ts';
import { parseElf } from '../../core/elf/elf.ts';
import { archOfElf, debianArchOf } from '../../core/arch/arch.ts';
import { mountPointsUnder } from '../../core/host/mount-table.ts';
import { parseSubIds } from '../../core/users/subordinate-ids.ts';

export interface CreateOptions {
  readonly dir: string;
  /** Required unless fromTar is given (then detected from the root's /bin/sh). */
  readonly arch?: string | undefined;
  readonly suite?: string | undefined;
  readonly variant?: string | undefined;
  readonly includes?: readonly string[] | undefined;
  readonly mirror?: string | undefined;
  readonly force?: boolean | undefined;
  readonly fromTar?: string | undefined;
  readonly tool?: BootstrapTool | undefined;
  /** Bootstrap even when a current snapshot of the same request exists. */
  readonly fresh?: boolean | undefined;
  /** Cache root (default: cacheRoot()). */
  readonly cacheRoot?: string | undefined;
  /** Called on every progress event (and once a second is enough for a display). */
  readonly onProgress?: ((state: ProgressState, seconds: number) => void) | undefined;
}

export interface CreateResult {
  readonly dir: string;
  readonly arch: string;
  readonly debianArch: string;
  readonly suite: string;
  readonly variant: string;
  readonly tool: BootstrapTool | 'tar';
  readonly seconds: number;
  readonly cache: {
    /** True when nothing had to be downloaded. */
    readonly hit: boolean;
    /** Packages in the shared cache for this suite and port after the create. */
    readonly packages: number;
    /** Packages fetched from the mirror by this create. */
    readonly downloaded: number;
    /** True when the root was copied from a snapshot of an identical earlier create (archive unchanged). */
    readonly snapshot: boolean;
  };
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** Where downloaded packages are shared: /var/cache/crossroot as root, ~/.cache/crossroot otherwise; $CROSSROOT_CACHE wins. */
export function cacheRoot(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const override = env['CROSSROOT_CACHE'];
  if (override !== undefined && override !== '') return resolve(override);
  if (isRoot()) return '/var/cache/crossroot';
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'crossroot');
}

/** The marker of a finished crossroot root at `dir`, or null. Never follows a symlinked .crossroot. */
export function readMarker(dir: string): RootMarker | null {
  try {
    if (!lstatSync(join(dir, MARKER_DIR)).isDirectory()) return null;
    const file = join(dir, MARKER_FILE);
    if (!lstatSync(file).isFile()) return null;
    return parseMarker(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** Mount points at or under `dir` in this process's mount namespace (octal escapes decoded). */
export function mountsUnder(dir: string): string[] {
  try {
    return mountPointsUnder(readFileSync('/proc/self/mounts', 'utf8'), resolve(dir));
  } catch {
    return [];
  }
}

/** PIDs of processes whose root or cwd is at or under `dir`. */
export function processesUsing(dir: string): number[] {
  const prefix = resolve(dir);
  const inside = (path: string): boolean => path === prefix || path.startsWith(`${prefix}/`);
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    for (const link of ['root', 'cwd']) {
      try {
        if (inside(readlinkSync(`/proc/${name}/${link}`, 'utf8'))) {
          pids.push(Number(name));
          break;
        }
      } catch { /* gone, or not ours to look at */ }
    }
  }
  return pids;
}

function isEmptyDir(path: string): boolean {
  return readdirSync(path).length === 0;
}

/** What is at DIR now, and whether create may replace it. */
function checkTarget(dir: string, force: boolean): 'absent' | 'empty' | 'root' {
  let stat;
  try {
    stat = lstatSync(dir);
  } catch {
    return 'absent';
  }
  if (!stat.isDirectory()) {
    throw new CrossrootError('ROOT_EXISTS', `create root '${dir}': it exists and is not a directory`, { hint: 'pick another directory' });
  }
  if (isEmptyDir(dir)) return 'empty';
  if (readMarker(dir) === null) {
    throw new CrossrootError('ROOT_EXISTS', `create root '${dir}': the directory is not empty and is not a crossroot root`, {
      hint: 'pick an empty or new directory; crossroot never overwrites other files',
    });
  }
  if (!force) {
    throw new CrossrootError('ROOT_EXISTS', `create root '${dir}': a crossroot root is already there`, { hint: 'add --force to replace it' });
  }
  return 'root';
}

/**
 * Removes partial siblings of `dir` left by creates that died (their PID is gone).
 * A rootless create's leftovers hold files of subordinate ids, which only a
 * namespace that maps them can remove (removeTree).
 */
async function removeStalePartials(dir: string): Promise<void> {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}${PARTIAL_INFIX}`;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1] ?? '0');
    if (pid > 0 && existsSync(`/proc/${pid}`)) continue;
    const path = join(parent, name);
    if (mountsUnder(path).length > 0) continue;
    try {
      if (lstatSync(path).uid !== process.getuid?.() && !isRoot()) continue; // another user's
      await removeTree(path);
    } catch { /* busy or not ours to remove: left for doctor */ }
  }
}

function countDebs(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir).filter((name) => name.endsWith('.deb')));
  } catch {
    return new Set();
  }
}

/** Lines of /etc/subuid or /etc/subgid for `user`: the first range. */
export function subordinateRange(file: string, user: string, uid: number): { start: number; count: number } | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  return parseSubIds(text, { name: user, uid })[0] ?? null;
}

export interface IdMaps {
  readonly uid: string;
  readonly gid: string;
}

/** The id maps of the build namespace: identity as root; the user plus its subordinate ranges otherwise. */
export function namespaceIdMaps(): IdMaps {
  if (isRoot()) return { uid: '0 0 4294967295', gid: '0 0 4294967295' };
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const user = process.env['USER'] ?? process.env['LOGNAME'] ?? String(uid);
  const subuid = subordinateRange('/etc/subuid', user, uid);
  const subgid = subordinateRange('/etc/subgid', user, uid);
  if (subuid === null || subgid === null) {
    throw new CrossrootError('CREATE_FAILED', `create root: user '${user}' has no subordinate id ranges in /etc/subuid and /etc/subgid`, {
      hint: `as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}`,
    });
  }
  return { uid: `0 ${uid} 1\n1 ${subuid.start} ${subuid.count}`, gid: `0 ${gid} 1\n1 ${subgid.start} ${subgid.count}` };
}

async function writeIdMaps(pid: number, maps: IdMaps): Promise<void> {
  const own = readlinkSync('/proc/self/ns/user');
  const deadline = Date.now() + 10_000;
  // unshare(1) has to have called unshare(2) before its map can be written.
  while (Date.now() < deadline) {
    let theirs: string;
    try {
      theirs = readlinkSync(`/proc/${pid}/ns/user`);
    } catch {
      return; // gone already: the run reports the failure
    }
    if (theirs !== own) break;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  if (isRoot()) {
    writeFileSync(`/proc/${pid}/uid_map`, `${maps.uid}\n`);
    writeFileSync(`/proc/${pid}/gid_map`, `${maps.gid}\n`);
    return;
  }
  const asArgs = (map: string): string[] => map.split('\n').flatMap((line) => line.trim().split(/\s+/));
  for (const [tool, map] of [['newuidmap', maps.uid], ['newgidmap', maps.gid]] as const) {
    await runChecked([tool, String(pid), ...asArgs(map)], { code: 'CREATE_FAILED', action: `create root: map ids with ${tool}`, hint: 'install uidmap and check /etc/subuid' });
  }
}

const STAGE_ENV_KEEP = ['http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY'];

function stageEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LC_ALL: 'C.UTF-8',
    DEBIAN_FRONTEND: 'noninteractive',
    HOME: isRoot() ? '/root' : homedir(),
  };
  for (const key of STAGE_ENV_KEEP) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

export interface NamespaceRun {
  readonly ok: boolean;
  readonly report: StageReport | null;
  readonly output: string;
  readonly signal: NodeJS.Signals | null;
}

/**
 * Runs commands in a fresh user+mount+PID namespace with a private
 * binfmt_misc instance holding `register` (if any) and the given bind mounts.
 * `onLine` sees every output line as it comes. `onPid` gets the PID of the
 * namespace's outermost process (killing it ends everything inside).
 */
export async function runInBuildNamespace(
  stage: Omit<StageInput, 'env' | 'binfmtDir'>,
  hooks: { onLine?: (line: string) => void; onPid?: (pid: number) => void } = {},
): Promise<NamespaceRun> {
  const maps = namespaceIdMaps();
  const input: StageInput = { ...stage, binfmtDir: '/proc/sys/fs/binfmt_misc', env: stageEnv() };
  const lines = new LineSplitter();
  const tail: string[] = [];
  let mapError: unknown = null;
  const result = await runProcess([
    'setpriv', '--pdeathsig', 'KILL', '--',
    'unshare', '--user', '--mount', '--pid', '--fork', '--kill-child=SIGKILL', '--propagation', 'private', '--',
    ...nodeScriptArgv(import.meta.url, 'create-stage'),
  ], {
    input: JSON.stringify(input),
    env: { ...stageEnv() },
    onSpawn: (pid) => {
      hooks.onPid?.(pid);
      writeIdMaps(pid, maps).catch((error: unknown) => {
        mapError = error;
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      });
    },
    onOutput: (stream, chunk) => {
      if (stream !== 'stderr') return;
      for (const line of lines.push(chunk)) {
        tail.push(line);
        if (tail.length > 400) tail.shift();
        hooks.onLine?.(line);
      }
    },
  });
  if (mapError !== null) throw mapError;
  const last = lines.end();
  if (last !== null) tail.push(last);
  // undefined when killed before reporting
  const report = (lastJsonLine(result.stdout) ?? null) as StageReport | null;
  return { ok: result.exitCode === 0 && report?.ok === true, report, output: tail.join('\n'), signal: result.signal };
}

/**
 * Removes a tree we built. A rootless build's files belong to the user's
 * subordinate ids (and may be unreadable to the user: a 0700 directory of
 * uid 100041 is _apt's): what a plain removal cannot remove is removed inside
 * a namespace that maps them.
 */
export async function removeTree(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (mountsUnder(path).length > 0) {
    throw new CrossrootError('ROOT_IN_USE', `remove '${path}': something is still mounted under it`, { hint: `see: grep ' ${path}' /proc/self/mounts` });
  }
  try {
    rmSync(path, { recursive: true, force: true });
    return;
  } catch (error) {
    if (isRoot()) throw error;
  }
  const removal = await runInBuildNamespace({ register: null, binds: [], commands: [['rm', '-rf', '--one-file-system', '--', path]] });
  if (!removal.ok || existsSync(path)) {
    const lastLine = removal.output.trim().split('\n').at(-1) ?? '';
    const why = lastLine !== '' ? lastLine : (removal.report?.message ?? 'it is still there');
    throw new CrossrootError('IO', `remove '${path}': ${why}`, {
      hint: 'check /etc/subuid and /etc/subgid: the tree holds files of ids outside them',
    });
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

function writeMarker(root: string, marker: RootMarker): void {
  // The directory is ours (just built); refuse anything but a plain directory there.
  const markerDir = join(root, MARKER_DIR);
  if (existsSync(markerDir) && !lstatSync(markerDir).isDirectory()) rmSync(markerDir, { force: true });
  mkdirSync(markerDir, { recursive: true, mode: 0o755 });
  writeFileSync(join(root, MARKER_FILE), `${JSON.stringify(marker, null, 2)}\n`, { mode: 0o644 });
}

/** Renames the finished partial tree onto DIR (replacing an older crossroot root there when forced). */
async function putInPlace(partial: string, dir: string, existing: 'absent' | 'empty' | 'root'): Promise<void> {
  if (existing === 'root') {
    if (mountsUnder(dir).length > 0 || processesUsing(dir).length > 0) {
      throw new CrossrootError('ROOT_IN_USE', `replace root '${dir}': it is in use`, { hint: 'stop what runs inside it first' });
    }
    const old = `${dir}.crossroot-old-${process.pid}-${randomBytes(3).toString('hex')}`;
    renameSync(dir, old);
    renameSync(partial, dir);
    await removeTree(old);
    return;
  }
  renameSync(partial, dir); // an empty DIR is replaced atomically
}

/** Removes bootstrap-only files, refusing to follow any symlink out of the root. */
function removeInsideRoot(root: string, rootRelative: string): void {
  const resolved = resolveHostPathInRoot(root, `/${rootRelative}`, { followFinal: false });
  if (resolved.links.length > 0) return; // a link on the way: not the file we wrote
  try {
    if (lstatSync(resolved.hostPath).isFile()) rmSync(resolved.hostPath);
  } catch { /* absent */ }
}

function hostNeedsNoEmulation(target: TargetArch): boolean {
  const native: Record<string, readonly string[]> = { x64: ['amd64', 'i386'], arm64: ['arm64'], ppc64: ['ppc64el'], s390x: ['s390x'], riscv64: ['riscv64'] };
  return (native[process.arch] ?? []).includes(target.debianArch);
}

export async function createRoot(options: CreateOptions): Promise<CreateResult> {
  const started = performance.now();
  const dir = resolve(options.dir);
  if (options.fromTar !== undefined) return importTarball(options, dir, started);
  if (options.arch === undefined) throw new UsageError("create root: '--arch' is required", { hint: "e.g. 'crossroot create DIR --arch arm64'" });
  const target = resolveTargetArch(options.arch);
  const suite = canonicalSuite(options.suite ?? DEFAULT_SUITE);
  checkSuite(suite, target.debianArch, options.suite);
  const variant = options.variant ?? DEFAULT_VARIANT;
  if (!isVariant(variant)) throw new UsageError(`parse option '--variant': '${variant}' is not a variant`, { hint: "use 'minbase', 'buildd', 'apt', 'required', 'important' or 'standard'" });
  const includes = [...(options.includes ?? [])];
  const mirror = options.mirror ?? DEFAULT_MIRROR;
  if (!/^(https?|file):\/\/\S+$/.test(mirror)) throw new UsageError(`parse option '--mirror': '${mirror}' is not an http(s):// or file:// URL`);
  const tool = options.tool ?? 'mmdebstrap';
  const emulate = !hostNeedsNoEmulation(target);
  if (emulate && !existsSync(staticEmulatorPath(target.arch))) {
    throw new CrossrootError('CREATE_FAILED', `create root: the static emulator '${staticEmulatorPath(target.arch)}' is missing`, { hint: 'install qemu-user-static' });
  }
  const existing = checkTarget(dir, options.force === true);
  mkdirSync(dirname(dir), { recursive: true });
  await removeStalePartials(dir);
  const partial = partialDirFor(dir, `${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(partial, { mode: 0o755 });

  const cache = aptCacheDir(options.cacheRoot ?? cacheRoot(), suite, target.debianArch);
  mkdirSync(join(cache, 'partial'), { recursive: true });
  const before = countDebs(cache);
  const plan = planBootstrap({ tool, target, suite, variant, includes, mirror, dir: partial, emulate, keepLists: true });
  // apt inside the finished root wants archives/partial under the (then unmounted) cache mount point.
  mkdirSync(join(partial, plan.cacheMountPoint, 'partial'), { recursive: true });
  const snapshot = options.fresh === true ? null : snapshotDir(options.cacheRoot ?? cacheRoot(), { suite, debianArch: target.debianArch, variant, includes, mirror, tool });
  const releaseDigest = await fetchReleaseDigest(mirror, suite);
  let progress = INITIAL_PROGRESS;
  const report = (): void => options.onProgress?.(progress, (performance.now() - started) / 1000);
  report();
  let fromSnapshot = false;
  try {
    const run = await withAbortHandling(async (abort) => {
      if (snapshot !== null && snapshotIsCurrent(snapshot, releaseDigest)) {
        progress = advanceProgress(progress, { kind: 'stage', stage: 'copying the cached root (archive unchanged since it was built)' });
        report();
        const copy = await copyTree(join(snapshot, 'root'), partial, abort.setPid);
        if (copy.ok) {
          fromSnapshot = true;
          return copy;
        }
      }
      const outcome = await runInBuildNamespace({
        register: plan.register,
        binds: [{ source: cache, target: join(partial, plan.cacheMountPoint) }],
        commands: plan.commands,
      }, {
        onPid: abort.setPid,
        onLine: (line) => {
          const event = parseProgressLine(line);
          if (event === null) return;
          progress = advanceProgress(progress, event);
          report();
        },
      });
      if (abort.signal !== null) {
        await removeTree(partial);
        throw new CrossrootError('CREATE_FAILED', `create root '${dir}': interrupted by '${abort.signal}'`);
      }
      return outcome;
    });
    if (!run.ok) {
      const reason = failureReason(run.output) ?? run.report?.message ?? `the bootstrap was killed by '${String(run.signal)}'`;
      throw new CrossrootError('CREATE_FAILED', `create root '${dir}': ${reason}`, {
        hint: /is not in the archive/.test(reason)
          ? `check the package names given to --include for '${suite}' on '${target.debianArch}' (apt-cache policy NAME, or packages.debian.org)`
          : 'run again with a terminal to see the progress; the partial tree was removed',
      });
    }
    if (mountsUnder(partial).length > 0) {
      throw new CrossrootError('CREATE_FAILED', `create root '${dir}': mounts are left under the partial tree`, { hint: 'report this as a bug' });
    }
    if (!fromSnapshot) {
      for (const file of plan.removeAfter) removeInsideRoot(partial, file);
      if (snapshot !== null) {
        progress = advanceProgress(progress, { kind: 'stage', stage: 'saving a copy for the next root' });
        report();
        await saveSnapshot(partial, snapshot, releaseDigest ?? listsReleaseDigest(partial, suite));
      }
    }
    progress = advanceProgress(progress, { kind: 'stage', stage: 'finishing' });
    report();
    writeMarker(partial, {
      format: 1, arch: target.arch.name, debianArch: target.debianArch, suite, variant, includes, mirror,
      tool, created: new Date().toISOString(), ownerUid: process.getuid?.() ?? 0,
    });
    await putInPlace(partial, dir, existing);
  } catch (error) {
    await removeTree(partial).catch(() => { /* best effort; the next create removes stale partials */ });
    throw error;
  }
  const after = countDebs(cache);
  const downloaded = [...after].filter((name) => !before.has(name)).length;
  return {
    dir, arch: target.arch.name, debianArch: target.debianArch, suite, variant, tool,
    seconds: (performance.now() - started) / 1000,
    cache: { hit: downloaded === 0, packages: after.size, downloaded, snapshot: fromSnapshot },
  };
}

// --- snapshots: a finished root, reused while the archive is unchanged ----

/** Directory of the snapshot for one exact request (suite, port, variant, packages, mirror, tool). */
export function snapshotDir(root: string, key: { suite: string; debianArch: string; variant: string; includes: readonly string[]; mirror: string; tool: string }): string {
  const digest = createHash('sha256').update(JSON.stringify([key.variant, key.includes, key.mirror, key.tool])).digest('hex').slice(0, 16);
  return join(root, 'snapshots', key.suite, key.debianArch, `${key.variant}-${digest}`);
}

/** sha256 of the suite's InRelease on the mirror, or null when it cannot be fetched (offline). */
export async function fetchReleaseDigest(mirror: string, suite: string): Promise<string | null> {
  const url = `${mirror.replace(/\/+$/, '')}/dists/${suite}/InRelease`;
  try {
    if (url.startsWith('file://')) return createHash('sha256').update(readFileSync(new URL(url))).digest('hex');
    const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
    if (!response.ok) return null;
    return createHash('sha256').update(new Uint8Array(await response.arrayBuffer())).digest('hex');
  } catch {
    return null;
  }
}

/** sha256 of the InRelease apt kept in a root's lists (the one it installed from). */
function listsReleaseDigest(root: string, suite: string): string | null {
  try {
    const lists = join(root, 'var/lib/apt/lists');
    const name = readdirSync(lists).find((file) => file.endsWith(`_dists_${suite}_InRelease`));
    return name === undefined ? null : createHash('sha256').update(readFileSync(join(lists, name))).digest('hex');
  } catch {
    return null;
  }
}

/**
 * A snapshot is current when the archive's InRelease is byte-identical to the
 * one it was built from: the same package versions would be installed. When
 * the mirror cannot be reached, the snapshot is used (a bootstrap would fail).
 */
function snapshotIsCurrent(dir: string, releaseDigest: string | null): boolean {
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8')) as { release?: unknown };
    if (!lstatSync(join(dir, 'root')).isDirectory()) return false;
    return releaseDigest === null || meta.release === releaseDigest;
  } catch {
    return false;
  }
}

/** cp -a (reflinks where the filesystem has them); inside the build namespace when rootless, as files belong to subordinate ids. */
async function copyTree(source: string, dest: string, onPid: (pid: number) => void): Promise<NamespaceRun> {
  const argv = ['cp', '-a', '--reflink=auto', '--', `${source}/.`, `${dest}/`];
  if (!isRoot()) return runInBuildNamespace({ register: null, binds: [], commands: [argv] }, { onPid });
  const result = await runProcess(argv, { onSpawn: onPid });
  return { ok: result.exitCode === 0, report: null, output: result.stderr, signal: result.signal };
}

async function saveSnapshot(root: string, dir: string, releaseDigest: string | null): Promise<void> {
  if (releaseDigest === null) return;
  const staging = `${dir}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  mkdirSync(join(staging, 'root'), { recursive: true });
  const copy = await copyTree(root, join(staging, 'root'), () => { /* short */ });
  if (!copy.ok) {
    await removeTree(staging).catch(() => { /* best effort */ });
    return;
  }
  writeFileSync(join(staging, 'snapshot.json'), `${JSON.stringify({ release: releaseDigest, created: new Date().toISOString() }, null, 2)}\n`);
  const old = `${dir}.old-${process.pid}-${randomBytes(3).toString('hex')}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(staging, dir);
  await removeTree(old).catch(() => { /* best effort */ });
}

// --- --from-tar -----------------------------------------------------------

type Compression = 'gzip' | 'xz' | 'zstd' | 'bzip2' | 'none';

function sniffCompression(file: string): Compression {
  const head = new Uint8Array(6);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 6, 0);
  } finally {
    closeSync(fd);
  }
  const starts = (...bytes: number[]): boolean => bytes.every((byte, i) => head[i] === byte);
  if (starts(0x1f, 0x8b)) return 'gzip';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
  return 'none';
}

/** Why an archive entry would escape the target, or null when it stays inside. */
export function unsafeEntryReason(path: string, type: string, linkpath: string | undefined): string | null {
  const parts = path.split('/');
  if (path.startsWith('/')) return `entry '${path}' has an absolute path`;
  if (parts.includes('..')) return `entry '${path}' climbs out with '..'`;
  if (type === 'Link' && linkpath !== undefined) {
    if (linkpath.startsWith('/')) return `hard link '${path}' points at the absolute path '${linkpath}'`;
    if (linkpath.split('/').includes('..')) return `hard link '${path}' points out with '..' ('${linkpath}')`;
  }
  return null;
}

/** Extracts a rootfs tarball into `dest` (must be a fresh directory); throws UNSAFE_ARCHIVE on an escaping entry. */
export async function extractRootTarball(file: string, dest: string): Promise<void> {
  const compression = sniffCompression(file);
  const problems: string[] = [];
  const extractor = tar.x({
    cwd: dest,
    preservePaths: false, // strips '/', refuses '..', refuses to write through symlinks
    strict: false,
    chmod: true,
    processUmask: 0,
    umask: 0,
    preserveOwner: isRoot(),
    filter: (path, entry) => {
      const header = entry as { type?: string; linkpath?: string };
      const reason = unsafeEntryReason(path, header.type ?? '', header.linkpath);
      if (reason !== null) problems.push(reason);
      return reason === null;
    },
    onwarn: (code, message) => {
      if (code === 'TAR_ENTRY_ERROR' || code === 'TAR_SYMLINK_ERROR' || /symbolic link|escape/.test(String(message))) problems.push(String(message));
    },
  });
  if (compression === 'gzip' || compression === 'none') {
    await pipeline(createReadStream(file), extractor).catch((error: unknown) => { throw notAnArchive(file, error); });
  } else {
    const argv = { xz: ['xz', '-dc', '--', file], zstd: ['zstd', '-dcq', '--', file], bzip2: ['bzip2', '-dc', '--', file] }[compression];
    const through = new PassThrough();
    const extracted = pipeline(through, extractor).catch((error: unknown) => { throw notAnArchive(file, error); });
    const result = await runProcess(argv, { stdoutSink: through });
    await extracted;
    checkResult(result, { code: 'CREATE_FAILED', action: `import '${file}'` });
  }
  if (problems.length > 0) {
    throw new CrossrootError('UNSAFE_ARCHIVE', `import '${file}': ${problems[0] ?? ''}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, {
      hint: 'the archive tries to write outside the root; nothing was kept',
    });
  }
}

/** node-tar's "this is no tar" as crossroot's error; anything else unchanged. */
function notAnArchive(file: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'TAR_BAD_ARCHIVE' && code !== 'TAR_ABORT' && code !== 'Z_DATA_ERROR') return error;
  return new CrossrootError('NOT_AN_ARCHIVE', `import '${file}': not a tar archive`, {
    hint: 'give --from-tar a root filesystem tarball (.tar, .tar.gz, .tar.xz, .tar.zst)',
  });
}

/** The architecture of the root's /bin/sh, resolved inside the root. */
export function rootArch(root: string): TargetArch | null {
  try {
    const sh = resolveHostPathInRoot(root, '/bin/sh').hostPath;
    const elf = withFileSource(sh, (source) => parseElf(source));
    const facts = { class: elf.class, endian: elf.endian, machine: elf.machine, flags: elf.flags };
    const arch = archOfElf(facts);
    const debianArch = debianArchOf(facts);
    return arch === null || debianArch === null ? null : { arch, debianArch };
  } catch {
    return null;
  }
}

function osReleaseCodename(root: string): string | null {
  try {
    const path = resolveHostPathInRoot(root, '/etc/os-release').hostPath;
    if (!statSync(path).isFile()) return null;
    return /^VERSION_CODENAME=["']?([a-z0-9.-]+)/m.exec(readFileSync(path, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

async function importTarball(options: CreateOptions, dir: string, started: number): Promise<CreateResult> {
  const file = resolve(options.fromTar ?? '');
  if (!existsSync(file) || !statSync(file).isFile()) throw new CrossrootError('NOT_FOUND', `import '${file}': no such file`);
  const wanted = options.arch === undefined ? null : resolveTargetArch(options.arch);
  const existing = checkTarget(dir, options.force === true);
  mkdirSync(dirname(dir), { recursive: true });
  await removeStalePartials(dir);
  const partial = partialDirFor(dir, `${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(partial, { mode: 0o755 });
  try {
    options.onProgress?.({ ...INITIAL_PROGRESS, stage: `extracting ${basename(file)}` }, 0);
    await extractRootTarball(file, partial);
    const found = rootArch(partial);
    if (found === null) {
      throw new CrossrootError('CREATE_FAILED', `import '${file}': the archive holds no root filesystem with an ELF /bin/sh`, { hint: 'a root tarball has bin/sh at its top level' });
    }
    if (wanted !== null && wanted.arch.name !== found.arch.name) {
      throw new CrossrootError('CREATE_FAILED', `import '${file}': its /bin/sh is '${found.debianArch}', not '${wanted.debianArch}'`);
    }
    const target = wanted ?? found;
    const suite = osReleaseCodename(partial) ?? 'unknown';
    const variant = options.variant ?? 'imported';
    writeMarker(partial, {
      format: 1, arch: target.arch.name, debianArch: found.debianArch, suite, variant, includes: [], mirror: null,
      tool: 'tar', created: new Date().toISOString(), ownerUid: process.getuid?.() ?? 0,
    });
    await putInPlace(partial, dir, existing);
    return {
      dir, arch: target.arch.name, debianArch: found.debianArch, suite, variant, tool: 'tar',
      seconds: (performance.now() - started) / 1000, cache: { hit: false, packages: 0, downloaded: 0, snapshot: false },
    };
  } catch (error) {
    await removeTree(partial).catch(() => { /* best effort */ });
    throw error;
  }
}

export type { Variant };
