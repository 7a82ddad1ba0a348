// Acceleration end to end, in real arm64 roots: objects built with native
// cross tools are identical to the emulated compiler's (every section but
// .comment), a mismatched compiler is left emulated and reported, a real
// project (sqlite3 + a C shell + a C++ self-test) builds with make -j2 and
// passes its tests, and nothing of the host remains visible or changed.
// Needs root, mmdebstrap, qemu-user-static, npm (for `npm pack`) and network
// on first use (roots and tools roots are cached). Runs until `crossroot run`
// takes extra mounts through test/support/accel-harness.ts.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planRootAcceleration } from '../src/runner/accelerate.ts';
import type { AccelerationFacts } from '../src/runner/accelerate.ts';
import { runProcess } from '../src/runner/process.ts';
import { runInRoot } from './support/accel-harness.ts';
import { ensureAccelRoot } from './support/accel-roots.ts';
import { runCliJson } from './support/cli.ts';

const PROJECT = fileURLToPath(new URL('./fixtures/accel-project/', import.meta.url));
const SQLITE_CACHE = fileURLToPath(new URL('../.cache/accel-sqlite/', import.meta.url));

/** deps/sqlite3/sqlite3.{c,h} of the npm package better-sqlite3@12, fetched once with `npm pack`. */
async function sqliteSources(): Promise<string> {
  const dir = join(SQLITE_CACHE, 'package', 'deps', 'sqlite3');
  if (existsSync(join(dir, 'sqlite3.c'))) return dir;
  mkdirSync(SQLITE_CACHE, { recursive: true });
  const pack = await runProcess(['npm', 'pack', 'better-sqlite3@12', '--silent'], { cwd: SQLITE_CACHE, timeoutMs: 5 * 60 * 1000 });
  assert.equal(pack.exitCode, 0, pack.stderr);
  const tarball = readdirSync(SQLITE_CACHE).find((name) => name.endsWith('.tgz'));
  assert.ok(tarball !== undefined);
  const untar = await runProcess(['tar', 'xzf', tarball, 'package/deps/sqlite3'], { cwd: SQLITE_CACHE });
  assert.equal(untar.exitCode, 0, untar.stderr);
  return dir;
}

/** A listing of every path in the root with type, mode, size and mtime: changes to the root show up here. */
async function rootListing(root: string): Promise<string> {
  const run = await runProcess(['find', root, '-xdev', '-printf', '%P %y %m %s %T@ %l\n'], { timeoutMs: 5 * 60 * 1000 });
  return run.stdout.split('\n').sort().join('\n');
}

async function mountsUnder(root: string): Promise<string[]> {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.includes(root));
}

/** objcopy (the root's own, emulated) without .comment, then byte comparison. */
async function sameButComment(root: string, work: string, a: string, b: string): Promise<{ same: boolean; detail: string }> {
  const run = await runInRoot(root, ['sh', '-c',
    `cd /tmp && objcopy --remove-section .comment ${a} ${a}.nc && objcopy --remove-section .comment ${b} ${b}.nc && cmp ${a}.nc ${b}.nc && echo SAME`],
  { binds: [{ source: work, target: '/tmp' }] });
  return { same: run.stdout.includes('SAME'), detail: `${run.stdout}${run.stderr}` };
}

