// `crossroot run --accelerate` end to end, in the default (trixie, gcc 14)
// arm64 test root (test/support/cached-roots.ts) with crossroot's amd64 tools root of
// the same suite (created with mmdebstrap on first use): objects built with
// the native cross tools are identical to the emulated compiler's (every
// section but .comment), a real project (sqlite3 + a C shell + a C++
// self-test) builds with make -j2 and passes its tests, nothing of the host
// remains visible or mounted and the root is unchanged; `--profile` names the
// programs that used the CPU, emulated or native.
// Needs root, mmdebstrap, qemu-user-static, npm (for `npm pack`) and network
// on first use (roots, tools roots and sources are cached).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emulatedToolLines } from '../src/core/accelerate/accelerate-plan.ts';
import type { ProfileReport } from '../src/core/enter/profile.ts';
import { planRootAcceleration } from '../src/runner/accelerate/accelerate.ts';
import type { AccelerationFacts } from '../src/runner/accelerate/accelerate.ts';
import { runProcess } from '../src/runner/process/process.ts';
import type { RunResult } from '../src/runner/process/process.ts';
import { cliCommand, runCliJson, spawnCli } from './support/cli.ts';
import { ensureTestRoot } from './support/cached-roots.ts';
import { populateProject } from './support/sqlite-sources.ts';

function crossroot(args: readonly string[]): Promise<RunResult> {
  // The CLI as a user runs it, as a subprocess (the command's output is collected).
  return spawnCli(args, { timeoutMs: 30 * 60 * 1000 });
}

/**
 * A hash of every path in the root with type, mode, size and mtime: any change to the root shows up here.
 * But the mtime of /etc: every `crossroot run` (accelerated or not) of a root without /etc/hosts creates
 * a placeholder there for the host's file and removes it afterwards.
 */
async function rootListing(root: string): Promise<string> {
  const run = await runProcess(['find', root, '-xdev', '-printf', '%P %y %m %s %T@ %l\n'], { timeoutMs: 5 * 60 * 1000 });
  assert.equal(run.exitCode, 0, run.stderr);
  const lines = run.stdout.split('\n').map((line) => (line.startsWith('etc d ') ? line.split(' ').slice(0, 4).join(' ') : line));
  return createHash('sha256').update(lines.sort().join('\n')).digest('hex');
}

