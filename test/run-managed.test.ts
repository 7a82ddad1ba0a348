// End to end, as the README's quick start: `crossroot run --arch ARCH` on the
// managed roots of arm64, armhf and riscv64 (Debian with a C toolchain,
// created on first use by runner/roots/roots.ts), `uname -m`, and a C program
// compiled and run inside; su in the arm64 one.
// The roots live in the machine-level test home (CROSSROOT_HOME =
// test/support/cached-roots.ts TEST_CROSSROOT_HOME, laid out like managed roots), so
// only the first run on a machine pays for creating them, and a fresh clone
// (CI) reuses them. Set CROSSROOT_SKIP_MANAGED=1 to skip it (it downloads a
// few hundred MB the first time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnCli } from './support/cli.ts';
import { TEST_CROSSROOT_HOME, ensureTestRoot } from './support/cached-roots.ts';

const HOME = TEST_CROSSROOT_HOME;

const CASES = [
  { arch: 'arm64', machine: 'aarch64', elfArch: 'aarch64' },
  { arch: 'armhf', machine: 'armv7l', elfArch: 'arm' },
  { arch: 'riscv64', machine: 'riscv64', elfArch: 'riscv64' },
] as const;

for (const { arch, machine, elfArch } of CASES) {
  test(`managed ${arch} root: uname -m is ${machine}; a C hello world compiles and runs inside`, { timeout: 40 * 60_000, skip: process.env['CROSSROOT_SKIP_MANAGED'] === '1' }, async () => {
    mkdirSync(HOME, { recursive: true });
    // The test home's toolchain roots are the managed roots (created under its lock, shared with other tests).
    await ensureTestRoot(arch, { toolchain: true });
    const crossroot = (args: string[]): ReturnType<typeof spawnCli> => spawnCli(args, { env: { CROSSROOT_HOME: HOME }, timeoutMs: 35 * 60_000 });
    const uname = await crossroot(['run', '--arch', arch, '--', 'uname', '-m']);
    assert.equal(uname.exitCode, 0, uname.stderr);
    assert.equal(uname.stdout.trim().split('\n').at(-1), machine);
    if (arch === 'arm64') {
      const su = await crossroot(['run', '--arch', arch, '--', 'su', '-s', '/bin/sh', '-c', 'id -un', 'nobody']);
      assert.equal(su.exitCode, 0, su.stderr);
      assert.equal(su.stdout.trim(), 'nobody', 'su (setuid, PAM) works inside');
    }
    const src = mkdtempSync(join(HOME, 'src-'));
    try {
      writeFileSync(join(src, 'hello.c'), `#include <stdio.h>\nint main(void) { puts("hello from ${arch}"); return 3; }\n`);
      const build = await crossroot(['run', '--arch', arch, '--bind', `${src}:/src`, '--workdir', '/src', '--',
        'sh', '-c', 'cc -o hello hello.c && ./hello; echo "status $?"']);
      assert.equal(build.exitCode, 0, build.stderr);
      assert.equal(build.stdout, `hello from ${arch}\nstatus 3\n`);
      const file = await spawnCli(['inspect', join(src, 'hello'), '--json']);
      assert.match(file.stdout, new RegExp(`"arch": "${elfArch}"`));
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });
}
