import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorCodeOf, runCli } from '../../test/support/cli.ts';

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
