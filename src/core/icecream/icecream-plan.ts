// `crossroot run --accelerate --icecream SCHEDULER[:PORT]`: how the root's
// compile jobs reach an icecream cluster. Pure: facts about the root come in
// as the acceleration planner's TreeFacts; mounts, setup steps, the
// command's environment and the wrapper scripts come out.
//
// The design (DESIGN.md section 5, scaled out):
//  - the root's two real gcc drivers, /usr/bin/<triplet>-gcc-<major> and
//    <triplet>-g++-<major> (every name a build may use, cc, gcc, gcc-14, c++,
//    <triplet>-gcc ..., resolves to one of them), are covered by a script that
//    runs the native icecc client on the original driver (or the original
//    driver itself, for the few jobs whose object a helper cannot make the
//    same: see driverWrapper). icecc preprocesses
//    and links locally with that driver (its cc1, as and ld run natively:
//    --accelerate) and sends the compile to a helper, which runs the same
//    native cross cc1 and as from the toolchain environment the run hands it
//    (ICECC_VERSION=x86_64:<tarball>=<triplet>).
//  - the original drivers stay in /usr/bin under new names
//    (<triplet>-icecream.gcc, <triplet>-icecream.g++), through a shadow of
//    /usr/bin: a gcc driver started from another directory relocates itself
//    (-iprefix, another libexec path), and the names keep icecc's rules:
//    "g++" or "gcc" in the name says the language, the part before the last
//    '-' must be the ICECC_VERSION target.
//  - the icecc client (the host's, with the host's loader and libraries), the
//    tarball and a log directory are in a host directory bound at
//    /run/crossroot-icecream; the run's own iceccd (started by the runner,
//    no remote jobs) listens on a socket bound at /run/icecc, where the client
//    looks first (/var/run/icecc/iceccd.socket).
//  - icecc compiles locally whenever the cluster cannot serve a job (no
//    daemon, no scheduler, a helper gone mid-job): the client logs why, and
//    the runner reports it on stderr after the run.
import { resolveInRoot } from '../root/root-path.ts';
import type { AccelerateMount, AddedEntry, KeptEntry, TreeFacts } from '../accelerate/accelerate-plan.ts';
import type { SetupStep } from '../enter/setup-steps.ts';

export const DEFAULT_SCHEDULER_PORT = 8765;
/** Where the run's icecream files are in the root (inside the run's /run tmpfs). */
export const RUN_DIR_IN_ROOT = '/run/crossroot-icecream';
/** Where the icecc client looks for its daemon's socket first. */
export const SOCKET_DIR_IN_ROOT = '/run/icecc';
export const SOCKET_NAME = 'iceccd.socket';
/** icecc's name for the platform the helpers and the toolchain run on. */
export const NATIVE_PLATFORM = 'x86_64';

export interface SchedulerAddress {
  readonly host: string;
  readonly port: number;
}

/** Parses SCHEDULER[:PORT] ('10.0.0.1', 'build.lan:8765', '[fd00::1]:8765'); null when malformed. */
export function parseScheduler(text: string): SchedulerAddress | null {
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(text);
  const plain = /^([A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d{1,5}))?$/.exec(text);
  const match = bracketed ?? plain;
  if (match === null || match[1] === undefined) return null;
  const port = match[2] === undefined ? DEFAULT_SCHEDULER_PORT : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host: match[1], port };
}

