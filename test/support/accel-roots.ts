// Cached arm64 roots with a toolchain for acceleration tests, in
// /var/cache/crossroot-test/<suite>-arm64-toolchain, until the create helper's
// ensureTestRoot(arch, { toolchain }) is available. Created with mmdebstrap
// in a user namespace with a full identity map (written by this parent, as
// root) and a private binfmt_misc instance: the host's registrations are
// never used or changed. A marker written last makes creation idempotent.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { runProcess } from '../../src/runner/process.ts';

export const ACCEL_ROOTS_CACHE = '/var/cache/crossroot-test';
const MARKER = '.complete';

export async function ensureAccelRoot(suite: 'bookworm' | 'trixie'): Promise<string> {
  const dir = join(ACCEL_ROOTS_CACHE, `${suite}-arm64-toolchain`);
  if (existsSync(`${dir}${MARKER}`) || existsSync(join(dir, 'usr/bin/gcc'))) return dir;
  const partial = `${dir}.tmp`;
  rmSync(partial, { recursive: true, force: true });
  const work = mkdtempSync(join(tmpdir(), 'crossroot-accel-root-'));
  const pidFile = join(work, 'pid');
  try {
    const stage = fileURLToPath(new URL('./accel-roots-stage.ts', import.meta.url));
    const creating = runProcess(['unshare', '--user', '--mount', '--pid', '--fork', '--propagation', 'private', '--',
      process.execPath, '--import', 'tsx', stage, pidFile, suite, partial, 'gcc,g++,make,libc6-dev'], { timeoutMs: 30 * 60 * 1000 });
    let pid = '';
    for (let i = 0; i < 600 && pid === ''; i++) {
      await sleep(50);
      pid = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : '';
    }
    if (pid === '') throw new Error('accel root stage did not start');
    writeFileSync(`/proc/${pid}/uid_map`, '0 0 65536');
    writeFileSync(`/proc/${pid}/gid_map`, '0 0 65536');
    const run = await creating;
    if (run.exitCode !== 0) throw new Error(`create ${suite} arm64 root: ${run.stderr.trim()}`);
    renameSync(partial, dir);
    writeFileSync(`${dir}${MARKER}`, 'ok\n'); // beside the root, never in it
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
