// Stage 2 of the acceleration harness (see accel-harness.ts), run inside
// `unshare --user --map-root-user --mount --pid --fork --propagation private`:
// a private binfmt_misc instance with the root's emulator (F flag), the
// acceleration steps (accelerationCommands), proc/dev/binds, then chroot.
// Everything it mounts dies with the namespace.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runProcess } from '../../src/runner/process.ts';

interface Job {
  readonly root: string;
  readonly register: string;
  readonly commands: readonly (readonly string[])[];
  readonly binds: readonly { readonly source: string; readonly target: string }[];
  readonly argv: readonly string[];
  readonly resultFile: string;
}

const job = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as Job;

async function must(argv: readonly string[]): Promise<void> {
  const run = await runProcess(argv);
  if (run.exitCode !== 0) throw new Error(`${argv.join(' ')}: exit ${String(run.exitCode)}: ${run.stderr.trim()}`);
}

const scratch = join(dirname(process.argv[2] ?? ''), 'scratch');
mkdirSync(scratch);
await must(['mount', '-t', 'tmpfs', 'crossroot-scratch', scratch]);
mkdirSync(join(scratch, 'binfmt'));
await must(['mount', '-t', 'binfmt_misc', 'none', join(scratch, 'binfmt')]);
writeFileSync(join(scratch, 'binfmt', 'register'), job.register, 'latin1');
for (const command of job.commands) await must(command.map((arg) => arg.replaceAll('{scratch}', scratch)));
await must(['mount', '-t', 'proc', 'proc', `${job.root}/proc`]);
await must(['mount', '--rbind', '/dev', `${job.root}/dev`]);
for (const bind of job.binds) await must(['mount', '--bind', bind.source, `${job.root}${bind.target}`]);
const started = process.hrtime.bigint();
const run = await runProcess(['chroot', job.root, ...job.argv], { env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: '/root', LANG: 'C' } });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
writeFileSync(job.resultFile, JSON.stringify({ exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr, seconds }));