export function formatScheduler(address: SchedulerAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${host}:${String(address.port)}`;
}

export interface IcecreamDriver {
  /** The root's real driver file, resolved ('/usr/bin/aarch64-linux-gnu-gcc-14'). */
  readonly path: string;
  /** Where the original stays reachable ('/usr/bin/aarch64-linux-gnu-icecream.gcc'). */
  readonly original: string;
  readonly language: 'c' | 'c++';
}

export interface IcecreamRootPlan {
  readonly triplet: string;
  readonly gccMajor: string;
  readonly drivers: readonly IcecreamDriver[];
  /** The shadow of /usr/bin, to be built after the acceleration's own mounts. */
  readonly mounts: readonly AccelerateMount[];
}

export type IcecreamRootVerdict = { readonly plan: IcecreamRootPlan; readonly refused: null } | { readonly plan: null; readonly refused: string };

function resolved(root: TreeFacts, path: string): string | null {
  try {
    return resolveInRoot(path, root.readlink).path;
  } catch {
    return null;
  }
}

/** What the wrapper writes to the client's log for a job it keeps here (summarizeClientLog reads it). */
export const KEPT_LOCAL_MARK = 'crossroot: compiled here:';

/**
 * The wrapper put over a driver: icecc with the original driver as its
 * compiler, except for the jobs whose output a helper cannot make equal to
 * the root's own compile, which the original driver compiles here
 * (accelerated) and the client's log notes (icecc runs every other kind of
 * job, preprocessing and linking, here anyway):
 *  - macro debug info (-g3): a helper's cc1 gets the macros as #defines of
 *    the -fdirectives-only input, so .debug_macro differs;
 *  - split debug info (-gsplit-dwarf): the DWO id is a checksum cc1 takes of
 *    its producer string, before the environment's assembler fixes the text;
 *  - LTO (-flto): the objects carry cc1's switches;
 *  - debug info where icecc preprocesses fully (-pedantic under a GNU
 *    standard, -Wunused-macros, ICECC_REMOTE_CPP=0): expanded macros and
 *    collapsed spaces move the columns of the debug info.
 */
export function driverWrapper(original: string, runDir = RUN_DIR_IN_ROOT): string {
  const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;
  const local = (reason: string): string =>
    `{ echo "${KEPT_LOCAL_MARK} ${reason}" >>"\${ICECC_LOGFILE:-/dev/null}"; } 2>/dev/null; exec ${quote(original)} "$@"`;
  return [
    '#!/bin/sh',
    '# crossroot run --icecream: compile jobs go to the icecream cluster, the rest runs here.',
    '# It exists only inside the run\'s private mount namespace.',
    'compile=; level=0; split=; lto=; pedantic=; std=; macros=',
    'for arg do',
    '  case $arg in',
    '    -c|-S) compile=1 ;;',
    '    -g0|-ggdb0) level=0 ;;',
    '    -g1|-ggdb1) level=1 ;;',
    '    -g2|-ggdb2) level=2 ;;',
    '    -g3|-ggdb3) level=3 ;;',
    '    -g|-ggdb|-gdwarf|-gdwarf-[0-9]) if [ $level = 0 ]; then level=2; fi ;;',
    '    -gsplit-dwarf) split=1 ;;',
    '    -flto|-flto=*) lto=1 ;;',
    '    -fno-lto) lto= ;;',
    '    -pedantic|-Wpedantic|-pedantic-errors) pedantic=1 ;;',
    '    -std=*) std=${arg#-std=} ;;',
    '    -Wunused-macros|-Werror=unused-macros) macros=1 ;;',
    '    -Wno-unused-macros) macros= ;;',
    '  esac',
    'done',
    `if [ -n "$compile" ] && [ -n "$lto" ]; then ${local('LTO (-flto)')}; fi`,
    'if [ -n "$compile" ] && [ $level != 0 ]; then',
    `  if [ $level = 3 ]; then ${local('macro debug info (-g3)')}; fi`,
    `  if [ -n "$split" ]; then ${local('split debug info (-gsplit-dwarf)')}; fi`,
    '  case $pedantic$std in 1|1gnu*) macros=1 ;; esac',
    '  case ${ICECC_REMOTE_CPP-1} in \'\'|0) macros=1 ;; esac',
    `  if [ -n "$macros" ]; then ${local('debug info with full preprocessing (-pedantic, -Wunused-macros or ICECC_REMOTE_CPP=0)')}; fi`,
    'fi',
    `exec ${quote(`${runDir}/lib/ld-linux-x86-64.so.2`)} --library-path ${quote(`${runDir}/lib`)} ${quote(`${runDir}/icecc`)} ${quote(original)} "$@"`,
    '',
  ].join('\n');
}

/** Plans the driver wrappers for the root's gcc `major` of `triplet`. */
export function planIcecreamRoot(root: TreeFacts, triplet: string, major: string): IcecreamRootVerdict {
  const bin = resolved(root, '/usr/bin');
  if (bin === null || root.kind(bin) !== 'dir') return { plan: null, refused: 'the root has no /usr/bin directory' };
  const drivers: IcecreamDriver[] = [];
  for (const [tool, language, suffix] of [['gcc', 'c', 'gcc'], ['g++', 'c++', 'g++']] as const) {
    const path = resolved(root, `/usr/bin/${triplet}-${tool}-${major}`);
    if (path === null || root.kind(path) !== 'file' || path !== `${bin}/${triplet}-${tool}-${major}`) {
      return { plan: null, refused: `the root has no driver '/usr/bin/${triplet}-${tool}-${major}' (a regular file in /usr/bin)` };
    }
    const original = `${bin}/${triplet}-icecream.${suffix}`;
    if (root.kind(original) !== null) return { plan: null, refused: `collision: the root already has '${original}'` };
    drivers.push({ path, original, language });
  }
  const replaced = new Set(drivers.map((driver) => driver.path.slice(bin.length + 1)));
  const keep = root.list(bin).filter((name) => !replaced.has(name)).map((name): KeptEntry => {
    const kind = root.kind(`${bin}/${name}`) ?? 'other';
    const target = kind === 'symlink' ? root.readlink(`${bin}/${name}`) : null;
    return target === null ? { name, kind } : { name, kind, target };
  });
  const add: AddedEntry[] = drivers.flatMap((driver): AddedEntry[] => [
    { kind: 'file', path: driver.original.slice(bin.length + 1), source: driver.path, from: 'root' },
    { kind: 'script', path: driver.path.slice(bin.length + 1), text: driverWrapper(driver.original) },
  ]);
  return { plan: { triplet, gccMajor: major, drivers, mounts: [{ kind: 'shadow-dir', target: bin, keep, add }] }, refused: null };
}

/** ICECC_VERSION: the tarball for jobs of the `triplet` drivers, run on x86-64 helpers. */
export function icecreamVersion(tarballInRoot: string, triplet: string): string {
  return `${NATIVE_PLATFORM}:${tarballInRoot}=${triplet}`;
}

/** The variables the run's command gets. */
export function icecreamEnvironment(tarballInRoot: string, triplet: string): Record<string, string> {
  return {
    ICECC_VERSION: icecreamVersion(tarballInRoot, triplet),
    // Warnings (a job compiled locally, and why) go to a log the runner reads after the run,
    // not into the build's output.
    ICECC_DEBUG: 'warning',
    ICECC_LOGFILE: `${RUN_DIR_IN_ROOT}/log/client.log`,
  };
}

/** What the run's host directory for icecream holds; the runner creates these placeholders. */
export const RUN_DIR_LAYOUT = {
  /** Bind of the host's icecc client program. */
  client: 'icecc',
  /** Bind of the host's x86-64 library directory (with its loader). */
  lib: 'lib',
  /** The daemon's socket and log (owned by the daemon's user). */
  daemon: 'daemon',
  /** The client's log (world-writable: the build may run as any user). */
  log: 'log',
} as const;

/**
 * Steps after the acceleration's: the run directory at /run/crossroot-icecream
 * and the daemon's socket directory at /run/icecc, both inside the run's own
 * /run tmpfs (`runDir`, root-relative and resolved, as the enter plan mounted it);
 * the host's client, libraries and the tarball bound read-only into the host directory.
 */
export function icecreamSteps(rootDir: string, runDirInRoot: string, hostRunDir: string, binds: {
  readonly client: string; readonly lib: string; readonly tarball: string; readonly tarballName: string;
}): SetupStep[] {
  const root = rootDir.endsWith('/') ? rootDir.slice(0, -1) : rootDir;
  const inRoot = (name: string): string => `${root}${runDirInRoot}/${name}`;
  const bind = (what: string, source: string, target: string, options: string): SetupStep => ({ op: 'mount', what: `icecream: ${what}`, source, target, fstype: 'none', options });
  return [
    bind('icecc client', binds.client, `${hostRunDir}/${RUN_DIR_LAYOUT.client}`, 'bind,ro'),
    bind('host libraries for the client', binds.lib, `${hostRunDir}/${RUN_DIR_LAYOUT.lib}`, 'bind,ro'),
    bind('toolchain environment', binds.tarball, `${hostRunDir}/${binds.tarballName}`, 'bind,ro'),
    { op: 'mkdir', path: inRoot(RUN_DIR_IN_ROOT.slice('/run/'.length)), temporary: false },
    bind('run directory', hostRunDir, inRoot(RUN_DIR_IN_ROOT.slice('/run/'.length)), 'rbind'),
    { op: 'mkdir', path: inRoot(SOCKET_DIR_IN_ROOT.slice('/run/'.length)), temporary: false },
    bind('daemon socket', `${hostRunDir}/${RUN_DIR_LAYOUT.daemon}`, inRoot(SOCKET_DIR_IN_ROOT.slice('/run/'.length)), 'bind'),
  ];
}

/**
 * The argv of the run's own iceccd: no remote jobs, and no compile slots of
 * its own (-m 0), else the scheduler keeps the jobs on the submitting machine
 * while it is free; its socket and log in `daemonDir`. (Jobs it must compile
 * locally, when the cluster cannot serve them, then run one at a time.)
 */
export function localDaemonArgv(scheduler: SchedulerAddress, daemonDir: string, nodeName: string): string[] {
  return ['iceccd', '--no-remote', '-m', '0', '-s', formatScheduler(scheduler), '-l', `${daemonDir}/daemon.log`, '-vv', '-N', nodeName];
}

/**
 * The full command of the run's iceccd (`daemonArgv` from localDaemonArgv,
 * `daemon` its path): under setpriv with a parent-death signal, so that it
 * dies with crossroot even by SIGKILL, rootless as well as root; as `ids`
 * (the icecc user, else nobody) when crossroot is root.
 */
export function daemonCommand(daemon: string, daemonArgv: readonly string[], ids: { readonly uid: number; readonly gid: number } | null): string[] {
  const user = ids === null ? [] : [`--reuid=${String(ids.uid)}`, `--regid=${String(ids.gid)}`, '--clear-groups', '--inh-caps=-all'];
  return ['setpriv', ...user, '--pdeathsig', 'SIGKILL', '--', daemon, ...daemonArgv.slice(1)];
}

export interface FallbackSummary {
  /** Jobs compiled locally because the cluster could not serve them. */
  readonly localJobs: number;
  /** Distinct reasons, in order of first appearance. */
  readonly reasons: readonly string[];
  /** Jobs the wrapper kept here because a helper's object would differ (driverWrapper). */
  readonly keptJobs: number;
  readonly keptReasons: readonly string[];
}

/** Reads icecc's client log (ICECC_DEBUG=warning): the jobs it compiled here instead, and why. */
export function summarizeClientLog(text: string): FallbackSummary {
  const reasons: string[] = [];
  const keptReasons: string[] = [];
  let localJobs = 0;
  let keptJobs = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${KEPT_LOCAL_MARK} `)) {
      keptJobs++;
      const reason = line.slice(KEPT_LOCAL_MARK.length + 1).trim();
      if (!keptReasons.includes(reason)) keptReasons.push(reason);
      continue;
    }
    const message = line.replace(/^ICECC\[\d+\]\s+\S+\s+\S+:\s*/, '').trim();
    const reason = /^local build forced by remote exception: (.*)$/.exec(message)?.[1]
      ?? /^got exception (.*)$/.exec(message)?.[1]
      ?? (message === 'no local daemon found' ? 'no local icecream daemon' : null);
    if (reason === null || reason === undefined) continue;
    localJobs++;
    if (!reasons.includes(reason.trim())) reasons.push(reason.trim());
  }
  return { localJobs, reasons, keptJobs, keptReasons };
}

