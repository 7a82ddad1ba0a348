// `run --profile`: the kernel's process accounting for the run's PID
// namespace (core/enter/process-accounting.ts says what it records). The
// native helper switches it on from outside the run (`crossroot-enter
// --account`: acct(2) needs CAP_SYS_PACCT in the host's user namespace, so
// only as root). The record file is opened for reading first and unlinked at
// once: the kernel and crossroot hold it open, and nothing stays on disk even
// when crossroot is killed.
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../process/process.ts';

/** Turns accounting on for the PID namespace of host process `initPid`; the records' fd, or null when it cannot be had. */
export async function startAccounting(helperFile: string, initPid: number): Promise<number | null> {
  if (process.geteuid?.() !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), 'crossroot-profile-'));
  try {
    const file = join(dir, 'records');
    writeFileSync(file, '', { mode: 0o600 });
    const fd = openSync(file, 'r');
    const result = await runProcess([helperFile, '--account', String(initPid), file]).catch(() => null);
    if (result?.exitCode === 0) return fd;
    closeSync(fd);
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
