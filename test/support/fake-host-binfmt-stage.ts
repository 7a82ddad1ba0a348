// Child of fake-host-binfmt.ts, in a user + mount namespace of its own whose
// uid/gid maps the parent writes (the identity map, so that crossroot inside
// can map its own namespace in turn). Mounts a PRIVATE binfmt_misc instance
// over /proc/sys/fs/binfmt_misc (only this namespace sees it), registers the
// entries given, then runs the crossroot CLI with inherited stdio and exits
// with its status. Input: argv[2] = JSON { registers: string[], cli: string[], tmpfs?: string[] }
// (tmpfs: directories to mount a tmpfs on first, e.g. to leave a "leaked" mount under a root).
import { cliCommand } from './cli.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { runProcess } from '../../src/runner/process/process.ts';

const input = JSON.parse(process.argv[2] ?? '{}') as { registers: string[]; cli: string[]; tmpfs?: string[] };
while (readFileSync('/proc/self/uid_map', 'utf8').trim() === '') await sleep(1);
const mount = await runProcess(['mount', '-t', 'binfmt_misc', 'binfmt_misc', '/proc/sys/fs/binfmt_misc']);
if (mount.exitCode !== 0) {
  process.stderr.write(`fake host binfmt: mount: ${mount.stderr}`);
  process.exit(90);
}
for (const dir of input.tmpfs ?? []) await runProcess(['mount', '-t', 'tmpfs', 'leaked', dir]);
for (const text of input.registers) writeFileSync('/proc/sys/fs/binfmt_misc/register', Buffer.from(text, 'latin1'));
const run = await runProcess(cliCommand(input.cli), { stdio: 'inherit' });
process.exit(run.exitCode ?? 128 + 9);
