// Runs inside `unshare --user --map-root-user --mount` (see binfmt-install.test.ts): mounts a
// private binfmt_misc instance, installs one architecture with the CLI, then changes its flags with
// a second install WHILE a loop keeps executing a foreign program, and reports every failure.
// Input (stdin JSON): { dir, arch, program, expectedStatus, firstFlags, secondFlags }.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { runProcess } from '../../src/runner/process/process.ts';
import { runCli } from './cli.ts';

interface Job { dir: string; arch: string; program: string; expectedStatus: number; firstFlags: string; secondFlags: string }
const job = JSON.parse(readFileSync(0, 'utf8')) as Job;

const mount = await runProcess(['mount', '-t', 'binfmt_misc', 'none', job.dir]);
if (mount.exitCode !== 0) {
  process.stderr.write(`mount binfmt_misc: ${mount.stderr}`);
  process.exit(3);
}
const first = await runCli(['binfmt', 'install', job.arch, '--flags', job.firstFlags, '--binfmt-dir', job.dir, '--json']);

// The loop runs in a separate thread of control: a child node process spinning spawnSync.
const loopSource = `
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
let runs = 0, failures = [];
const stop = ${JSON.stringify(`${job.dir}.stop`)};
while (!fs.existsSync(stop)) {
  const r = spawnSync(${JSON.stringify(job.program)}, []);
  runs++;
  if (r.status !== ${job.expectedStatus}) failures.push({ status: r.status, signal: r.signal, error: r.error ? r.error.code : null });
}
process.stdout.write(JSON.stringify({ runs, failures: failures.slice(0, 10), failureCount: failures.length }));
`;
const loop = runProcess([process.execPath, '-e', loopSource], { timeoutMs: 60_000 });
// Let the loop get going before the replace, and keep it going after.
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
await sleep(300);
const second = await runCli(['binfmt', 'install', job.arch, '--flags', job.secondFlags, '--binfmt-dir', job.dir, '--json']);
await sleep(300);
spawnSync('touch', [`${job.dir}.stop`]);
const loopRun = await loop;
spawnSync('rm', ['-f', `${job.dir}.stop`]);
const entry = readFileSync(`${job.dir}/crossroot-${job.arch}`, 'latin1');
process.stdout.write(JSON.stringify({ first, second, loop: JSON.parse(loopRun.stdout || '{}') as unknown, loopStderr: loopRun.stderr, entry }));
