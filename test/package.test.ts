// `npm pack` produces a package that installs globally and runs, as a user
// would install it: a prefix of its own, the bin on that prefix's PATH.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../src/runner/process/process.ts';
import { makeTestRoot } from './support/package-roots.ts';

test('the packed tarball installs globally and its crossroot bin runs', { timeout: 300_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'crossroot-pack-'));
  try {
    const pack = await runProcess(['npm', 'pack', '--pack-destination', work, '--json'], { timeoutMs: 240_000 });
    assert.equal(pack.exitCode, 0, pack.stderr);
    const [tarball] = readdirSync(work).filter((name) => name.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote no tarball');
    const files = (JSON.parse(pack.stdout) as [{ files: { path: string }[] }])[0].files.map((file) => file.path);
    assert.ok(files.includes('dist/cli/crossroot.cjs'), 'the bin (the loader of the bundled CLI) is packed');
    assert.ok(files.includes('dist/cli/crossroot-bundle.cjs'), 'the bundled CLI is packed');
    assert.ok(files.includes('dist/index.js'), 'the library is packed');
    assert.ok(files.includes('dist/runner/enter/crossroot-enter'), 'the run helper is built and packed');
    assert.ok(!files.some((path) => path.includes('.test.')), 'tests must not be packed');
    // Only what runs (and what says how): the build, the man page, the licence, the README.
    assert.deepEqual(files.filter((path) => !/^dist\/.*\.(js|d\.ts)$/.test(path)).sort(), [
      'LICENSE', 'README.md', 'dist/cli/crossroot-bundle.cjs', 'dist/cli/crossroot-bundle.v8cache', 'dist/cli/crossroot.cjs',
      'dist/man/crossroot.1', 'dist/runner/enter/crossroot-enter', 'package.json',
    ]);
    assert.ok(!files.includes('dist/cli/write-man.js') && !files.includes('dist/cli/write-bundle.js'), 'the build steps are not packed');
    const prefix = join(work, 'prefix');
    const install = await runProcess(['npm', 'install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', join(work, tarball)], { timeoutMs: 240_000 });
    assert.equal(install.exitCode, 0, install.stderr);
    assert.ok(existsSync(join(prefix, 'share', 'man', 'man1', 'crossroot.1')), 'the man page is installed');
    assert.equal(realpathSync(join(prefix, 'bin', 'crossroot')), join(prefix, 'lib', 'node_modules', 'crossroot', 'dist', 'cli', 'crossroot.cjs'));
    const version = await runProcess([join(prefix, 'bin', 'crossroot'), '--version']);
    assert.equal(version.exitCode, 0, version.stderr);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    const inspect = await runProcess([join(prefix, 'bin', 'crossroot'), 'inspect', process.execPath, '--json']);
    assert.equal(inspect.exitCode, 0, inspect.stderr);
    assert.equal((JSON.parse(inspect.stdout) as [{ kind: string }])[0].kind, 'elf');
    // The bundle runs as a script (vm.Script with V8's code cache), where import() has no loader: none may be left in it.
    const bundled = readFileSync(join(prefix, 'lib', 'node_modules', 'crossroot', 'dist', 'cli', 'crossroot-bundle.cjs'), 'utf8');
    assert.deepEqual(bundled.match(/\bimport\(/g) ?? [], [], 'no dynamic import in the bundle');
    // The bundled CLI finds what lies beside its modules in dist/ (the native helper here).
    const root = await makeTestRoot('amd64', work);
    try {
      const run = await runProcess([join(prefix, 'bin', 'crossroot'), 'run', root.dir, '--', 'sh', '-c', 'exit 7']);
      assert.equal(run.exitCode, 7, run.stderr);
    } finally {
      root.remove();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
