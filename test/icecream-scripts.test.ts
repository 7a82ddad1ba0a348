// The icecream environment's driver and assembler scripts (core/icecream/
// toolchain-env.ts) run by the host's /bin/sh around the host's own gcc, the
// way a helper's iceccd runs them: `gcc -x c FLAGS -fdirectives-only
// -fpreprocessed - -o FILE --param ggc-min-expand=N --param ggc-min-heapsize=N`
// on icecc's `-E -fdirectives-only` output. With `-g -O2` (and Debian's
// hardening flags, -pipe, -S, C++) the result is byte-identical to a plain
// local compile; the same compile without the scripts' fix is not (its
// .debug_str has the producer string elsewhere). Needs gcc and g++.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../src/runner/process/process.ts';
import { DIRECTIVES_ONLY, FILLER_SWITCH, fillerFor, fillerShell } from '../src/core/icecream/producer-order.ts';
import { assemblerScript, driverScript } from '../src/core/icecream/toolchain-env.ts';
import { driverWrapper, fallbackLines, summarizeClientLog } from '../src/core/icecream/icecream-plan.ts';

const C_SOURCE = [
  '#include <stdio.h>',
  '#define MAX(a, b) ((a) > (b) ? (a) : (b))',
  'struct point { int x;   int y; };',
  'static int  twice(int v)   { return 2 * v; }',
  'int main(int argc, char **argv) {',
  '  int a = MAX(argc, 3);   int b = twice(a);',
  '  struct point p = { a,  b };',
  '  printf("%d %d %s\\n", p.x, p.y, argv[0]);  return 0;',
  '}',
  '',
].join('\n');
const CXX_SOURCE = [
  '#include <map>', '#include <sstream>', '#include <string>',
  'std::string unit(int n) { std::map<std::string, int> m; std::ostringstream out;',
  '  for (int k = 0; k < n; ++k) m["k" + std::to_string(k % 3)] += k;',
  '  out << m.size(); return out.str(); }',
  '',
].join('\n');
const DEBIAN = ['-g', '-O2', '-ffile-prefix-map=/nonexistent=.', '-fstack-protector-strong', '-fstack-clash-protection', '-Wformat', '-Werror=format-security'];

