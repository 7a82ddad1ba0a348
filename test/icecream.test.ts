// `crossroot run --accelerate --icecream` end to end, on one machine: an
// icecc-scheduler and three iceccd helpers (Debian's icecc) in network
// namespaces made by test/support/icecream-cluster.ts, the client's run in
// another; the accelerated arm64 test root (trixie, gcc 14) builds the sqlite3
// amalgamation + shell and a C++ project with make -j8 and Debian's -g -O2
// flags through the cluster: every object and program is byte-identical to a
// local accelerated build (a -g3 job is kept local, and stderr says so),
// the scheduler's log shows jobs on at least two helpers, a helper killed
// mid-build still gives a successful, identical build (stderr says which jobs
// fell back), a scheduler that is not there gives a local build and a note;
// `doctor --icecream` counts the helpers and cores; `icecream-env` writes the
// tarball. Every namespace, process and directory made here is removed.
// Needs root, iproute2, icecc, qemu-user-static, mmdebstrap, npm (sqlite sources).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseRunDirName } from '../src/core/icecream/run-dir-name.ts';
import { runProcess } from '../src/runner/process/process.ts';
import { mountsUnder } from '../src/runner/host/mounts.ts';
import type { RunResult } from '../src/runner/process/process.ts';
import { ensureTestRoot } from './support/cached-roots.ts';
import { populateProject } from './support/sqlite-sources.ts';
import { helpersWithJobs, startCluster } from './support/icecream-cluster.ts';
import type { IcecreamCluster } from './support/icecream-cluster.ts';

const BIN = new URL('../src/cli/bin.ts', import.meta.url).pathname;
const TSX = import.meta.resolve('tsx');
const CROSSROOT = [process.execPath, '--import', TSX, BIN];
const UNITS = 8;
// Debian's flags for arm64 (dpkg-buildflags: -g -O2, the build path mapped, hardening), for C and C++.
const FLAGS = '-g -O2 -ffile-prefix-map=/tmp=. -fstack-protector-strong -fstack-clash-protection -Wformat -Werror=format-security -mbranch-protection=standard';
// And one job whose macro debug info (-g3) a helper cannot reproduce: the wrapper keeps it here.
const BUILD = `make -j8 CFLAGS='${FLAGS}' all units && make check && ./units && gcc -g3 -O2 -c minishell.c -o macros.o`;

/** A C++ project of UNITS translation units (each instantiating <map>, <string>, <sstream>), linked into ./units. */
function writeCxxProject(work: string): void {
  for (let i = 0; i < UNITS; i++) {
    writeFileSync(join(work, `unit${String(i)}.cpp`), [
      '#include <algorithm>', '#include <map>', '#include <sstream>', '#include <string>', '#include <vector>',
      `std::string unit${String(i)}(int n) {`,
      '  std::map<std::string, int> m; std::vector<int> v;',
      `  for (int k = 0; k < n; ++k) { m["k" + std::to_string(k % ${String(i + 3)})] += k; v.push_back(k * ${String(i + 1)}); }`,
      '  std::sort(v.rbegin(), v.rend()); std::ostringstream out;',
      `  out << "unit${String(i)} " << m.size() << " " << v.front();`,
      '  return out.str(); }',
      ...(i === 0 ? [
        '#include <iostream>',
        ...Array.from({ length: UNITS - 1 }, (_, k) => `std::string unit${String(k + 1)}(int);`),
        `int main() { std::cout << unit0(10)${Array.from({ length: UNITS - 1 }, (_, k) => ` << ' ' << unit${String(k + 1)}(10)`).join('')} << '\\n'; }`,
      ] : []),
      '',
    ].join('\n'));
  }
  writeFileSync(join(work, 'units.mk'), [
    'UNIT_OBJS = $(patsubst %.cpp,%.o,$(wildcard unit*.cpp))',
    'units: $(UNIT_OBJS)',
    '\t$(CXX) -o $@ $(UNIT_OBJS)',
    'unit%.o: unit%.cpp',
    '\t$(CXX) $(CFLAGS) -c $< -o $@',
    '',
  ].join('\n'));
  // The fixture's Makefile, with the C++ project included.
  writeFileSync(join(work, 'Makefile'), `${readFileSync(join(work, 'Makefile'), 'utf8')}\ninclude units.mk\n`);
}