function listed(reasons: readonly string[]): string {
  const shown = reasons.slice(0, 3).map((reason) => `'${reason}'`).join(', ');
  return reasons.length > 3 ? `${shown} and ${String(reasons.length - 3)} more` : shown;
}

/** The stderr lines for a summary; none when every job went to the cluster. */
export function fallbackLines(summary: FallbackSummary): string[] {
  return [
    ...(summary.localJobs === 0 ? [] : [`${String(summary.localJobs)} compile job(s) fell back to local accelerated compiles: ${listed(summary.reasons)}`]),
    ...(summary.keptJobs === 0 ? [] : [`${String(summary.keptJobs)} compile job(s) compiled locally, accelerated, as a helper's object would differ: ${listed(summary.keptReasons)}`]),
  ];
}

export interface SchedulerHelper {
  readonly name: string;
  readonly address: string;
  readonly platform: string;
  readonly maxJobs: number;
  readonly jobs: number;
}

/** Parses the scheduler's `listcs` answer on its text port (PORT+1). */
export function parseListcs(text: string): SchedulerHelper[] {
  const helpers: SchedulerHelper[] = [];
  for (const line of text.split('\n')) {
    const match = /^ (\S+) \(([^)]+)\) \[([^\]]*)\] speed=\S+ jobs=(\d+)\/(\d+)/.exec(line);
    if (match === null) continue;
    helpers.push({ name: match[1] ?? '', address: match[2] ?? '', platform: match[3] ?? '', jobs: Number(match[4]), maxJobs: Number(match[5]) });
  }
  return helpers;
}

