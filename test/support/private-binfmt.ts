// A private binfmt_misc instance for kernel tests.
//
// `runPrivate(ops)` starts a worker in a new user namespace (uid 0 mapped to
// the caller) with its own mount namespace, mounts a fresh binfmt_misc
// instance there (Linux >= 6.7: one instance per user namespace) and carries
// out the operations in order. The host's registrations are never touched and
// nothing outlives the worker: the instance dies with the namespace.
//
//   const [reg, text, run] = await runPrivate([
//     { op: 'register', data: ':t:M::\\x7fQQ::/bin/true:' },
//     { op: 'read', name: 't' },
//     { op: 'exec', path: '/tmp/x/file', argv: ['file', 'a'] },
//   ]);
//
// Data written to binfmt_misc files is latin1 (one char = one byte), each
// `register`/`write` op is ONE write(2) call, as the kernel requires.
// `exec` goes through the static exec-probe (raw execve, no libc fallback):
// the result has `errno` when execve failed, or the exit status and output of
// whatever ran, with `printed` decoded when that was argv-printer.
// `cli` runs crossroot's main() inside the namespace, where the instance is
// visible at `dir`; the text '{binfmt-dir}' in its argv is replaced by `dir`;
// its result's `ms` is how long the command took.
// `list` gives the kernel's readdir order (newest entry first on 6.x);
// `readInstance` runs crossroot's own reader on the instance.
// `call` imports `module` (a path from the project's root, e.g.
// 'src/runner/binfmt/probe-run.ts') and awaits its export `name` with `args`
// (JSON values; the text '{binfmt-dir}' in a string argument is replaced too).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../../src/runner/process/process.ts';
import { ensureProbes, type PrintedArgs } from './probes.ts';

export type PrivateOp =
  | { readonly op: 'register'; readonly data: string }
  | { readonly op: 'read'; readonly name: string }
  | { readonly op: 'list' }
  | { readonly op: 'readInstance' }
  | { readonly op: 'write'; readonly name: string; readonly data: string }
  | { readonly op: 'exec'; readonly path: string; readonly argv: readonly string[]; readonly chroot?: string; readonly cwd?: string }
  | { readonly op: 'cli'; readonly argv: readonly string[] }
  | { readonly op: 'call'; readonly module: string; readonly name: string; readonly args: readonly unknown[] };

export interface OpResult {
  readonly op: PrivateOp['op'];
  /** register/write/read/list: errno name when the call failed, else null. exec: execve's errno or null. */
  readonly errno: string | null;
  /** read: the entry file's text. */
  readonly text?: string;
  /** list: directory entries in readdir order (register and status included); readInstance: entry names in matching order. */
  readonly names?: string[];
  /** readInstance: how the order was recovered. */
  readonly order?: string;
  /** exec/cli */
  readonly exitCode?: number | null;
  readonly signal?: string | null;
  readonly stdout?: string;
  readonly stderr?: string;
  /** cli: wall-clock milliseconds of the command (in-process, inside the namespace). */
  readonly ms?: number;
  /** call: the JSON-able value the function returned (awaited). */
  readonly value?: unknown;
  /** exec: decoded argv-printer output when the final program was argv-printer. */
  readonly printed?: PrintedArgs | null;
}

export interface PrivateRun {
  readonly results: OpResult[];
  /** Where the instance was mounted inside the namespace (gone afterwards). */
  readonly dir: string;
}

const here = dirname(fileURLToPath(import.meta.url));

export async function runPrivate(ops: readonly PrivateOp[]): Promise<OpResult[]> {
  return (await runPrivateDetailed(ops)).results;
}

export async function runPrivateDetailed(ops: readonly PrivateOp[]): Promise<PrivateRun> {
  const probes = await ensureProbes();
  const dir = mkdtempSync(join(tmpdir(), 'crossroot-test-binfmt-'));
  try {
    const result = await runProcess([
      'unshare', '--user', '--map-root-user', '--mount', '--propagation', 'private', '--',
      process.execPath, '--import', 'tsx', join(here, 'private-binfmt-worker.ts'),
    ], { input: JSON.stringify({ dir, execProbe: probes.execProbe, ops }), timeoutMs: 120_000 });
    if (result.exitCode !== 0) {
      throw new Error(`private binfmt worker failed (exit ${result.exitCode}, signal ${result.signal}): ${result.stderr}`);
    }
    return { results: JSON.parse(result.stdout) as OpResult[], dir };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
