// Gathers the facts behind `binfmt status` and `binfmt test` and hands them to
// core/binfmt-health.ts for the verdicts: the instance's entries, every
// interpreter (exists? static?), the emulators on disk, which architectures
// the host runs natively, and the probe programs' results.
//
// Probes: every probe is written once into ONE fresh directory, named by its
// architecture (`/aarch64`, ...; no '.' so extension entries never take them).
// That directory is also the empty root. Each probe runs twice, at most
// PROBE_CONCURRENCY processes at a time:
//   direct      argv [dir/aarch64]
//   empty-root  unshare [--user --map-root-user] --mount --propagation private -- chroot dir /aarch64
// (argv from probePlan in probe-run.ts). Starting a process from node costs
// about 2 ms of CPU (a fork of the node process), a QEMU probe about 4 ms: the
// probes are most of `binfmt status`, so they start before anything else is
// gathered, and QEMU versions are read from the files (emulators.ts), not by
// 34 `--version` runs. One unshare for all empty-root probes (a node helper
// in the namespace running `chroot dir /ARCH` per probe) was measured slower:
// the helper's start-up costs more than the 33 unshare execs it saves.
//
// Namespace: which instance does `dir` show? See detectNamespace().
import { closeSync, constants, fchmodSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, statSync, writeSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasPrivateBinfmt } from '../../core/host/kernel-release.ts';
import type { ArchName } from '../../core/arch/arch.ts';
import { ARCHITECTURES } from '../../core/arch/arch.ts';
import type { ArchProbes, InstanceVerdict, InterpreterFacts, ProbeFact } from '../../core/binfmt/health.ts';
import { assessInstance, handlerOf } from '../../core/binfmt/health.ts';
import type { BinfmtEntry } from '../../core/binfmt/entry.ts';
import { parseElf } from '../../core/elf/elf.ts';
import type { UnmountedVerdict } from '../../core/binfmt/mount-state.ts';
import { mountCommand, unmountedVerdict } from '../../core/binfmt/mount-state.ts';
import { probeExpectation } from '../../core/probe/probe-elf.ts';
import { referenceProgram } from '../../core/binfmt/install-plan.ts';
import { DEFAULT_BINFMT_DIR, isBinfmtDir, readInstance } from '../../kernel/binfmt-fs.ts';
import type { Emulator } from '../host/emulators.ts';
import { emulatorVersion, findEmulatorCandidates, honoursPreserveArgv0 } from '../host/emulators.ts';
import { withFileSource } from '../fs/file-source.ts';
import { guessNativeArches, nativeProbeProgram, probeNativeArches } from '../host/native.ts';
import { DEFAULT_PROBE_STATUS, probePlan, runProbePlan, type ProbeMode } from './probe-run.ts';
import { isIdentityUidMap, PRIVATE_INSTANCE_NOTE } from '../host/userns.ts';

/** At most this many probe processes at once (the issue asks for bounded concurrency). */
export const PROBE_CONCURRENCY = 8;
const PROBE_TIMEOUT_MS = 10_000;

export type NamespaceKind = 'host' | 'private';

export interface NamespaceInfo {
  readonly namespace: NamespaceKind;
  /** How it was decided, for humans and bug reports. */
  readonly evidence: string;
  /** Set when private: "these registrations are not visible outside this user namespace". */
  readonly note: string | null;
}

/** Whether /proc/<pid>/uid_map is the initial namespace's identity map "0 0 4294967295"; null when unreadable. */
function hasIdentityUidMap(pid: 'self' | '1'): boolean | null {
  try {
    return isIdentityUidMap(readFileSync(`/proc/${pid}/uid_map`, 'utf8'));
  } catch {
    return null;
  }
}

/** major:minor of the binfmt_misc mounts pid 1 sees (its /proc/1/mountinfo), or null when unreadable. */
function hostBinfmtDevices(): Set<string> | null {
  try {
    const devices = new Set<string>();
    for (const line of readFileSync('/proc/1/mountinfo', 'utf8').split('\n')) {
      const [before, after] = line.split(' - ');
      if (after?.split(' ')[0] !== 'binfmt_misc') continue;
      const device = before?.split(' ')[2];
      if (device !== undefined) devices.add(device);
    }
    return devices;
  } catch {
    return null;
  }
}

