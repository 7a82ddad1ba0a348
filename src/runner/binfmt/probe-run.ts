// Running probe programs (core/probe-elf.ts) to prove that an emulator
// registered with binfmt_misc really runs foreign code, in two modes:
//
//   direct      the kernel execs the probe file; binfmt_misc hands it to the
//               registered interpreter, found in the caller's root.
//   empty-root  the same, after chroot into a directory that holds nothing but
//               the probe, in a new mount namespace. Only an entry with flag F
//               (interpreter opened at registration) can work there: otherwise
//               the kernel looks for the interpreter inside the empty root (ENOENT).
//
// When not root, the empty-root mode adds `--user --map-root-user`. On Linux
// >= 6.7 a new user namespace keeps using its nearest ancestor's binfmt_misc
// instance as long as it never mounts its own, so this still tests the
// caller's entries.
//
// How exec failures come back (libuv and chroot(8) both go through execvp):
//   - ENOENT, EACCES, ELOOP... : direct mode gets them as spawn errors; chroot(8)
//     prints them ("failed to run command '/probe': <strerror>", status 126/127).
//   - ENOEXEC (no entry matched): execvp falls back to running the file with
//     /bin/sh. Direct mode: the shell fails on the ELF bytes (status 126/127,
//     the probe path in its message), reported here as ENOEXEC with
//     `errnoInferred`. Empty-root mode: there is no /bin/sh in the root, so the
//     fallback fails with ENOENT and chroot reports ENOENT: in that mode ENOENT
//     means "no usable interpreter or no matching entry"; the direct mode tells
//     the two apart.
import { closeSync, constants, fchmodSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProbeElf, probeExpectation, probeSpec } from '../../core/probe/probe-elf.ts';
import { CrossrootError, isCrossrootError } from '../../core/errors.ts';
import { runProcess } from '../process/process.ts';

export type ProbeMode = 'direct' | 'empty-root';

export const PROBE_FILE_NAME = 'probe';
/** The status probes exit with unless the caller picks one: not 0, 1, 2, 126 or 127, which other failures produce. */
export const DEFAULT_PROBE_STATUS = 42;

/**
 * Writes the probe for `arch` as `dir/name`, mode 0755. Refuses an existing
 * destination, symlink included (O_CREAT|O_EXCL|O_NOFOLLOW): `dir` should be
 * a fresh directory of the caller's. Returns the path.
 */