/** Whether process `pid` is a `sleep` chrooted in `root` (a command of a run). */
function isSleepIn(pid: string, root: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/root`) === root && readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('sleep');
  } catch {
    return false;
  }
}

/** Scratch directories of accelerated runs whose crossroot is gone (a live one's, such as a concurrent test's, is in use). */
function leftScratchDirs(): string[] {
  return readdirSync(tmpdir()).filter((name) => {
    const pid = /^crossroot-accel-(\d+)-/.exec(name)?.[1];
    return pid !== undefined && !existsSync(`/proc/${pid}`);
  });
}

function mountsMentioning(text: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.includes(text));
}

describe('run --accelerate in the default arm64 root (trixie, gcc 14, same-suite tools root)', { timeout: 60 * 60 * 1000 }, () => {
  let root = '';
  let facts: AccelerationFacts;
  let work = '';
  let listingBefore = '';
  /** `crossroot run ROOT [--accelerate] --bind WORK:/tmp --workdir /tmp -- sh -c SCRIPT` */
  const inRoot = (accelerate: boolean, script: string, extra: readonly string[] = []): Promise<RunResult> =>
    crossroot(['run', root, ...(accelerate ? ['--accelerate'] : []), ...extra, '--bind', `${work}:/tmp`, '--workdir', '/tmp', '--', 'sh', '-c', script]);

  before(async () => {
    root = await ensureTestRoot('arm64', { toolchain: true });
    facts = await planRootAcceleration(root);
    listingBefore = await rootListing(root);
    work = mkdtempSync(join(tmpdir(), 'crossroot-accel-test-'));
    await populateProject(work);
    writeFileSync(join(work, 'hello.cpp'), [
      '#include <cassert>', '#include <cstddef>', '#include <iostream>', '#include <map>', '#include <string>', '#include <vector>',
      'struct S { int a; long b; };',
      'template <typename T> std::size_t total(const std::vector<T>& v) { std::size_t n = 0; for (const auto& s : v) { assert(!s.empty()); n += s.size(); } return n; }',
      'int main() { std::vector<std::string> v{"a", "bb", "ccc"}; std::map<std::string, int> m{{__FILE__, 1}};',
      '  std::cout << "sum " << total(v) + m.size() - 1 + offsetof(S, b) - 8 << "\\n"; }', '',
    ].join('\n'));
    writeFileSync(join(work, 'varargs.c'), [
      '#include <stdarg.h>', '#include <stddef.h>', '#include <stdio.h>',
      'static int sum(int n, ...) { va_list ap; va_start(ap, n); int s = 0; while (n-- > 0) s += va_arg(ap, int); va_end(ap); return s; }',
      'int main(void) { printf("%d %zu\\n", sum(3, 1, 2, 3), sizeof(size_t)); return 0; }', '',
    ].join('\n'));
  });

  after(async () => {
    rmSync(work, { recursive: true, force: true });
    assert.equal(await rootListing(root), listingBefore, 'the root is unchanged by the accelerated runs');
    assert.deepEqual(mountsMentioning(root), []);
    assert.deepEqual(leftScratchDirs(), [], 'no scratch directory left');
  });

  it('plans every tool as substituted from the tools root, with an exact version match', () => {
    assert.equal(facts.plan.refused, null, facts.plan.refused ?? '');
    assert.equal(facts.identity.suite, 'trixie');
    assert.equal(facts.plan.source, 'tools-root');
    for (const tool of facts.plan.tools) {
      if (tool.status === 'absent') continue;
      assert.equal(tool.status, 'substituted', `${tool.tool}: ${tool.reason}`);
    }
  });

  it('C and C++ objects and executables are identical to the emulated compiler\'s except .comment', async () => {
    const build = (tag: string): string => [
      `g++ -O2 -g -c hello.cpp -o hello-${tag}.o`,
      `gcc -O2 -g -c minishell.c -o minishell-${tag}.o`,
      `gcc -O2 -g -c varargs.c -o varargs-${tag}.o`,
      `gcc -O1 -g varargs.c -o varargs-${tag}`,
      `g++ -O2 -c selftest.cpp -o selftest-${tag}.o`,
      `g++ -O1 hello.cpp -o hello-${tag}`,
      `./hello-${tag}`, `./varargs-${tag}`,
    ].join(' && ');
    const emulated = await inRoot(false, build('emu'));
    assert.equal(emulated.exitCode, 0, emulated.stderr);
    const accelerated = await inRoot(true, build('acc'), ['--verbose']);
    assert.equal(accelerated.exitCode, 0, accelerated.stderr);
    assert.equal(accelerated.stdout, 'sum 6\n6 8\n');
    assert.match(accelerated.stderr, /crossroot: accelerate: cc1 \(gcc 14\) runs natively: \S+\/usr\/libexec\/gcc-cross\/aarch64-linux-gnu\/14\/cc1 over \/usr\/libexec\/gcc\/aarch64-linux-gnu\/14\/cc1 .* run through a wrapper that gives it the root's C include chain/);
    assert.match(accelerated.stderr, /crossroot: accelerate: as runs natively/);
    assert.match(accelerated.stderr, /crossroot: accelerate: cc1plus \(gcc 14\) runs natively: .* run through a wrapper that gives it the root's C\+\+ include chain/);
    assert.doesNotMatch(accelerated.stderr, /stays emulated/);
    const pairs = ['hello', 'minishell', 'varargs', 'selftest'].map((name) => [`${name}-emu.o`, `${name}-acc.o`])
      .concat([['varargs-emu', 'varargs-acc'], ['hello-emu', 'hello-acc']]);
    const compare = pairs.map(([a, b]) => `objcopy --remove-section .comment ${a ?? ''} ${a ?? ''}.nc && objcopy --remove-section .comment ${b ?? ''} ${b ?? ''}.nc && cmp ${a ?? ''}.nc ${b ?? ''}.nc && echo SAME ${a ?? ''}`).join(' && ');
    const verdict = await inRoot(true, compare);
    assert.equal(verdict.exitCode, 0, `${verdict.stdout}${verdict.stderr}`);
    assert.equal(verdict.stdout.split('\n').filter((line) => line.startsWith('SAME ')).length, pairs.length);
  });

  it('the accelerated include chains are exactly the emulated ones, /usr/local/include included', async () => {
    const chain = (lang: string): string => `gcc -E -v -x ${lang} /dev/null -o /dev/null 2>&1 | sed -n "/search starts here/,/End of search/p"`;
    const script = `${chain('c')}; echo ===; ${chain('c++')}; echo ===; ${chain('c++')} -nostdinc++`;
    const emulated = await inRoot(false, script);
    const accelerated = await inRoot(true, script);
    const [emulatedC, emulatedCxx, emulatedNoStdCxx] = emulated.stdout.split('===\n');
    const [acceleratedC, acceleratedCxx, acceleratedNoStdCxx] = accelerated.stdout.split('===\n');
    assert.ok(emulatedCxx?.includes(' /usr/include/c++/14\n'), emulated.stdout);
    // C++: the wrapper gives the cross cc1plus the root's chain, exactly; with -nostdinc++ the root's own cc1plus runs.
    assert.equal(acceleratedCxx, emulatedCxx);
    assert.equal(acceleratedNoStdCxx, emulatedNoStdCxx);
    assert.ok(emulatedC?.includes(' /usr/local/include\n'), emulated.stdout);
    assert.equal(acceleratedC, emulatedC);
  });

  it('builds sqlite3 + shell + C++ self-test with make -j2 and passes its tests; the host\'s runtime is visible only during the run', async () => {
    const run = await inRoot(true, 'make clean >/dev/null && make -j2 >/dev/null && make check && ls /lib64 /usr/lib/x86_64-linux-gnu/libc.so.6 && ./minishell :memory: "select sqlite_version()"');
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /ok select sum\(n\) from t -> 500500/);
    assert.match(run.stdout, /ld-linux-x86-64\.so\.2/);
    assert.match(run.stdout, /^3\.\d+\.\d+$/m);
    assert.equal(existsSync(join(root, 'lib64')), false);
    assert.equal(existsSync(join(root, 'usr/lib/x86_64-linux-gnu')), false);
    assert.equal(existsSync(join(root, 'usr/lib/gcc-cross')), false);
    assert.deepEqual(mountsMentioning(root), []);
  });

  it('--profile: cc1 is the top emulated program of an emulated compile, and native with --accelerate', async () => {
    // Processes shorter than the sampling interval are not attributed: the accelerated compile must last a while.
    const report = async (accelerate: boolean): Promise<ProfileReport> => {
      const file = join(work, `profile-${accelerate ? 'acc' : 'emu'}.json`);
      const compile = accelerate ? 'gcc -O0 -c sqlite3.c -o profiled.o' : 'gcc -O1 -c minishell.c -o profiled.o';
      const run = await inRoot(accelerate, compile, ['--profile', '--profile-json', file]);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.match(run.stderr, /crossroot: profile \(CPU time by program\):/);
      return JSON.parse(readFileSync(file, 'utf8')) as ProfileReport;
    };
    const cc1 = '/usr/libexec/gcc/aarch64-linux-gnu/14/cc1';
    const emulated = await report(false);
    assert.deepEqual(emulated.programs[0] && { program: emulated.programs[0].program, mode: emulated.programs[0].mode }, { program: cc1, mode: 'emulated' });
    assert.ok(emulated.totalCpuSeconds >= (emulated.programs[0]?.cpuSeconds ?? Infinity));
    const accelerated = await report(true);
    const row = accelerated.programs.find((entry) => entry.program === cc1);
    assert.equal(row?.mode, 'native', JSON.stringify(accelerated.programs));
    assert.ok(!accelerated.programs.some((entry) => entry.program === cc1 && entry.mode === 'emulated'));
  });

  it('--profile attributes processes shorter than its interval, by name, from their exit records: emulated uname, native twins', async () => {
    const file = join(work, 'profile-short.json');
    const script = 'for i in $(seq 40); do /usr/bin/uname -m >/dev/null; /usr/bin/basename /a/b >/dev/null; done';
    const run = await inRoot(true, script, ['--profile-json', file]);
    assert.equal(run.exitCode, 0, run.stderr);
    const report = JSON.parse(readFileSync(file, 'utf8')) as ProfileReport;
    const row = (program: string): ProfileReport['programs'][number] | undefined => report.programs.find((entry) => entry.program === program);
    // uname reports the machine: the policy keeps it emulated, so each of its 40 processes shows as emulated.
    assert.deepEqual([row('/usr/bin/uname')?.mode, row('/usr/bin/uname')?.processes], ['emulated', 40], JSON.stringify(report.programs));
    const basenameTwin = facts.plan.twins.some((twin) => twin.program === '/usr/bin/basename' && twin.status === 'substituted');
    assert.deepEqual([row('/usr/bin/basename')?.mode, row('/usr/bin/basename')?.processes], [basenameTwin ? 'native' : 'emulated', 40]);
    assert.ok(report.shortProcesses !== null && report.shortProcesses >= 40, `short processes: ${String(report.shortProcesses)}`);
    assert.equal(report.unsampledCpuSeconds, 0);
    const attributed = report.programs.reduce((sum, entry) => sum + entry.cpuSeconds, 0);
    assert.ok(Math.abs(attributed - report.totalCpuSeconds) <= 0.01 * report.programs.length + 0.01, `${String(attributed)} of ${String(report.totalCpuSeconds)}`);
  });

  it('SIGKILL of crossroot during an accelerated run: no mount, no scratch directory, no placeholder, no process left', async () => {
    let pid = 0;
    const running = runProcess(cliCommand(['run', root, '--accelerate', '--', 'sh', '-c', 'ls /lib64 && sleep 60']), {
      timeoutMs: 120_000, onSpawn: (spawned) => { pid = spawned; },
    });
    const deadline = Date.now() + 60_000;
    while (readdirSync('/proc').every((name) => !/^\d+$/.test(name) || !isSleepIn(name, root)) && Date.now() < deadline) await sleep(100);
    process.kill(pid, 'SIGKILL');
    await running;
    await sleep(2000); // stage 2 cleans up after crossroot's death
    assert.deepEqual(mountsMentioning(root), []);
    assert.deepEqual(mountsMentioning('crossroot-accel-'), []);
    assert.deepEqual(leftScratchDirs(), []);
    assert.ok(!readdirSync('/proc').some((name) => /^\d+$/.test(name) && isSleepIn(name, root)), 'no process left');
  });

  it('`crossroot accelerate ROOT --json` reports the plan', async () => {
    const { code, json } = await runCliJson<AccelerationFacts>(['accelerate', root, '--no-create']);
    assert.equal(code, 0);
    assert.equal(json.plan.source, 'tools-root');
    assert.ok(json.plan.tools.some((tool) => tool.tool === 'cc1' && tool.status === 'substituted'));
  });
});

/** Writes a tree: files (with content), links, and dpkg's status and .list files for the packages given. */
function writeTree(dir: string, files: Record<string, string>, packages: Record<string, { version: string; arch: string; files: string[] }>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    if (content.startsWith('->')) symlinkSync(content.slice(2), join(dir, path));
    else writeFileSync(join(dir, path), content);
  }
  mkdirSync(join(dir, 'var/lib/dpkg/info'), { recursive: true });
  const stanzas = Object.entries(packages).map(([name, pkg]) =>
    `Package: ${name}\nStatus: install ok installed\nArchitecture: ${pkg.arch}\nVersion: ${pkg.version}\nDescription: x\n more text\n`);
  writeFileSync(join(dir, 'var/lib/dpkg/status'), stanzas.join('\n'));
  for (const [name, pkg] of Object.entries(packages)) writeFileSync(join(dir, `var/lib/dpkg/info/${name}.list`), `/.\n${pkg.files.join('\n')}\n`);
}

describe('a mismatched compiler, from dpkg databases on disk (bookworm: gcc 12.2.0-14+deb12u1 vs cross 12.2.0-14cross1)', () => {
  it('leaves every gcc tool emulated and says why; matching as is substituted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossroot-accel-mismatch-'));
    try {
      const t = 'aarch64-linux-gnu';
      const gcc = `/usr/lib/gcc/${t}/12`;
      const cross = `/usr/lib/gcc-cross/${t}/12`;
      writeTree(join(dir, 'root'), {
        '/bin': '->usr/bin', '/lib': '->usr/lib', '/etc/os-release': 'VERSION_CODENAME=bookworm\n', '/var/lib/dpkg/arch': 'arm64\n',
        [`${gcc}/cc1`]: 'x', [`${gcc}/cc1plus`]: 'x', [`${gcc}/collect2`]: 'x', [`${gcc}/lto1`]: 'x', [`${gcc}/liblto_plugin.so`]: 'x',
        [`/usr/bin/${t}-as`]: 'x', '/usr/bin/as': `->${t}-as`, [`/usr/bin/${t}-ld.bfd`]: 'x', '/usr/bin/ld': `->${t}-ld.bfd`,
      }, {
        'cpp-12': { version: '12.2.0-14+deb12u1', arch: 'arm64', files: [`${gcc}/cc1`] },
        'g++-12': { version: '12.2.0-14+deb12u1', arch: 'arm64', files: [`${gcc}/cc1plus`] },
        'gcc-12': { version: '12.2.0-14+deb12u1', arch: 'arm64', files: [`${gcc}/collect2`, `${gcc}/lto1`, `${gcc}/liblto_plugin.so`] },
        [`binutils-${t}`]: { version: '2.40-2', arch: 'arm64', files: [`/usr/bin/${t}-as`, `/usr/bin/${t}-ld.bfd`] },
      });
      writeTree(join(dir, 'tools'), {
        '/lib64': '->usr/lib64', '/usr/lib64/ld-linux-x86-64.so.2': '->/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
        '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2': 'x',
        [`${cross}/cc1`]: 'x', [`${cross}/cc1plus`]: 'x', [`${cross}/collect2`]: 'x', [`${cross}/lto1`]: 'x', [`${cross}/liblto_plugin.so`]: 'x',
        [`/usr/bin/${t}-as`]: 'x', [`/usr/bin/${t}-ld.bfd`]: 'x',
      }, {
        [`cpp-12-${t}`]: { version: '12.2.0-14cross1', arch: 'amd64', files: [`${cross}/cc1`] },
        [`g++-12-${t}`]: { version: '12.2.0-14cross1', arch: 'amd64', files: [`${cross}/cc1plus`] },
        [`gcc-12-${t}`]: { version: '12.2.0-14cross1', arch: 'amd64', files: [`${cross}/collect2`, `${cross}/lto1`, `${cross}/liblto_plugin.so`] },
        [`binutils-${t}`]: { version: '2.40-2', arch: 'amd64', files: [`/usr/bin/${t}-as`, `/usr/bin/${t}-ld.bfd`] },
      });
      const facts = await planRootAcceleration(join(dir, 'root'), { toolsRoot: join(dir, 'tools'), useHost: false, createToolsRoot: false });
      assert.deepEqual(facts.identity, { debianArch: 'arm64', suite: 'bookworm' });
      const byTool = new Map(facts.plan.tools.map((tool) => [tool.tool, tool]));
      for (const tool of ['cc1', 'cc1plus', 'lto1', 'collect2', 'liblto_plugin.so'] as const) {
        assert.equal(byTool.get(tool)?.status, 'emulated', tool);
        assert.match(byTool.get(tool)?.reason ?? '', /version mismatch: root has '12\.2\.0-14\+deb12u1', native cross tool has '12\.2\.0-14cross1'/);
      }
      assert.equal(byTool.get('as')?.status, 'substituted');
      assert.deepEqual(byTool.get('as')?.rootPaths, [`/usr/bin/${t}-as`]);
      assert.equal(byTool.get('ld.bfd')?.status, 'emulated'); // the root's arm64 LTO plugin
      assert.ok(!facts.plan.mounts.some((mount) => mount.target.includes('/gcc/')));
      assert.ok(emulatedToolLines(facts.plan).some((line) => line.startsWith('cc1 (gcc 12), cc1plus (gcc 12)') && line.includes('version mismatch')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