describe('icecream environment scripts around the host gcc', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'crossroot-icecream-scripts-'));
    writeFileSync(join(dir, 'x.c'), C_SOURCE);
    writeFileSync(join(dir, 'u.cpp'), CXX_SOURCE);
    // As in the environment: the drivers are scripts over the real ones, gcc finds the assembler first in -B.
    writeFileSync(join(dir, 'gcc'), driverScript('/usr/bin/gcc'), { mode: 0o755 });
    writeFileSync(join(dir, 'g++'), driverScript('/usr/bin/g++'), { mode: 0o755 });
    writeFileSync(join(dir, 'as'), assemblerScript('/usr/bin/as'), { mode: 0o755 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (argv: string[], stdin?: string): Promise<void> => {
    const result = await runProcess(argv, { cwd: dir, ...(stdin === undefined ? {} : { input: readFileSync(join(dir, stdin)) }) });
    assert.equal(result.exitCode, 0, `${argv.join(' ')}: ${result.stderr}`);
  };
  /** icecc's two halves: local `-E -fdirectives-only`, then the helper's command line on it. */
  const remote = async (driver: string, source: string, flags: string[], output: string, extra: string[] = [], wrapped = true): Promise<Buffer> => {
    const language = source.endsWith('.cpp') ? 'c++' : 'c';
    await run([`/usr/bin/${driver}`, ...flags, '-E', '-fdirectives-only', source, '-o', `${output}.i`]);
    await run([wrapped ? join(dir, driver) : `/usr/bin/${driver}`, `-B${dir}/`, '-x', language, ...flags, ...extra, '-c', DIRECTIVES_ONLY.trim(), '-fpreprocessed', '-', '-o', output,
      // iceccd's garbage collector tuning, which the unwrapped driver would record.
      ...(wrapped ? ['--param', 'ggc-min-expand=100', '--param', 'ggc-min-heapsize=131072'] : [])], `${output}.i`);
    return readFileSync(join(dir, output));
  };
  const local = async (driver: string, source: string, flags: string[], output: string): Promise<Buffer> => {
    await run([`/usr/bin/${driver}`, ...flags, '-c', source, '-o', output]);
    return readFileSync(join(dir, output));
  };

  it('a helper compile of the C source with -g -O2 and Debian\'s flags equals the local compile', async () => {
    const expected = await local('gcc', 'x.c', DEBIAN, 'x-local.o');
    assert.ok((await remote('gcc', 'x.c', DEBIAN, 'x-remote.o')).equals(expected));
    assert.ok((await remote('gcc', 'x.c', DEBIAN, 'x-pipe.o', ['-pipe'])).equals(expected), 'with -pipe (the assembler reads stdin)');
  });

  it('so does a compile whose producer string is longer than 256 bytes (gcc writes it in pieces)', async () => {
    const flags = [...DEBIAN, '-fno-omit-frame-pointer', '-fno-strict-aliasing', '-fwrapv', '-fno-delete-null-pointer-checks', '-fno-common',
      '-fvisibility=hidden', '-ffunction-sections', '-fdata-sections', '-fno-plt', '-fexceptions', '-fsigned-char', '-fno-semantic-interposition'];
    assert.ok((await remote('gcc', 'x.c', flags, 'long-remote.o')).equals(await local('gcc', 'x.c', flags, 'long-local.o')));
  });

  it('so does a C++ compile, and one with other debug options', async () => {
    assert.ok((await remote('g++', 'u.cpp', DEBIAN, 'u-remote.o')).equals(await local('g++', 'u.cpp', DEBIAN, 'u-local.o')));
    const flags = ['-gdwarf-4', '-O1', '-std=gnu99'];
    assert.ok((await remote('gcc', 'x.c', flags, 'x4-remote.o')).equals(await local('gcc', 'x.c', flags, 'x4-local.o')));
  });

  it('without the driver\'s filler switch the object differs: the producer string has the text but not the place', async () => {
    const expected = await local('gcc', 'x.c', ['-g', '-O2'], 'y-local.o');
    const plain = await remote('gcc', 'x.c', ['-g', '-O2'], 'y-plain.o', [], false);
    assert.equal(plain.length, expected.length);
    assert.ok(!plain.equals(expected));
  });

  it('-S on a helper gives the assembly of the local compile', async () => {
    await run(['/usr/bin/gcc', '-g', '-O2', '-S', 'x.c', '-o', 'x-local.s']);
    await run(['/usr/bin/gcc', '-g', '-O2', '-E', '-fdirectives-only', 'x.c', '-o', 's.i']);
    await run([join(dir, 'gcc'), '-x', 'c', '-g', '-O2', '-S', DIRECTIVES_ONLY.trim(), '-fpreprocessed', '-', '-o', 'x-remote.s'], 's.i');
    assert.equal(readFileSync(join(dir, 'x-remote.s'), 'utf8'), readFileSync(join(dir, 'x-local.s'), 'utf8'));
  });

  it('the shell filler is the TypeScript one', async () => {
    const script = join(dir, 'filler.sh');
    writeFileSync(script, [...fillerShell(), 'crossroot_filler "$1" && printf "%s" "$filler"', ''].join('\n'));
    for (const prefix of ['GNU C17 14.2.0 -mlittle-endian -mabi=lp64 -g -O2', 'GNU C++17 12.2.0 -mtune=generic -march=x86-64 -g', '', 'a\'b"c*?[x] $HOME `']) {
      const result = await runProcess(['sh', script, prefix]);
      assert.equal(result.exitCode, 0, result.stderr);
      assert.equal(result.stdout, fillerFor(prefix), prefix);
      assert.ok(result.stdout.length === 7 && !result.stdout.includes(' '), FILLER_SWITCH + result.stdout);
    }
  });

  it('the root\'s wrapper keeps here the jobs a helper cannot make identical, and logs why', async () => {
    // A fake run directory: the "loader" says the job went to icecc, the "original driver" that it stayed.
    const runDir = join(dir, 'run');
    await run(['mkdir', '-p', join(runDir, 'lib')]);
    writeFileSync(join(runDir, 'lib/ld-linux-x86-64.so.2'), '#!/bin/sh\necho icecc\n', { mode: 0o755 });
    writeFileSync(join(dir, 'original'), '#!/bin/sh\necho here\n', { mode: 0o755 });
    writeFileSync(join(dir, 'wrapper'), driverWrapper(join(dir, 'original'), runDir), { mode: 0o755 });
    const log = join(dir, 'client.log');
    const where = async (args: string[], env: Record<string, string> = {}): Promise<string> => {
      const result = await runProcess([join(dir, 'wrapper'), ...args], { env: { PATH: '/usr/bin:/bin', ICECC_LOGFILE: log, ...env } });
      assert.equal(result.exitCode, 0, result.stderr);
      return result.stdout.trim();
    };
    const cases: [string[], string][] = [
      [['-g', '-O2', '-c', 'x.c'], 'icecc'],
      [['-O2', '-ffile-prefix-map=/b=.', '-fstack-protector-strong', '-g', '-c', 'x.c', '-o', 'x.o'], 'icecc'],
      [['-g3', '-c', 'x.c'], 'here'],
      [['-ggdb3', '-g', '-c', 'x.c'], 'here'],
      [['-g3', '-g0', '-c', 'x.c'], 'icecc'],
      [['-g3', '-o', 'x', 'x.o'], 'icecc'],
      [['-g', '-gsplit-dwarf', '-c', 'x.c'], 'here'],
      [['-gsplit-dwarf', '-c', 'x.c'], 'icecc'],
      [['-O2', '-flto=auto', '-c', 'x.c'], 'here'],
      [['-flto', '-fno-lto', '-c', 'x.c'], 'icecc'],
      [['-g', '-pedantic', '-c', 'x.c'], 'here'],
      [['-g', '-Wpedantic', '-std=gnu11', '-c', 'x.c'], 'here'],
      [['-g', '-pedantic', '-std=c11', '-c', 'x.c'], 'icecc'],
      [['-pedantic', '-c', 'x.c'], 'icecc'],
      [['-g', '-Wunused-macros', '-c', 'x.c'], 'here'],
      [['-g', '-Wunused-macros', '-Wno-unused-macros', '-c', 'x.c'], 'icecc'],
    ];
    for (const [args, expected] of cases) assert.equal(await where(args), expected, args.join(' '));
    assert.equal(await where(['-g', '-c', 'x.c'], { ICECC_REMOTE_CPP: '0' }), 'here');
    assert.equal(await where(['-g', '-c', 'x.c'], { ICECC_REMOTE_CPP: '1' }), 'icecc');
    const summary = summarizeClientLog(readFileSync(log, 'utf8'));
    assert.equal(summary.localJobs, 0);
    assert.equal(summary.keptJobs, 8);
    assert.deepEqual(fallbackLines(summary), [
      "8 compile job(s) compiled locally, accelerated, as a helper's object would differ: 'macro debug info (-g3)', 'split debug info (-gsplit-dwarf)', 'LTO (-flto)' and 1 more",
    ]);
  });
});