export function writeProbe(dir: string, arch: string, status: number, name: string = PROBE_FILE_NAME): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new CrossrootError('IO', `write probe: file name '${name}' is not a plain name`);
  }
  const bytes = buildProbeElf(arch, status);
  const path = join(dir, name);
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o755);
    fchmodSync(fd, 0o755); // the umask may have taken bits away
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    throw new CrossrootError('IO', `write probe '${path}': ${code}`, {
      hint: code === 'EEXIST' ? 'write probes into a fresh directory (a file or symlink is already there)' : undefined,
      cause: error,
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return path;
}

export interface ProbePlanInput {
  /** The probe on the host, for the direct mode. */
  readonly probePath: string;
  /** The directory that becomes `/` in the empty-root mode. */
  readonly rootDir: string;
  /** The probe's path inside that root. */
  readonly probeInRoot: string;
  /** Whether the caller is root (euid 0): otherwise a user namespace maps it to root. */
  readonly asRoot: boolean;
}

export interface ProbePlan {
  readonly direct: readonly string[];
  readonly emptyRoot: readonly string[];
}

/** The argv of each mode (pure: no file system, no process). */
export function probePlan(input: ProbePlanInput): ProbePlan {
  const userns = input.asRoot ? [] : ['--user', '--map-root-user'];
  return {
    direct: [input.probePath],
    emptyRoot: ['unshare', ...userns, '--mount', '--propagation', 'private', '--', 'chroot', input.rootDir, input.probeInRoot],
  };
}

/** strerror(3) texts (glibc, C locale) of the errors an exec or a chroot can end with. */
const STRERROR_NAMES: Readonly<Record<string, string>> = {
  'No such file or directory': 'ENOENT',
  'Exec format error': 'ENOEXEC',
  'Permission denied': 'EACCES',
  'Operation not permitted': 'EPERM',
  'Too many levels of symbolic links': 'ELOOP',
  'Not a directory': 'ENOTDIR',
  'Is a directory': 'EISDIR',
  'Text file busy': 'ETXTBSY',
  'Argument list too long': 'E2BIG',
  'Cannot allocate memory': 'ENOMEM',
  'File name too long': 'ENAMETOOLONG',
  'Invalid argument': 'EINVAL',
  'Input/output error': 'EIO',
  'Accessing a corrupted shared library': 'ELIBBAD',
  'Bad address': 'EFAULT',
  'No space left on device': 'ENOSPC',
  'Read-only file system': 'EROFS',
};

/**
 * The errno in a `chroot:`/`unshare:` error line ("chroot: failed to run
 * command '/probe': No such file or directory"), or undefined.
 */
export function errnoFromToolMessage(stderr: string): string | undefined {
  for (const line of stderr.split('\n').reverse()) {
    const match = /^(?:chroot|unshare): .*: ([^:]+)$/.exec(line.trim());
    const name = match?.[1] === undefined ? undefined : STRERROR_NAMES[match[1]];
    if (name !== undefined) return name;
  }
  return undefined;
}

export interface ProbeResult {
  readonly mode: ProbeMode;
  readonly arch: string;
  readonly argv: readonly string[];
  /** The probe exited with exactly the status it was built with. */
  readonly ok: boolean;
  readonly expectedStatus: number;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Why the exec failed, when it did. */
  readonly errno?: string;
  /** errno was deduced (ENOEXEC from execvp's /bin/sh fallback), not reported by a system call. */
  readonly errnoInferred?: boolean;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface RunProbeOptions {
  /** Exit status the probe is built with (0..255); DEFAULT_PROBE_STATUS if not given. */
  readonly status?: number;
  /** Defaults to the real euid. */
  readonly asRoot?: boolean;
  readonly timeoutMs?: number;
  /** Parent of the fresh directory made for the probe; os.tmpdir() if not given. */
  readonly tempParent?: string;
}

/** Builds the probe in a fresh directory (the empty root), runs one mode, removes the directory. */
export async function runProbe(arch: string, mode: ProbeMode, options: RunProbeOptions = {}): Promise<ProbeResult> {
  probeSpec(arch); // an unknown architecture fails before anything is created
  const status = options.status ?? DEFAULT_PROBE_STATUS;
  const dir = mkdtempSync(join(options.tempParent ?? tmpdir(), 'crossroot-probe-'));
  try {
    const probePath = writeProbe(dir, arch, status);
    const plan = probePlan({
      probePath,
      rootDir: dir,
      probeInRoot: `/${PROBE_FILE_NAME}`,
      asRoot: options.asRoot ?? process.geteuid?.() === 0,
    });
    const argv = mode === 'direct' ? plan.direct : plan.emptyRoot;
    return await runProbePlan(arch, mode, argv, probePath, probeExpectation(status), options.timeoutMs ?? 30_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one planned probe (argv from probePlan) and tells why it failed, when it did. */
export async function runProbePlan(
  arch: string, mode: ProbeMode, argv: readonly string[], probePath: string, expectedStatus: number, timeoutMs: number,
): Promise<ProbeResult> {
  const base = { mode, arch, argv, expectedStatus };
  let run;
  try {
    // C locale: chroot's and unshare's messages are parsed for the errno.
    run = await runProcess(argv, { timeoutMs, env: { ...process.env, LC_ALL: 'C' } });
  } catch (error) {
    // Only the direct mode's spawn errors are the probe's exec errors; a missing unshare or chroot is not.
    const cause = isCrossrootError(error) && error.code === 'SPAWN' ? error.cause as NodeJS.ErrnoException | undefined : undefined;
    if (mode !== 'direct' || cause?.code === undefined) throw error;
    return { ...base, ok: false, exitCode: null, signal: null, errno: cause.code, stderr: '', timedOut: false };
  }
  const ok = !run.timedOut && run.signal === null && run.exitCode === expectedStatus;
  const result = {
    ...base, ok, exitCode: run.exitCode, signal: run.signal, stderr: run.stderr, timedOut: run.timedOut,
  };
  if (ok) return result;
  if (mode === 'empty-root') {
    const errno = errnoFromToolMessage(run.stderr);
    return errno === undefined ? result : { ...result, errno };
  }
  // execvp ran `/bin/sh probe` after ENOEXEC: the shell names the file in its complaint.
  if ((run.exitCode === 126 || run.exitCode === 127 || run.exitCode === 2) && run.stderr.includes(probePath)) {
    return { ...result, errno: 'ENOEXEC', errnoInferred: true };
  }
  return result;
}