describe('acceleration in a trixie arm64 root (gcc 14, same-suite tools root)', { timeout: 60 * 60 * 1000 }, () => {
  let root = '';
  let facts: AccelerationFacts;
  let work = '';

  before(async () => {
    root = await ensureAccelRoot('trixie');
    facts = await planRootAcceleration(root);
    work = mkdtempSync(join(tmpdir(), 'crossroot-accel-test-'));
    const sqlite = await sqliteSources();
    cpSync(PROJECT, work, { recursive: true });
    for (const name of ['sqlite3.c', 'sqlite3.h']) cpSync(join(sqlite, name), join(work, name));
    writeFileSync(join(work, 'hello.cpp'), '#include <iostream>\n#include <vector>\nint main(){std::vector<int> v{1,2,3};int s=0;for(int x:v)s+=x;std::cout<<"sum "<<s<<"\\n";}\n');
  });

  it('plans every tool as substituted, from the tools root, with an exact version match', () => {
    assert.equal(facts.plan.refused, null, facts.plan.refused ?? '');
    assert.equal(facts.identity.suite, 'trixie');
    for (const tool of facts.plan.tools) {
      if (tool.status === 'absent') continue;
      // cc1plus: the cross compiler's C++ include chain differs (see demoteIncludeChains).
      assert.equal(tool.status, tool.tool === 'cc1plus' ? 'emulated' : 'substituted', `${tool.tool}: ${tool.reason}`);
    }
    assert.ok(facts.plan.tools.some((tool) => tool.tool === 'cc1' && tool.status === 'substituted'));
  });

  it('C and C++ objects and executables are identical to the emulated compiler\'s except .comment', async () => {
    const build = (tag: string): string => [
      'cd /tmp',
      `gcc -O2 -g -c minishell.c -o minishell-${tag}.o`,
      `g++ -O2 -c selftest.cpp -o selftest-${tag}.o`,
      `g++ -O1 hello.cpp -o hello-${tag}`,
      `./hello-${tag}`,
    ].join(' && ');
    const emulated = await runInRoot(root, ['sh', '-c', build('emu')], { binds: [{ source: work, target: '/tmp' }] });
    assert.equal(emulated.exitCode, 0, emulated.stderr);
    const accelerated = await runInRoot(root, ['sh', '-c', build('acc')], { mounts: facts.plan.mounts, binds: [{ source: work, target: '/tmp' }] });
    assert.equal(accelerated.exitCode, 0, accelerated.stderr);
    assert.equal(accelerated.stdout, 'sum 6\n');
    for (const [a, b] of [['minishell-emu.o', 'minishell-acc.o'], ['selftest-emu.o', 'selftest-acc.o'], ['hello-emu', 'hello-acc']] as const) {
      const verdict = await sameButComment(root, work, a, b);
      assert.ok(verdict.same, `${a} vs ${b}: ${verdict.detail}`);
    }
  });

  it('the accelerated driver sees the same include chain as the emulated one', async () => {
    const chain = 'cd /tmp && for lang in c c++; do gcc -E -v -x $lang /dev/null -o /dev/null 2>&1 | sed -n "/search starts here/,/End of search/p"; done';
    const emulated = await runInRoot(root, ['sh', '-c', chain]);
    const accelerated = await runInRoot(root, ['sh', '-c', chain], { mounts: facts.plan.mounts });
    assert.ok(emulated.stdout.includes('/usr/include'));
    // The cross cc1 relocates its own header directory and has no /usr/local/include; C++ stays emulated.
    const normalise = (text: string): string => text.replaceAll('/usr/lib/gcc-cross/', '/usr/lib/gcc/').replace(/^ \/usr\/local\/include\n/gm, '');
    assert.equal(normalise(accelerated.stdout), normalise(emulated.stdout));
  });

  it('builds sqlite3 + shell + C++ self-test with make -j2 and passes its tests; the root is unchanged and nothing stays mounted', async () => {
    const before = await rootListing(root);
    const run = await runInRoot(root, ['sh', '-c', 'cd /tmp && make clean >/dev/null && make -j2 >/dev/null && make check && ls /lib64 /usr/lib/x86_64-linux-gnu/libc.so.6'],
      { mounts: facts.plan.mounts, binds: [{ source: work, target: '/tmp' }] });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /ok select sum\(n\) from t -> 500500/);
    assert.match(run.stdout, /ld-linux-x86-64\.so\.2/); // the native runtime was visible inside the run
    assert.equal(await rootListing(root), before);
    assert.deepEqual(await mountsUnder(root), []);
    assert.equal(existsSync(join(root, 'lib64')), false);
    assert.equal(existsSync(join(root, 'usr/lib/x86_64-linux-gnu')), false);
    assert.equal(existsSync(join(root, 'usr/lib/gcc-cross')), false);
  });

  it('`crossroot accelerate ROOT --json` reports the plan', async () => {
    const { code, json } = await runCliJson(['accelerate', root, '--no-create']);
    assert.equal(code, 0);
    const report = json as AccelerationFacts;
    assert.equal(report.plan.source, 'tools-root');
    assert.ok(report.plan.tools.some((tool) => tool.tool === 'cc1' && tool.status === 'substituted'));
  });

  it('cleans up', () => {
    rmSync(work, { recursive: true, force: true });
  });
});

describe('acceleration in a bookworm arm64 root (gcc 12.2.0-14+deb12u1, cross 12.2.0-14cross1)', { timeout: 30 * 60 * 1000 }, () => {
  it('leaves the mismatched compiler emulated and says why; matching as is substituted with identical output', async () => {
    const root = await ensureAccelRoot('bookworm');
    const facts = await planRootAcceleration(root);
    const byTool = new Map(facts.plan.tools.map((tool) => [tool.tool, tool]));
    for (const tool of ['cc1', 'cc1plus', 'lto1', 'collect2']) {
      assert.equal(byTool.get(tool as never)?.status, 'emulated', tool);
      assert.match(byTool.get(tool as never)?.reason ?? '', /version mismatch/);
    }
    assert.equal(byTool.get('as')?.status, 'substituted');
    assert.equal(byTool.get('ld.bfd')?.status, 'emulated'); // the root's arm64 LTO plugin
    assert.ok(!facts.plan.mounts.some((mount) => mount.target.includes('/gcc/')));
    const work = mkdtempSync(join(tmpdir(), 'crossroot-accel-test-'));
    try {
      writeFileSync(join(work, 'a.c'), 'int f(int x){return x*x+1;}\nint main(void){return f(3)==10?0:1;}\n');
      const emulated = await runInRoot(root, ['sh', '-c', 'cd /tmp && gcc -O2 -c a.c -o emu.o'], { binds: [{ source: work, target: '/tmp' }] });
      const accelerated = await runInRoot(root, ['sh', '-c', 'cd /tmp && gcc -O2 -c a.c -o acc.o'], { mounts: facts.plan.mounts, binds: [{ source: work, target: '/tmp' }] });
      assert.equal(emulated.exitCode, 0, emulated.stderr);
      assert.equal(accelerated.exitCode, 0, accelerated.stderr);
      assert.deepEqual(readFileSync(join(work, 'acc.o')), readFileSync(join(work, 'emu.o')));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
