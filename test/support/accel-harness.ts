// A minimal run harness for acceleration tests until `crossroot run` takes
// extra mounts: executes an acceleration plan and a command in a foreign root
// inside a private user+mount+PID namespace (stage: accel-harness-stage.ts).
// The host's binfmt_misc registrations are never used or changed: the stage
// registers the root's emulator in a private instance.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../../src/runner/process.ts';
import { accelerationCommands } from '../../src/core/accelerate-plan.ts';
import type { AccelerateMount } from '../../src/core/accelerate-plan.ts';

/** qemu-aarch64 with F: the interpreter is opened at registration, so it works in any chroot. */
export const AARCH64_REGISTER = ':qemu-aarch64:M::\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:'
  + '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/bin/qemu-aarch64-static:F';

export interface HarnessRun {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time of the command in the root alone. */
  readonly seconds: number;
}

export interface HarnessOptions {
  readonly mounts?: readonly AccelerateMount[];
  readonly binds?: readonly { readonly source: string; readonly target: string }[];
  readonly timeoutMs?: number;
}

export async function runInRoot(root: string, argv: readonly string[], options: HarnessOptions = {}): Promise<HarnessRun> {
  const dir = mkdtempSync(join(tmpdir(), 'crossroot-accel-job-'));
  try {
    const resultFile = join(dir, 'result.json');
    const job = {
      root, register: AARCH64_REGISTER, argv, resultFile, binds: options.binds ?? [],
      commands: accelerationCommands(options.mounts ?? [], root, '{scratch}'),
    };
    writeFileSync(join(dir, 'job.json'), JSON.stringify(job));
    const stage = fileURLToPath(new URL('./accel-harness-stage.ts', import.meta.url));
    const run = await runProcess(['unshare', '--user', '--map-root-user', '--mount', '--pid', '--fork', '--propagation', 'private', '--',
      process.execPath, '--import', 'tsx', stage, join(dir, 'job.json')], { timeoutMs: options.timeoutMs ?? 20 * 60 * 1000 });
    if (run.exitCode !== 0) throw new Error(`accel harness failed (${String(run.exitCode)}): ${run.stderr.trim()}`);
    return JSON.parse(readFileSync(resultFile, 'utf8')) as HarnessRun;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
