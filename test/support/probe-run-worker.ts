// Runs inside `unshare --user --map-root-user --mount --propagation private`
// (started by test/probe-run.test.ts): mounts a private binfmt_misc instance
// at `dir`, then carries out the steps in order, calling crossroot's own
// runProbe for the `probe` steps. Prints the results as JSON on stdout.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { runProcess } from '../../src/runner/process.ts';
import { runProbe, type ProbeMode, type ProbeResult } from '../../src/runner/probe-run.ts';

export type WorkerStep =
  | { readonly step: 'register'; readonly data: string }
  | { readonly step: 'remove'; readonly name: string }
  | { readonly step: 'probe'; readonly arch: string; readonly mode: ProbeMode; readonly asRoot: boolean; readonly status: number };

export type WorkerResult =
  | { readonly step: 'register' | 'remove'; readonly errno: string | null }
  | { readonly step: 'probe'; readonly result: ProbeResult };

interface Job { readonly dir: string; readonly tempParent: string; readonly steps: readonly WorkerStep[] }

const job = JSON.parse(readFileSync(0, 'utf8')) as Job;

/** One write(2) of the whole record, as binfmt_misc requires. */
function writeOnce(path: string, data: string): string | null {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w');
    const bytes = Buffer.from(data, 'latin1');
    return writeSync(fd, bytes, 0, bytes.length) === bytes.length ? null : 'ESHORTWRITE';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'EOTHER';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const mount = await runProcess(['mount', '-t', 'binfmt_misc', 'none', job.dir]);
if (mount.exitCode !== 0) {
  process.stderr.write(`mount binfmt_misc at '${job.dir}': ${mount.stderr}`);
  process.exit(3);
}

const results: WorkerResult[] = [];
for (const step of job.steps) {
  switch (step.step) {
    case 'register':
      results.push({ step: step.step, errno: writeOnce(`${job.dir}/register`, step.data) });
      break;
    case 'remove':
      results.push({ step: step.step, errno: writeOnce(`${job.dir}/${step.name}`, '-1') });
      break;
    case 'probe':
      results.push({
        step: step.step,
        result: await runProbe(step.arch, step.mode, { asRoot: step.asRoot, status: step.status, tempParent: job.tempParent }),
      });
      break;
  }
}
process.stdout.write(JSON.stringify(results));