function deviceOf(dir: string): string | null {
  try {
    const dev = statSync(dir, { bigint: true }).dev;
    // glibc's gnu_dev_major / gnu_dev_minor.
    const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
    const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
    return `${major}:${minor}`;
  } catch {
    return null;
  }
}

/**
 * Host or private instance. Rules, in order:
 *  1. the process is in the initial user namespace (its uid_map is the identity
 *     "0 0 4294967295", which no ordinary child namespace has) -> host;
 *  2. Linux < 6.7 has one instance for everybody -> host;
 *  3. the dir is the very binfmt_misc superblock pid 1 has mounted (same
 *     device number; pid 1 in the initial namespace) -> host: an inherited
 *     mount of the host's instance, read-only from here;
 *  4. otherwise -> private: registrations written here go to this user
 *     namespace's own instance, which the kernel consults only for processes of
 *     this namespace and its children.
 * Limitation: a child namespace given the full identity map by root counts as
 * the initial one.
 */
export function detectNamespace(dir: string): NamespaceInfo {
  const host = (evidence: string): NamespaceInfo => ({ namespace: 'host', evidence, note: null });
  const initial = hasIdentityUidMap('self');
  if (initial === true) return host('initial user namespace (uid_map is the identity)');
  if (!hasPrivateBinfmt(release())) return host(`Linux ${release()} has a single binfmt_misc instance (private ones need 6.7)`);
  const device = deviceOf(dir);
  const hostDevices = hasIdentityUidMap('1') === true ? hostBinfmtDevices() : null;
  if (device !== null && hostDevices?.has(device) === true) {
    return host(`the mount is the host's instance (device ${device}, as mounted by pid 1)`);
  }
  return {
    namespace: 'private',
    evidence: initial === null ? 'uid_map unreadable; assuming a user namespace' : 'a user namespace other than the initial one',
    note: PRIVATE_INSTANCE_NOTE,
  };
}

/** Whether the path exists, whether it is a static ELF, its PT_INTERP. */
export function interpreterFacts(path: string): InterpreterFacts {
  try {
    if (!statSync(path).isFile()) return { exists: true, static: null, loader: null };
  } catch {
    return { exists: false, static: null, loader: null };
  }
  try {
    return withFileSource(path, (source) => {
      const elf = parseElf(source);
      if (elf.type !== 'EXEC' && elf.type !== 'DYN') return { exists: true, static: null, loader: null };
      return { exists: true, static: elf.interpreter === null, loader: elf.interpreter };
    });
  } catch {
    return { exists: true, static: null, loader: null }; // not ELF (a script) or unreadable
  }
}

/** Runs `work` over `items`, at most `limit` at a time, results in input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

export interface ProbeRunOptions {
  readonly status?: number;
  readonly concurrency?: number;
  readonly timeoutMs?: number;
  readonly asRoot?: boolean;
  readonly tempParent?: string;
}

/** Writes `bytes` as `dir/name`, mode 0755, refusing anything already there (O_EXCL|O_NOFOLLOW). */
function writeProgram(dir: string, name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o755);
  try {
    fchmodSync(fd, 0o755); // the umask may have taken bits away
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
  } finally {
    closeSync(fd);
  }
  return path;
}

async function runOne(arch: string, argv: readonly string[], mode: ProbeMode, probePath: string, expectedStatus: number, timeoutMs: number): Promise<ProbeFact> {
  const run = await runProbePlan(arch, mode, argv, probePath, expectedStatus, timeoutMs);
  return { ok: run.ok, expectedStatus, exitCode: run.exitCode, signal: run.signal, errno: run.errno ?? null, timedOut: run.timedOut };
}

/**
 * Runs the probe of each architecture directly and inside an empty root, all
 * from one temporary directory, at most `concurrency` processes at a time.
 * Architectures without a probe program are left out of the result.
 */
