// Inside `unshare --user --mount --pid --fork` (accel-roots.ts): waits for the
// parent to write a full uid/gid map, mounts proc and a private binfmt_misc
// instance with qemu-aarch64 (F), then runs mmdebstrap for an arm64 root.
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { runProcess } from '../../src/runner/process.ts';
import { AARCH64_REGISTER } from './accel-harness.ts';

const [pidFile, suite, dir, include] = process.argv.slice(2);
writeFileSync(pidFile ?? '', readlinkSync('/proc/self')); // the host's procfs: our pid as the parent sees it
while (!readFileSync('/proc/self/uid_map', 'utf8').includes('65536') || !readFileSync('/proc/self/gid_map', 'utf8').includes('65536')) await sleep(50);
for (const argv of [['mount', '-t', 'proc', 'proc', '/proc'], ['mount', '-t', 'binfmt_misc', 'none', '/proc/sys/fs/binfmt_misc']]) {
  const run = await runProcess(argv);
  if (run.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${run.stderr}`);
}
writeFileSync('/proc/sys/fs/binfmt_misc/register', AARCH64_REGISTER, 'latin1');
const run = await runProcess(['mmdebstrap', '--skip=check/qemu', '--mode=root', '--variant=apt', '--arch=arm64', `--include=${include ?? ''}`, suite ?? '', dir ?? '']);
process.stderr.write(run.stderr.split('\n').filter((line) => line.startsWith('E:')).join('\n'));
process.exit(run.exitCode ?? 1);