/** The doctor's verdict on a scheduler: reachable, and how many x86-64 helpers and job slots (cores) it offers. */
export function schedulerCheck(where: string, answer: { readonly listcs: string } | { readonly problem: string }): {
  readonly ok: boolean; readonly message: string; readonly fix: string | null; readonly helpers: readonly SchedulerHelper[];
} {
  if ('problem' in answer) {
    return {
      ok: false, helpers: [],
      message: `icecream scheduler '${where}' is unreachable on its text port: ${answer.problem}`,
      fix: 'start icecc-scheduler on that machine (Debian package icecc; see the README), or check the address and that TCP ports 8765-8766 are open',
    };
  }
  const helpers = parseListcs(answer.listcs).filter((helper) => helper.maxJobs > 0 && helper.platform === NATIVE_PLATFORM);
  const cores = helpers.reduce((sum, helper) => sum + helper.maxJobs, 0);
  const names = helpers.map((helper) => helper.name).join(', ');
  if (helpers.length === 0) {
    return { ok: false, helpers, message: `icecream scheduler '${where}' is reachable but offers no ${NATIVE_PLATFORM} helper`, fix: 'start iceccd -s SCHEDULER on the helpers (Debian package icecc)' };
  }
  return { ok: true, helpers, message: `icecream scheduler '${where}' offers ${String(helpers.length)} helper(s) with ${String(cores)} job slot(s): ${names}`, fix: null };
}
