// Gathers the facts `crossroot doctor` judges (core/doctor.ts), and installs
// the Debian packages that fix failed checks for `doctor --fix`.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { machine, release } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import type { DoctorCheck, DoctorFacts } from '../../core/host/doctor.ts';
import { doctorChecks, leakedMountPoints, packagesToInstall } from '../../core/host/doctor.ts';
import { DEFAULT_BINFMT_DIR, isBinfmtDir, readInstance } from '../../kernel/binfmt-fs.ts';
import { detectNamespace } from '../binfmt/health.ts';
import { findEmulators } from './emulators.ts';
import { probeNativeArches } from './native.ts';
import { subordinateRanges, subordinateUser } from './userns.ts';
import type { RunResult } from '../process/process.ts';
import { ProcessError, runProcess } from '../process/process.ts';
import { helperPath } from '../enter/run-helper.ts';
import { icecreamDoctorCheck } from '../icecream/icecream-doctor.ts';

const TOOL_NAMES = ['unshare', 'mount', 'chroot', 'newuidmap', 'newgidmap', 'debootstrap', 'mmdebstrap'] as const;
/** Searched after PATH: a user's PATH often lacks the sbin directories where chroot lives. */
const EXTRA_TOOL_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

function readNumber(path: string): number | null {
  try {
    const value = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The first executable `name` on PATH (then the sbin directories), or null. */
export function whichTool(name: string, path: string = process.env['PATH'] ?? ''): string | null {
  const dirs = [...path.split(delimiter).filter((dir) => isAbsolute(dir)), ...EXTRA_TOOL_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch { /* not here */ }
  }
  return null;
}

export interface DoctorOptions {
  readonly binfmtDir?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Also check this icecream scheduler (SCHEDULER[:PORT]): reachable, helpers and cores. */
  readonly icecream?: string | undefined;
}

export async function gatherDoctorFacts(options: DoctorOptions = {}): Promise<DoctorFacts> {
  const env = options.env ?? process.env;
  const dir = options.binfmtDir ?? DEFAULT_BINFMT_DIR;
  const mounted = isBinfmtDir(dir);
  let enabled: boolean | null = null;
  if (mounted) {
    try {
      enabled = readInstance(dir).enabled;
    } catch {
      enabled = null;
    }
  }
  const user = subordinateUser();
  const host = machine();
  const onArm64 = host === 'aarch64';
  // Only arm64 hosts need the (slower) measured answer about AArch32.
  const aarch32 = onArm64 ? (await probeNativeArches()).arches.includes('arm') : null;
  const tools: Record<string, string | null> = {};
  for (const tool of TOOL_NAMES) tools[tool] = whichTool(tool, env['PATH'] ?? '');
  return {
    kernelRelease: release(),
    binfmt: { path: dir, mounted, enabled, namespace: detectNamespace(dir).namespace },
    userns: {
      maxUserNamespaces: readNumber('/proc/sys/user/max_user_namespaces'),
      unprivilegedClone: readNumber('/proc/sys/kernel/unprivileged_userns_clone'),
      apparmorRestrict: readNumber('/proc/sys/kernel/apparmor_restrict_unprivileged_userns'),
    },
    euid: process.geteuid?.() ?? -1,
    user,
    subuid: subordinateRanges('/etc/subuid', user),
    subgid: subordinateRanges('/etc/subgid', user),
    emulators: findEmulators().map((emulator) => ({ arch: emulator.arch, path: emulator.path, static: emulator.static })),
    machine: host,
    aarch32,
    tools,
    leakedMounts: leakedMountPoints(readText('/proc/self/mountinfo')),
    runHelper: existsSync(helperPath()) ? helperPath() : null,
  };
}

export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const checks = doctorChecks(await gatherDoctorFacts(options));
  return options.icecream === undefined ? checks : [...checks, await icecreamDoctorCheck(options.icecream)];
}

/** The argv that installs `packages` (data, never a shell string). */
export function aptInstallArgv(packages: readonly string[]): string[] {
  return ['apt-get', 'install', '-y', '--no-install-recommends', ...packages];
}

export interface FixResult {
  readonly packages: readonly string[];
  /** false when not root: the command is only printed. */
  readonly ran: boolean;
  readonly argv: readonly string[];
  readonly ok: boolean;
  readonly output: string;
  /** Why apt-get failed (the command, its status, its short stderr), or null. */
  readonly error: string | null;
}

/** Installs the packages that fix failed checks, as root; otherwise returns the command to run. */
export async function fixChecks(checks: readonly DoctorCheck[], asRoot: boolean = process.geteuid?.() === 0): Promise<FixResult> {
  const packages = packagesToInstall(checks);
  const argv = aptInstallArgv(packages);
  if (packages.length === 0) return { packages, ran: false, argv: [], ok: true, output: '', error: null };
  if (!asRoot) return { packages, ran: false, argv, ok: false, output: '', error: null };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
  let run: RunResult = await runProcess(argv, { env, timeoutMs: 600_000 });
  let output = run.stdout + run.stderr;
  if (run.exitCode !== 0) {
    // Stale or missing package lists are the usual cause: refresh them once and retry.
    const update = await runProcess(['apt-get', 'update'], { env, timeoutMs: 600_000 });
    output += update.stdout + update.stderr;
    run = await runProcess(argv, { env, timeoutMs: 600_000 });
    output += run.stdout + run.stderr;
  }
  const error = run.exitCode === 0 ? null : new ProcessError(run, { code: 'IO', action: 'install packages' }).message;
  return { packages, ran: true, argv, ok: error === null, output, error };
}
