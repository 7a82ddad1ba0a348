// Runs inside `unshare --user --map-root-user --mount`: see private-binfmt.ts.
import { closeSync, openSync, opendirSync, readFileSync, writeSync } from 'node:fs';
import { runProcess } from '../../src/runner/process/process.ts';
import { readInstance } from '../../src/kernel/binfmt-fs.ts';
import { runCli } from './cli.ts';
import { parsePrintedArgs } from './probes.ts';
import type { OpResult, PrivateOp } from './private-binfmt.ts';

interface Job { dir: string; execProbe: string; ops: PrivateOp[] }

const job = JSON.parse(readFileSync(0, 'utf8')) as Job;

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'EOTHER';
}

/** One write(2) of the whole record, as binfmt_misc requires. */
function writeOnce(path: string, data: string): string | null {
  let fd: number | undefined;
  try {
    fd = openSync(Buffer.from(path, 'latin1'), 'w');
    const bytes = Buffer.from(data, 'latin1');
    const written = writeSync(fd, bytes, 0, bytes.length);
    return written === bytes.length ? null : 'ESHORTWRITE';
  } catch (error) {
    return errnoOf(error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** readdirSync sorts; the kernel's own order (newest entry first) needs opendir. */
function listInKernelOrder(dir: string): string[] {
  const handle = opendirSync(dir, { encoding: 'buffer' as BufferEncoding });
  const names: string[] = [];
  try {
    for (let entry = handle.readSync(); entry !== null; entry = handle.readSync()) {
      names.push(Buffer.from(entry.name as unknown as Buffer).toString('latin1'));
    }
  } finally {
    handle.closeSync();
  }
  return names;
}

const mount = await runProcess(['mount', '-t', 'binfmt_misc', 'none', job.dir]);
if (mount.exitCode !== 0) {
  process.stderr.write(`mount binfmt_misc at '${job.dir}': ${mount.stderr}`);
  process.exit(3);
}

const results: OpResult[] = [];
for (const op of job.ops) {
  switch (op.op) {
    case 'register':
      results.push({ op: op.op, errno: writeOnce(`${job.dir}/register`, op.data) });
      break;
    case 'write':
      results.push({ op: op.op, errno: writeOnce(`${job.dir}/${op.name}`, op.data) });
      break;
    case 'readInstance': {
      const instance = readInstance(job.dir);
      results.push({ op: op.op, errno: null, names: instance.entries.map((entry) => entry.name), order: instance.order });
      break;
    }
    case 'read':
      try {
        results.push({ op: op.op, errno: null, text: readFileSync(Buffer.from(`${job.dir}/${op.name}`, 'latin1'), 'latin1') });
      } catch (error) {
        results.push({ op: op.op, errno: errnoOf(error) });
      }
      break;
    case 'list':
      results.push({ op: op.op, errno: null, names: listInKernelOrder(job.dir) });
      break;
    case 'exec': {
      const argv = [job.execProbe];
      if (op.chroot !== undefined) argv.push('--chroot', op.chroot);
      if (op.cwd !== undefined) argv.push('--cwd', op.cwd);
      argv.push(op.path, ...op.argv);
      const run = await runProcess(argv, { timeoutMs: 30_000 });
      const failed = /^exec-probe-errno (\S+)/.exec(run.stdout);
      results.push({
        op: op.op,
        errno: failed?.[1] ?? null,
        exitCode: run.exitCode,
        signal: run.signal,
        stdout: run.stdout,
        stderr: run.stderr,
        printed: parsePrintedArgs(run.stdout),
      });
      break;
    }
    case 'call': {
      const module = (await import(new URL(`../../${op.module}`, import.meta.url).href)) as Record<string, unknown>;
      const fn = module[op.name];
      if (typeof fn !== 'function') throw new Error(`call: '${op.module}' has no function '${op.name}'`);
      const args = JSON.parse(JSON.stringify(op.args).replaceAll('{binfmt-dir}', job.dir)) as unknown[];
      results.push({ op: op.op, errno: null, value: await (fn as (...values: unknown[]) => unknown)(...args) });
      break;
    }
    case 'cli': {
      // '{binfmt-dir}' stands for where the instance is mounted (known only here).
      const started = performance.now();
      const run = await runCli(op.argv.map((arg) => arg.replaceAll('{binfmt-dir}', job.dir)));
      results.push({ op: op.op, errno: null, exitCode: run.code, stdout: run.stdout, stderr: run.stderr, ms: performance.now() - started });
      break;
    }
  }
}
process.stdout.write(JSON.stringify(results));