/** Every object and program of a build, by name, with its bytes. */
function outputs(work: string): Map<string, Buffer> {
  const names = readdirSync(work).filter((name) => name.endsWith('.o') || ['minishell', 'selftest', 'units'].includes(name)).sort();
  return new Map(names.map((name) => [name, readFileSync(join(work, name))]));
}

function assertIdentical(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  assert.deepEqual([...actual.keys()], [...expected.keys()]);
  assert.ok(actual.size >= 3 + UNITS + 3, [...actual.keys()].join(' '));
  for (const [name, bytes] of expected) assert.ok(actual.get(name)?.equals(bytes), `${name} is byte-identical to the local accelerated build`);
}

describe('run --accelerate --icecream: a cluster of three helpers in network namespaces', { timeout: 90 * 60 * 1000 }, () => {
  let root = '';
  let cluster: IcecreamCluster;
  const works: string[] = [];
  let local = new Map<string, Buffer>();
  /** Run directories (core/icecream/run-dir-name.ts) already there: other users' runs, not this suite's. */
  const runDirs = (): string[] => readdirSync(tmpdir()).filter((name) => parseRunDirName(name) !== null);
  const runDirsBefore = new Set(runDirs());
  const subnet = 100 + (process.pid % 150);

  const project = async (): Promise<string> => {
    const work = mkdtempSync(join(tmpdir(), 'crossroot-icecream-test-'));
    works.push(work);
    await populateProject(work);
    writeCxxProject(work);
    return work;
  };
  /** `crossroot run ROOT --accelerate [--icecream S] --bind WORK:/tmp --workdir /tmp -- sh -c SCRIPT`, in the client's namespace. */
  const build = (work: string, scheduler: string | null, script = BUILD): Promise<RunResult> => runProcess(cluster.inClient([
    ...CROSSROOT, 'run', root, '--accelerate', ...(scheduler === null ? [] : ['--icecream', scheduler]),
    '--bind', `${work}:/tmp`, '--workdir', '/tmp', '--', 'sh', '-c', script,
  ]), { timeoutMs: 40 * 60 * 1000 });

  let netnsMountsBefore: string[] = [];
  before(async () => {
    root = await ensureTestRoot('arm64', { toolchain: true });
    netnsMountsBefore = mountsUnder('/run/netns');
    cluster = await startCluster({ helpers: 3, jobs: 2, subnet });
    const work = await project();
    const run = await build(work, null);
    assert.equal(run.exitCode, 0, run.stderr);
    local = outputs(work);
  });

  after(async () => {
    await cluster?.stop();
    for (const work of works) rmSync(work, { recursive: true, force: true });
    const netns = await runProcess(['ip', 'netns', 'list']);
    assert.doesNotMatch(netns.stdout, new RegExp(cluster?.prefix ?? 'crice'), 'every network namespace is removed');
    assert.deepEqual(mountsUnder('/run/netns'), netnsMountsBefore, "ip netns's own mount of /run/netns is gone as well");
    // The runs' host directories (crossroot-icecream-PID-START-XXXXXX) and this cluster's.
    const left = [...runDirs().filter((name) => !runDirsBefore.has(name)), ...readdirSync(tmpdir()).filter((name) => join(tmpdir(), name) === cluster?.dir)];
    assert.deepEqual(left, [], 'no run or cluster directory is left');
    const ps = await runProcess(['pgrep', '-a', 'icecc']);
    assert.doesNotMatch(ps.stdout, new RegExp(cluster?.dir ?? 'crossroot-icecream-cluster'), 'no scheduler or helper is left');
  });

  it('builds sqlite3 + shell + a C++ project through the cluster: identical objects, jobs on at least two helpers', async () => {
    const work = await project();
    const run = await build(work, cluster.scheduler);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /unit0 3 9 unit1 4 18/);
    assert.doesNotMatch(run.stderr, /fell back|unreachable|did not reach/);
    assert.match(run.stderr, /crossroot: icecream: 1 compile job\(s\) compiled locally, accelerated, as a helper's object would differ: 'macro debug info \(-g3\)'/);
    assertIdentical(outputs(work), local);
    const jobs = helpersWithJobs(cluster.schedulerLog);
    const helpers = [...jobs.keys()].filter((name) => name.startsWith('helper'));
    assert.ok(helpers.length >= 2, `jobs per server in the scheduler's log: ${JSON.stringify([...jobs])}`);
  });

  it('a helper killed mid-build: the build succeeds with identical objects, and stderr says which jobs fell back', async () => {
    const work = await project();
    const logged = readFileSync(cluster.schedulerLog, 'utf8').length;
    const running = build(work, cluster.scheduler);
    // The helper that got sqlite3.c (the longest job): killed while it compiles.
    let victim: string | undefined;
    const deadline = Date.now() + 20 * 60 * 1000;
    while (victim === undefined && Date.now() < deadline) {
      const text = readFileSync(cluster.schedulerLog, 'utf8').slice(logged);
      const id = /NEW (\d+) .*\/tmp\/sqlite3\.c C /.exec(text)?.[1];
      if (id !== undefined) victim = new RegExp(`BEGIN: ${id} .* server=(helper\\d)`).exec(text)?.[1];
      await sleep(200);
    }
    assert.ok(victim !== undefined, 'sqlite3.c went to a helper');
    const helper = cluster.helpers.find((candidate) => candidate.name === victim);
    assert.ok(helper !== undefined);
    await cluster.killHelper(helper);
    const run = await running;
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, /crossroot: icecream: \d+ compile job\(s\) fell back to local accelerated compiles/);
    assertIdentical(outputs(work), local);
  });

  it('a scheduler that is not there: a local accelerated build, identical, and a note on stderr', async () => {
    const work = await project();
    const run = await build(work, `10.213.${String(subnet)}.250`, `make -j8 CFLAGS='${FLAGS}' minishell.o selftest.o unit1.o unit2.o`);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, /crossroot: icecream: scheduler '10\.213\.\d+\.250:8765' is unreachable/);
    for (const name of ['minishell.o', 'selftest.o', 'unit1.o', 'unit2.o']) {
      assert.ok(readFileSync(join(work, name)).equals(local.get(name) ?? Buffer.alloc(0)), name);
    }
  });

  it('doctor --icecream: the scheduler is reachable and offers the live helpers and their cores', async () => {
    const run = await runProcess(cluster.inClient([...CROSSROOT, 'doctor', '--icecream', cluster.scheduler, '--json']), { timeoutMs: 120_000 });
    const report = JSON.parse(run.stdout) as { checks: { id: string; ok: boolean; message: string }[] };
    const check = report.checks.find((entry) => entry.id === 'icecream-scheduler');
    assert.equal(check?.ok, true, run.stdout);
    // One helper was killed above: two are left, with two job slots each.
    assert.match(check?.message ?? '', /offers 2 helper\(s\) with 4 job slot\(s\)/);
    const gone = await runProcess(cluster.inClient([...CROSSROOT, 'doctor', '--icecream', `10.213.${String(subnet)}.250`, '--json']), { timeoutMs: 120_000 });
    assert.equal(gone.exitCode, 1);
    assert.equal((JSON.parse(gone.stdout) as typeof report).checks.find((entry) => entry.id === 'icecream-scheduler')?.ok, false);
  });

  it('icecream-env ROOT --output FILE: the tarball the runs hand to the cluster, the same bytes each time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossroot-icecream-env-'));
    works.push(dir);
    const first = await runProcess([...CROSSROOT, 'icecream-env', root, '--output', join(dir, 'a.tar.gz'), '--json']);
    assert.equal(first.exitCode, 0, first.stderr);
    const second = await runProcess([...CROSSROOT, 'icecream-env', root, '--output', join(dir, 'b.tar.gz')]);
    assert.equal(second.exitCode, 0, second.stderr);
    assert.ok(readFileSync(join(dir, 'a.tar.gz')).equals(readFileSync(join(dir, 'b.tar.gz'))));
    const report = JSON.parse(first.stdout) as { triplet: string; gccMajor: string; icecc_version: string };
    assert.equal(report.icecc_version, `x86_64:${join(dir, 'a.tar.gz')}=aarch64-linux-gnu`);
    const list = await runProcess(['tar', 'tzf', join(dir, 'a.tar.gz')]);
    for (const path of ['usr/bin/gcc', 'usr/bin/g++', 'usr/libexec/gcc-cross/aarch64-linux-gnu/14/cc1plus', 'usr/aarch64-linux-gnu/bin/as', 'lib64/ld-linux-x86-64.so.2']) {
      assert.ok(list.stdout.split('\n').includes(path), path);
    }
  });
});
