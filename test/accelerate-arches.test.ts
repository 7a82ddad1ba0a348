// Twins are not an arm64 feature: in the default armhf toolchain root (32-bit,
// trixie), `run --accelerate` runs the shells, make and coreutils natively
// from the same Debian versions, the compiler from the same-version cross
// tools, and a small C build with make works and runs; what reports the
// machine still says armv7l. Needs root and network on first use (the armhf
// root is created under emulation and cached in /var/cache/crossroot-test).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planRootAcceleration } from '../src/runner/accelerate/accelerate.ts';
import { crossroot } from './support/accelerate-build.ts';
import { ensureTestRoot } from './support/cached-roots.ts';

describe('twins on armhf (32-bit): a small C build with make, natively where the versions match', { timeout: 90 * 60 * 1000 }, () => {
  let root = '';
  let work = '';
  before(async () => {
    root = await ensureTestRoot('armhf', { toolchain: true });
    work = mkdtempSync(join(tmpdir(), 'crossroot-twins-armhf-'));
    writeFileSync(join(work, 'hello.c'), '#include <stdio.h>\nint main(void) { printf("hello %zu\\n", sizeof(long)); return 0; }\n');
    writeFileSync(join(work, 'Makefile'), 'hello: hello.o\n\t$(CC) -o $@ $^\nhello.o: hello.c\n\t$(CC) -O2 -c $<\n');
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('plans the shells, make and coreutils as twins', async () => {
    const facts = await planRootAcceleration(root);
    assert.equal(facts.plan.refused, null, facts.plan.refused ?? '');
    const twin = (program: string): string | undefined => facts.plan.twins.find((entry) => entry.program === program)?.status;
    assert.equal(twin('/usr/bin/make'), 'substituted');
    assert.equal(twin('/usr/bin/dash') ?? twin('/bin/dash'), 'substituted');
    assert.equal(twin('/usr/bin/uname') ?? twin('/bin/uname'), 'emulated');
  });

  it('make builds and runs a C program; uname still says armv7l; make and sh ran natively', async () => {
    const run = await crossroot(['run', root, '--accelerate', '--bind', `${work}:/tmp`, '--workdir', '/tmp', '--',
      'sh', '-c', 'make >/dev/null && ./hello && uname -m && env uname -m && make --version | sed -n "s/^Built for //p" && grep -c x86_64-linux-gnu/libc.so /proc/$$/maps']);
    assert.equal(run.exitCode, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 4), ['hello 4', 'armv7l', 'armv7l', 'x86_64-pc-linux-gnu']); // the native make's MAKE_HOST (policy: allowed)
    assert.ok(Number(lines[4]) > 0, 'the shell is the native twin');
  });
});
