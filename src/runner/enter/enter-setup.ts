// Carries out an EnterPlan's steps from OUTSIDE the run's namespaces, while
// stage 2 (node, PID 1 inside) is still starting: the two overlap, which is
// most of what keeps `crossroot run` fast.
//
//   - mounts: `nsenter --target PID --user --mount --pid -- mount --all --fstab F`
//     (inside the PID namespace too: a new procfs belongs to the mounter's),
//     one mount(8) for each run of consecutive mount steps (libmount mounts an
//     fstab's lines in order);
//   - files, directories, links, the copied emulator: created through
//     /proc/PID/root, which shows the run's mount namespace (its fresh /dev and
//     /run included); no component below the root may be a symlink at that
//     moment (lstat each), so a root changed since planning cannot redirect a
//     write to the host;
//   - the binfmt_misc registration: written to the private instance's
//     `register` through /proc/PID/root as well. The kernel opens an F entry's
//     interpreter with the writer's credentials and root, i.e. the host's path.
import { closeSync, constants, copyFileSync, chmodSync, lstatSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Stage2Step } from '../../core/enter/enter-plan.ts';
import { fstabOf } from '../../core/enter/enter-plan.ts';
import { CrossrootError, isCrossrootError } from '../../core/errors.ts';
import { registerEntry } from '../../kernel/binfmt-write.ts';
import { runChecked } from '../process/process.ts';

/** Something created in the root's own filesystem for this run only (stage 2 removes it at the end). */
export interface TemporaryEntry {
  readonly path: string;
  /** 'mount': only unmounted (an acceleration shadow or scratch), never removed. */
  readonly kind: 'dir' | 'file' | 'mount';
  /** A mount point: unmount before removing. */
  mounted: boolean;
}

type MountStep = Extract<Stage2Step, { op: 'mount' }>;

const TOOL_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

/** Refuses when a component of `path` below `rootDir`, as the run sees it, is a symlink. */
function assertNoSymlinks(view: string, rootDir: string, path: string): void {
  const parts = path.slice(rootDir.length).split('/').filter((part) => part !== '');
  let current = rootDir;
  for (const part of parts.slice(0, -1)) {
    current += `/${part}`;
    if (lstatSync(`${view}${current}`).isSymbolicLink()) {
      throw new CrossrootError('ENTER_FAILED', `create '${path}': '${current}' became a symbolic link since the run was planned`, {
        hint: 'something is changing the root while crossroot enters it; run again when it is quiet',
      });
    }
  }
}

async function mountBatch(pid: number, mounts: readonly MountStep[]): Promise<void> {
  // The fstab reaches mount(8) as its stdin, a file already unlinked: nothing is left behind in
  // /tmp even when crossroot is killed right now (libmount reads regular files, not pipes).
  const dir = mkdtempSync(join(tmpdir(), 'crossroot-fstab-'));
  const path = join(dir, 'fstab');
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  try {
    writeSync(fd, fstabOf(mounts), 0);
    await runChecked(['nsenter', '--target', String(pid), '--user', '--mount', '--pid', '--', 'mount', '--all', '--fstab', '/dev/stdin'], {
      code: 'ENTER_FAILED',
      program: 'mount',
      action: "mount the run's filesystems",
      hint: 'run crossroot doctor; inside containers /proc or /sys may be masked, which makes the kernel refuse new mounts',
    }, { env: TOOL_ENV, stdinFd: fd });
  } finally {
    closeSync(fd);
  }
}

function create(view: string, rootDir: string, step: Exclude<Stage2Step, MountStep | { op: 'register' }>, temporary: TemporaryEntry[], scratchDir: string | null): void {
  // Entries in the run's own scratch tmpfs (acceleration shadows being built) are checked from there.
  assertNoSymlinks(view, scratchDir !== null && step.path.startsWith(`${scratchDir}/`) ? scratchDir : rootDir, step.path);
  const at = `${view}${step.path}`;
  switch (step.op) {
    case 'mkdir':
      mkdirSync(at, { mode: 0o755 });
      if (step.temporary) temporary.push({ path: step.path, kind: 'dir', mounted: false });
      return;
    case 'file':
      closeSync(openSync(at, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644));
      if (step.temporary) temporary.push({ path: step.path, kind: 'file', mounted: false });
      return;
    case 'symlink':
      symlinkSync(step.target, at);
      return;
    case 'write': {
      const fd = openSync(at, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, step.mode);
      try {
        writeSync(fd, step.text);
      } finally {
        closeSync(fd);
      }
      return;
    }
    case 'copy':
      // COPYFILE_EXCL creates with O_EXCL: an existing entry, even a dangling symlink, fails.
      copyFileSync(step.from, at, constants.COPYFILE_EXCL);
      chmodSync(at, 0o755);
      if (step.temporary) temporary.push({ path: step.path, kind: 'file', mounted: false });
      return;
  }
}

/**
 * Runs the steps against the namespaces of process `pid` (stage 2). Returns
 * the temporary entries created; on failure they are in `temporary` too, for
 * the caller to hand to stage 2's cleanup.
 */
export async function setUpRun(pid: number, rootDir: string, steps: readonly Stage2Step[], temporary: TemporaryEntry[], scratchDir: string | null = null): Promise<void> {
  const view = `/proc/${pid}/root`;
  /** Mount points of optional mounts that could not be created: those mounts are skipped. */
  const skipped: string[] = [];
  const isSkipped = (target: string): boolean => skipped.some((path) => target === path || target.startsWith(`${path}/`));
  for (let index = 0; index < steps.length;) {
    const step = steps[index];
    if (step === undefined) break;
    if (step.op === 'mount') {
      const batch: MountStep[] = [];
      for (let next = steps[index]; next?.op === 'mount'; next = steps[++index]) {
        if (isSkipped(next.target)) continue;
        batch.push(next);
        const placeholder = temporary.find((entry) => entry.path === next?.target);
        if (placeholder !== undefined) placeholder.mounted = true;
      }
      if (batch.length > 0) await mountBatch(pid, batch);
      continue;
    }
    index++;
    try {
      if (step.op === 'register') registerEntry(`${view}${step.dir}`, step.text);
      else if (!isSkipped(step.path)) create(view, rootDir, step, temporary, scratchDir);
    } catch (error) {
      if ((step.op === 'file' || step.op === 'mkdir') && step.optional === true) {
        skipped.push(step.path);
        continue;
      }
      if (isCrossrootError(error)) throw error;
      const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
      throw new CrossrootError('ENTER_FAILED', `prepare the root: ${step.op} '${step.op === 'register' ? step.dir : step.path}': ${code}`, {
        hint: code === 'EACCES' || code === 'EPERM' ? 'the root belongs to another user: run as its owner (or as root)' : undefined,
      });
    }
  }
}