export async function runArchProbes(arches: readonly ArchName[], options: ProbeRunOptions = {}): Promise<Map<ArchName, ArchProbes>> {
  const probeable = arches.filter((arch) => referenceProgram(arch) !== null);
  const results = new Map<ArchName, ArchProbes>();
  if (probeable.length === 0) return results;
  const status = options.status ?? DEFAULT_PROBE_STATUS;
  const expected = probeExpectation(status);
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  const asRoot = options.asRoot ?? process.geteuid?.() === 0;
  const dir = mkdtempSync(join(options.tempParent ?? tmpdir(), 'crossroot-probes-'));
  try {
    const jobs = probeable.flatMap((arch) => {
      const program = nativeProbeProgram(arch, status);
      if (program === null) return [];
      const probePath = writeProgram(dir, arch, program);
      const plan = probePlan({ probePath, rootDir: dir, probeInRoot: `/${arch}`, asRoot });
      return [
        { arch, mode: 'direct' as const, argv: plan.direct, probePath },
        { arch, mode: 'empty-root' as const, argv: plan.emptyRoot, probePath },
      ];
    });
    const facts = await mapBounded(jobs, options.concurrency ?? PROBE_CONCURRENCY,
      (job) => runOne(job.arch, job.argv, job.mode, job.probePath, expected, timeoutMs));
    for (const [index, job] of jobs.entries()) {
      if (job.mode !== 'direct') continue;
      const direct = facts[index];
      const emptyRoot = facts[index + 1];
      if (direct !== undefined && emptyRoot !== undefined) results.set(job.arch, { direct, emptyRoot });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

export interface EmulatorReport {
  readonly arch: ArchName;
  readonly path: string;
  readonly static: boolean;
  readonly version: string | null;
}

export interface StatusOptions {
  readonly binfmtDir?: string;
  /** Run the probe programs (default true). */
  readonly probe?: boolean;
  /** Architectures to probe (default: every one with a probe program). */
  readonly probeArches?: readonly ArchName[];
  /** Look up emulator versions (from the files, else by running `--version`; default true). */
  readonly versions?: boolean;
  /** Architectures the host runs natively, when the caller knows them; otherwise inferred (see nativeFromProbes). */
  readonly native?: ReadonlySet<ArchName> | null;
  readonly probeOptions?: ProbeRunOptions;
}

export interface MountedStatus {
  readonly mounted: true;
  readonly path: string;
  readonly namespace: NamespaceInfo;
  readonly enabled: boolean;
  readonly order: 'kernel' | 'mtime';
  readonly verdict: InstanceVerdict;
  readonly emulators: readonly EmulatorReport[];
  /** How `native` was decided. */
  readonly nativeMethod: NativeFacts['method'];
}

export interface UnmountedStatus {
  readonly mounted: false;
  readonly path: string;
  readonly namespace: NamespaceInfo;
  readonly hint: string;
  /** How serious that is, as doctor weighs it (core/binfmt/mount-state.ts), and why. */
  readonly severity: UnmountedVerdict['severity'];
  readonly message: string;
  /** The emulators on disk are there whether or not binfmt_misc is mounted (versions not read). */
  readonly emulators: readonly EmulatorReport[];
}

export type StatusReport = MountedStatus | UnmountedStatus;

export function mountHint(dir: string): string {
  return `mount it: ${mountCommand(dir)}`;
}

export interface NativeFacts {
  readonly arches: ReadonlySet<ArchName>;
  /** 'probes': measured by status's own probes (plus native.ts where an entry hides the answer); 'guess': uname -m family. */
  readonly method: 'probes' | 'guess' | 'given';
}

/**
 * Which architectures the host runs natively, as cheaply as the truth allows.
 * An architecture no entry takes was just probed directly: it ran, so it is
 * native, or it did not. Where an entry takes it the probe says nothing about
 * the host, so for the architectures uname -m's family calls native (the only
 * ones that can be) native.ts probes them again in a user namespace with an
 * empty private instance; other handled architectures are not native.
 */
export async function resolveNative(
  entries: readonly BinfmtEntry[], enabled: boolean, probes: ReadonlyMap<ArchName, ArchProbes>,
): Promise<NativeFacts> {
  if (probes.size === 0) return { arches: new Set(guessNativeArches()), method: 'guess' };
  const native = new Set<ArchName>();
  const hidden: ArchName[] = [];
  const family = new Set(guessNativeArches());
  for (const [arch, result] of probes) {
    if (handlerOf(entries, arch, enabled) === null) {
      if (result.direct.ok) native.add(arch);
    } else if (family.has(arch)) {
      hidden.push(arch);
    }
  }
  if (hidden.length > 0) {
    const measured = await probeNativeArches();
    for (const arch of hidden) if (measured.arches.includes(arch)) native.add(arch);
    if (measured.method === 'guess') return { arches: native, method: 'guess' };
  }
  return { arches: native, method: 'probes' };
}

function emulatorFor(interpreter: string, candidates: readonly Emulator[]): Emulator | undefined {
  let real: string | null = null;
  try {
    real = realpathSync(interpreter);
  } catch { /* missing: compare the plain path only */ }
  return candidates.find((candidate) => candidate.path === interpreter || (real !== null && candidate.realPath === real));
}

/** Candidates come ranked (static first): the first per architecture is findEmulators()'s choice. */
function preferredEmulators(candidates: readonly Emulator[]): Emulator[] {
  const preferred = new Map<ArchName, Emulator>();
  for (const candidate of candidates) if (!preferred.has(candidate.arch)) preferred.set(candidate.arch, candidate);
  return [...preferred.values()];
}

/** Everything `binfmt status` reports, probes included unless `probe: false`. */
export async function collectStatus(options: StatusOptions = {}): Promise<StatusReport> {
  const dir = options.binfmtDir ?? DEFAULT_BINFMT_DIR;
  const namespace = detectNamespace(dir);
  if (!isBinfmtDir(dir)) {
    const emulators = preferredEmulators(findEmulatorCandidates())
      .map((emulator) => ({ arch: emulator.arch, path: emulator.path, static: emulator.static, version: null }));
    const { severity, message } = unmountedVerdict(dir, release());
    return { mounted: false, path: dir, namespace, hint: mountHint(dir), severity, message, emulators };
  }
  const instance = readInstance(dir);
  const probeArches = options.probeArches ?? ARCHITECTURES.map((arch) => arch.name);
  // Probes first: they run in child processes while the rest is gathered here.
  const probesRunning = options.probe === false
    ? Promise.resolve(new Map<ArchName, ArchProbes>())
    : runArchProbes(probeArches, options.probeOptions);

  // One discovery: candidates come ranked (static first), so the first per architecture is findEmulators()'s choice.
  const candidates = findEmulatorCandidates();
  const emulators = preferredEmulators(candidates);
  const interpreterNames = [...new Set(instance.entries.map((entry) => entry.interpreter))];
  // Versions (read from the files; a spawn only where a file has no QEMU banner) beside the probes.
  const versionsWanted = options.versions ?? true;
  const [probes, versions, interpreterList] = await Promise.all([
    probesRunning,
    versionsWanted ? mapBounded(emulators, PROBE_CONCURRENCY, (emulator) => emulatorVersion(emulator)) : Promise.resolve(emulators.map(() => null)),
    mapBounded(interpreterNames, PROBE_CONCURRENCY, async (name) => {
      const facts = interpreterFacts(name);
      const emulator = emulatorFor(name, candidates);
      const honoursP = emulator === undefined || !versionsWanted ? undefined : await honoursPreserveArgv0(emulator) ?? undefined;
      return [name, { ...facts, honoursP }] as const;
    }),
  ]);
  const native: NativeFacts = options.native !== undefined && options.native !== null
    ? { arches: options.native, method: 'given' }
    : await resolveNative(instance.entries, instance.enabled, probes);
  const verdict = assessInstance({
    enabled: instance.enabled,
    entries: instance.entries,
    interpreters: new Map(interpreterList),
    probes,
    native: native.arches,
  });
  return {
    mounted: true,
    path: dir,
    namespace,
    enabled: instance.enabled,
    order: instance.order,
    verdict,
    emulators: emulators.map((emulator, index) => ({
      arch: emulator.arch, path: emulator.path, static: emulator.static, version: versions[index] ?? null,
    })),
    nativeMethod: native.method,
  };
}
