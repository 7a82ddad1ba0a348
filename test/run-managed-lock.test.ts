// Concurrent first uses of one managed root (runner/roots/roots.ts): two
// `crossroot run --arch arm64` on a machine without the root both succeed,
// one creates it (from the test cache's snapshot of the toolchain root, so in
// seconds), the other waits and says so; meanwhile `roots list` shows the
// root being created and `roots rm` refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isCrossrootError } from '../src/core/errors.ts';
import { runProcess } from '../src/runner/process/process.ts';
import type { ManagedRoot } from '../src/runner/roots/roots.ts';
import { listManagedRoots, removeManagedRoot } from '../src/runner/roots/roots.ts';
import { TEST_CACHE, TEST_CROSSROOT_HOME, ensureTestRoot } from './support/cached-roots.ts';

const BIN = new URL('../src/cli/bin.ts', import.meta.url).pathname;

test('two concurrent first uses of a managed root: one creates, the other waits, both run', { timeout: 30 * 60_000 }, async () => {
  await ensureTestRoot('arm64', { toolchain: true }); // leaves the snapshot in the test cache
  const home = mkdtempSync(join(TEST_CROSSROOT_HOME, 'lock-home-'));
  const env = { ...process.env, CROSSROOT_HOME: home, CROSSROOT_CACHE: TEST_CACHE };
  try {
    const run = (): ReturnType<typeof runProcess> => runProcess([process.execPath, '--import', import.meta.resolve('tsx'), BIN, 'run', '--arch', 'arm64', '--', 'uname', '-m'], { env, timeoutMs: 25 * 60_000 });
    const runs = Promise.all([run(), run()]);
    let finished = false;
    void runs.finally(() => { finished = true; });
    let seenCreating: ManagedRoot | undefined;
    let refusal: unknown = null;
    while (!finished) {
      const creating = listManagedRoots(env).find((root) => root.state === 'creating');
      if (creating !== undefined && seenCreating === undefined) {
        seenCreating = creating;
        refusal = await removeManagedRoot('arm64', env).then(() => null, (error: unknown) => error);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const results = await runs;
    for (const result of results) {
      assert.equal(result.exitCode, 0, result.stderr);
      assert.equal(result.stdout.trim().split('\n').at(-1), 'aarch64');
    }
    assert.equal(results.filter((result) => /waiting: the managed root is being created by crossroot pid \d+/.test(result.stderr)).length, 1, results.map((result) => result.stderr).join('\n---\n'));
    assert.equal(seenCreating?.debianArch, 'arm64', 'roots list showed the root being created');
    assert.ok((seenCreating?.creator?.pid ?? 0) > 0, 'with its creator');
    assert.ok(isCrossrootError(refusal) && refusal.code === 'ROOT_IN_USE', `roots rm refused while it was created: ${String(refusal)}`);
    const listed = listManagedRoots(env);
    assert.deepEqual(listed.map((root) => `${root.debianArch} ${root.state}`), ['arm64 ready'], 'one root, created once');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
