import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessError, checkResult, describeEnd, exitStatusOf, nodeScriptArgv, runChecked, runProcess, shortStderr } from './process.ts';

const ended = (exitCode: number | null, signal: NodeJS.Signals | null, stderr = '') =>
  ({ argv: ['tool', '-x'], exitCode, signal, stdout: '', stderr, timedOut: false });

test('exitStatusOf: the exit code, or 128+N for signal N', () => {
  assert.equal(exitStatusOf(ended(3, null)), 3);
  assert.equal(exitStatusOf(ended(null, 'SIGTERM')), 128 + 15);
  assert.equal(exitStatusOf(ended(null, 'SIGKILL')), 128 + 9);
});

test('describeEnd names the status, the signal or the timeout', () => {
  assert.equal(describeEnd(ended(2, null)), "exited with status '2'");
  assert.equal(describeEnd(ended(null, 'SIGKILL')), "was killed by 'SIGKILL'");
  assert.equal(describeEnd({ ...ended(null, 'SIGKILL'), timedOut: true }), 'timed out');
});

test("shortStderr keeps apt's last E: line, else the last three lines without dmesg(1) advice", () => {
  assert.equal(shortStderr('I: one\nE: first\nW: x\nE: second\nI: done\n'), 'E: second');
  assert.equal(shortStderr('a\n\nb\nc\nd\n       dmesg(1) may have more information after failed mount system call.\n'), 'b; c; d');
  assert.equal(shortStderr(''), '');
  assert.equal(shortStderr('x'.repeat(900)).length, 500);
});

test('ProcessError carries the command, status and short stderr under the caller code', () => {
  const error = new ProcessError(ended(1, null, 'boom\n'), { code: 'ENTER_FAILED', action: 'mount things', hint: 'fix it' });
  assert.equal(error.code, 'ENTER_FAILED');
  assert.equal(error.message, "mount things: 'tool' exited with status '1': boom");
  assert.deepEqual([error.command, error.exitCode, error.signal, error.stderr, error.hint], [['tool', '-x'], 1, null, 'boom', 'fix it']);
  const wrapped = new ProcessError(ended(null, 'SIGKILL'), { code: 'TOOLS_ROOT', action: 'create', program: 'mmdebstrap' });
  assert.equal(wrapped.message, "create: 'mmdebstrap' was killed by 'SIGKILL'");
});

test('checkResult passes status 0 and throws otherwise', () => {
  assert.equal(checkResult(ended(0, null), { code: 'IO', action: 'x' }).exitCode, 0);
  assert.throws(() => checkResult(ended(4, null), { code: 'IO', action: 'x' }), { code: 'IO', name: 'ProcessError' });
});

test('runChecked runs a real process and rejects on failure', async () => {
  assert.equal((await runChecked(['true'], { code: 'IO', action: 'run true' })).exitCode, 0);
  await assert.rejects(runChecked(['sh', '-c', 'echo nope >&2; exit 7'], { code: 'IO', action: 'run sh' }), (error: unknown) =>
    error instanceof ProcessError && error.exitCode === 7 && error.stderr === 'nope');
});

test('nodeScriptArgv: one policy, tsx from source and nothing of the parent execArgv', async () => {
  const argv = nodeScriptArgv(import.meta.url, 'json-lines');
  assert.equal(argv[0], process.execPath);
  assert.deepEqual(argv.slice(1, 2), ['--import']);
  assert.match(argv[3] ?? '', /\/process\/json-lines\.ts$/);
  assert.deepEqual(nodeScriptArgv('file:///opt/x/dist/a.js', 'b'), [process.execPath, '/opt/x/dist/b.js']);
  const run = await runProcess(argv);
  assert.equal(run.exitCode, 0, run.stderr);
});
