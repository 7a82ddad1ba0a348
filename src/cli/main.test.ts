import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliCommand, errorCodeOf, runCli, runCliJson } from '../../test/support/cli.ts';
import { envAssignments } from './commands/run.ts';
import { ioFailureMessage } from '../core/errors.ts';
import { runProcess } from '../runner/process/process.ts';

test('--help exits 0 and lists the commands', async () => {
  const result = await runCli(['--help']);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /Usage: crossroot/);
});

test('an unknown option is a usage error: exit 2, one line and a hint', async () => {
  const result = await runCli(['--no-such-option']);
  assert.equal(result.code, 2);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? '', /^crossroot: /);
  assert.match(lines[1] ?? '', /^hint: /);
  assert.equal(result.stdout, '');
});

// The exit-status contract: a usage error exits 2 wherever it is found (the
// option parser, the runner, a planner), because the code decides.
describe('usage errors found by the runner and planners exit 2 with the USAGE code', () => {
  let root = '';
  before(() => {
    // The smallest root `run` accepts: a native /bin/sh and a /usr. Nothing runs in it.
    root = mkdtempSync(join(tmpdir(), 'crossroot-exit-'));
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'usr'));
    copyFileSync(realpathSync('/bin/sh'), join(root, 'bin', 'sh'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const cases: [string, () => string[], string][] = [
    ['run --env BAD', () => ['run', root, '--env', '1BAD', '--json', '--', 'true'], 'USAGE'],
    ['run --bind without an absolute target', () => ['run', root, '--bind', '/tmp:relative', '--json', '--', 'true'], 'USAGE'],
    ['run --workdir relative', () => ['run', root, '--workdir', 'src', '--json', '--', 'true'], 'USAGE'],
    ['run --arch arm65', () => ['run', '--arch', 'arm65', '--json', '--', 'true'], 'UNKNOWN_ARCH'],
    ['create --arch arm65', () => ['create', join(root, 'new'), '--arch', 'arm65', '--json'], 'UNKNOWN_ARCH'],
  ];
  for (const [name, argv, code] of cases) {
    test(name, async () => {
      const result = await runCli(argv());
      assert.equal(result.code, 2, result.stderr);
      assert.equal(errorCodeOf(result), code);
    });
  }
});

// Issue 11: what a new user meets. Each test names the defect it pins down.
describe('a new user meets', () => {
  let work = '';
  let root = '';
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'crossroot-newuser-'));
    root = join(work, 'root');
    mkdirSync(join(root, 'bin'), { recursive: true });
    mkdirSync(join(root, 'usr'));
    copyFileSync(realpathSync('/bin/sh'), join(root, 'bin', 'sh'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('#4: create --from-tar of a file that is no tar archive: a user error, exit 1, nothing left', async () => {
    const dir = join(work, 'from-passwd');
    const run = await runCli(['create', '--json', dir, '--from-tar', '/etc/passwd']);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(errorCodeOf(run), 'NOT_AN_ARCHIVE');
    assert.doesNotMatch(run.stderr, /internal error/);
    assert.equal(existsSync(dir), false);
  });

  test("#5: words after explain's PATH are the program's arguments; inspect does not print crossroot's version", async () => {
    const explain = await runCliJson<{ argv: string[] }>(['explain', '/bin/sh', '--version', '-c', 'x']);
    assert.deepEqual(explain.json.argv?.slice(-3), ['--version', '-c', 'x']);
    const inspect = await runCli(['inspect', '/bin/sh', '--version']);
    assert.equal(inspect.code, 2);
    assert.doesNotMatch(inspect.stdout, /^\d+\.\d+\.\d+/);
  });

  test('#6: a full stdout is one line and exit 1, not a stack trace', async () => {
    const result = await runProcess(['sh', '-c', 'exec "$@" > /dev/full', 'sh', ...cliCommand(['inspect', '--json', '/bin/sh'])]);
    assert.equal(result.exitCode, 1);
    assert.equal(result.stderr, 'crossroot: write stdout: no space left on device\n');
  });

  test('#8: binfmt status leads with a summary and the fix, and fits a 100-column terminal', async () => {
    const binfmt = join(work, 'binfmt');
    mkdirSync(binfmt);
    writeFileSync(join(binfmt, 'status'), 'enabled\n');
    writeFileSync(join(binfmt, 'register'), '');
    writeFileSync(join(binfmt, 'qemu-aarch64'), 'enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: F\noffset 0\n'
      + 'magic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n');
    const run = await runCli(['binfmt', 'status', '--no-probe', '--binfmt-dir', binfmt], { columns: 100 });
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^binfmt_misc at .*: enabled, host instance, 1 entry; /);
    assert.match(run.stdout.split('\n\n')[0] ?? '', /fix: crossroot binfmt install all/);
    for (const line of lines) assert.ok(line.length <= 100, `${line.length} columns: ${line}`);
  });

  test('#9: binfmt status without binfmt_misc still lists the emulators on disk', async () => {
    const status = await runCliJson<{ mounted: boolean; emulators: { arch: string }[] }>(['binfmt', 'status', '--binfmt-dir', join(work, 'no-binfmt')]);
    assert.equal(status.json.mounted, false);
    const onDisk = readdirSync('/usr/bin').filter((name) => /^qemu-[a-z0-9_]+(-static)?$/.test(name)).length;
    assert.ok(onDisk > 0, 'the test machine has QEMU emulators (scripts/setup.sh)');
    assert.ok(status.json.emulators.length > 0, 'no emulators listed');
  });

  test('#10: --env NAME copies the host value (as docker -e); an unset NAME is dropped', () => {
    assert.deepEqual(envAssignments(['FOO', 'BAR=1', 'UNSET'], { FOO: 'from host' }), ['FOO=from host', 'BAR=1']);
    assert.deepEqual(envAssignments(['1BAD'], {}), ['1BAD'], 'a bad name stays, for the runner to refuse (exit 2)');
  });

  test('#11: crossroot, crossroot binfmt, crossroot roots alone print their help on stdout', async () => {
    for (const argv of [[], ['binfmt'], ['roots']]) {
      const run = await runCli(argv);
      assert.equal(run.code, 0, argv.join(' '));
      assert.match(run.stdout, /^Usage: crossroot/, argv.join(' '));
      assert.equal(run.stderr, '');
    }
  });

  test('#12: a mistyped command gets the suggestion as the hint line', async () => {
    const run = await runCli(['inpsect']);
    assert.equal(run.code, 2);
    assert.deepEqual(run.stderr.trimEnd().split('\n').map((line) => line.replace(/:.*/, '')), ['crossroot', 'hint']);
    assert.match(run.stderr, /^hint: did you mean 'inspect'\?/m);
  });

  test('#13: crossroot help binfmt status is the help of binfmt status', async () => {
    const run = await runCli(['help', 'binfmt', 'status']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^Usage: crossroot binfmt status/);
  });

  test('#14: a bad --suite is echoed as typed, with a hint naming two different suites', async () => {
    const run = await runCli(['create', '--json', join(work, 'bad-suite'), '--arch', 'arm64', '--suite', 'Bad Suite']);
    assert.equal(run.code, 2);
    const error = (JSON.parse(run.stdout) as { error: { message: string; hint: string } }).error;
    assert.match(error.message, /'Bad Suite'/);
    const suites = [...error.hint.matchAll(/'([a-z]+)'/g)].map((match) => match[1]);
    assert.equal(new Set(suites).size, 2, error.hint);
  });

  test('#18: inspect and scan say what went wrong in words, with the path as typed', async () => {
    const inspect = await runCli(['inspect', 'no-such-file'], { cwd: work });
    assert.match(inspect.stderr, /^crossroot: inspect 'no-such-file': does not exist$/m);
    const scan = await runCli(['scan', 'no-such-dir'], { cwd: work });
    assert.match(scan.stderr, /^crossroot: scan '.*no-such-dir': does not exist$/m);
    assert.equal(ioFailureMessage('open', 'x', 'EACCES'), "open 'x': permission denied");
  });

  test('#20: run of a command the root does not have: a crossroot line, exit 127', async () => {
    const run = await runCli(['run', root, '--', 'nosuchcmd']);
    assert.equal(run.code, 127, run.stderr);
    assert.match(run.stderr, /^crossroot: run 'nosuchcmd': command not found in the root/);
  });

  test('#21: run --arch with --no-create refuses instead of bootstrapping', async () => {
    const run = await runCli(['run', '--json', '--arch', 'arm64', '--no-create', '--', 'true'], { env: { CROSSROOT_HOME: join(work, 'home') } });
    assert.equal(run.code, 1);
    assert.equal(errorCodeOf(run), 'NOT_A_ROOT');
    assert.equal(existsSync(join(work, 'home', 'roots')), false);
  });

  test('--json parse errors of run go to stderr like its report; stdout stays the command\'s', async () => {
    const run = await runCli(['run', '--json', '--emulation', 'magic', root, '--', 'true']);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.equal(errorCodeOf(run), 'USAGE');
  });

  test('#22: roots path and rm take --json; roots list has a header; --platform names the architecture', async () => {
    const env = { CROSSROOT_HOME: join(work, 'home') };
    const path = await runCliJson<{ arch: string; dir: string }>(['roots', 'path', 'linux/arm64/v8'], { env });
    assert.equal(path.code, 0);
    assert.match(path.json.dir, /roots\/arm64$/);
    const rm = await runCli(['roots', 'rm', '--json', 'arm64'], { env });
    assert.equal(rm.code, 1);
    assert.ok(errorCodeOf(rm) !== null);
    const platform = await runCli(['run', '--json', '--platform', 'linux/arm64/v8', '--no-create', '--', 'true'], { env });
    assert.equal(errorCodeOf(platform), 'NOT_A_ROOT', 'linux/arm64/v8 resolved to the arm64 managed root');
  });

  test('#23: scan says "1 directory" and lists files with --verbose', async () => {
    const tree = join(work, 'tree');
    mkdirSync(tree);
    copyFileSync(realpathSync('/bin/sh'), join(tree, 'sh'));
    const run = await runCli(['scan', '--verbose', tree]);
    assert.match(run.stdout, /in 1 directory \(/);
    assert.match(run.stdout, new RegExp(`^x86_64 +amd64 +${join(tree, 'sh')}$`, 'm'));
  });
});

test('codes name what went wrong: --root that is a file is NOT_A_DIRECTORY; --arch against a root of another architecture is ARCH_MISMATCH', async () => {
  const file = await runCli(['inspect', '--json', '--root', '/etc/passwd', '/bin/sh']);
  assert.equal(file.code, 1);
  assert.equal(errorCodeOf(file), 'NOT_A_DIRECTORY');
  const dir = mkdtempSync(join(tmpdir(), 'crossroot-mismatch-'));
  try {
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'usr'));
    copyFileSync(realpathSync('/bin/sh'), join(dir, 'bin', 'sh'));
    const run = await runCli(['run', '--json', dir, '--arch', 'riscv64', '--', 'true']);
    assert.equal(run.code, 1);
    assert.equal(errorCodeOf(run), 'ARCH_MISMATCH');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
