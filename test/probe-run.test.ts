// Probe runs against the real kernel, in a PRIVATE binfmt_misc instance
// (Linux >= 6.7; the host's entries are never touched). Needs util-linux
// (unshare), coreutils (chroot), qemu-user-static, gcc (the harness's
// exec-probe): installed by .ci/run.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archByName, isArchName } from '../src/core/arch/arch.ts';
import { buildProbeElf, PROBE_ARCHES } from '../src/core/probe/probe-elf.ts';
import { CrossrootError } from '../src/core/errors.ts';
import { errnoFromToolMessage, probePlan, runProbe, writeProbe, type ProbeMode, type ProbeResult } from '../src/runner/binfmt/probe-run.ts';
import { runPrivate, type PrivateOp } from './support/private-binfmt.ts';

const work = mkdtempSync(join(tmpdir(), 'crossroot-test-probe-run-'));
after(() => rmSync(work, { recursive: true, force: true }));

const EMULATOR = '/usr/bin/qemu-aarch64-static';
const aarch64 = archByName('aarch64');
const ruleFor = (flags: string, interpreter = EMULATOR): string =>
  `:qemu-aarch64:M::${aarch64.magicText}:${aarch64.maskText}:${interpreter}:${flags}\n`;

const HOST_ARCH: Partial<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

describe('probePlan', () => {
  it('plans a direct exec and a chroot into the empty root in a new mount namespace', () => {
    const plan = probePlan({ probePath: '/tmp/d/probe', rootDir: '/tmp/d', probeInRoot: '/probe', asRoot: true });
    assert.deepEqual(plan.direct, ['/tmp/d/probe']);
    assert.deepEqual(plan.emptyRoot, ['unshare', '--mount', '--propagation', 'private', '--', 'chroot', '/tmp/d', '/probe']);
  });

  it('adds a user namespace mapped to root when the caller is not root', () => {
    const plan = probePlan({ probePath: '/w/p', rootDir: '/w', probeInRoot: '/p', asRoot: false });
    assert.deepEqual(plan.emptyRoot,
      ['unshare', '--user', '--map-root-user', '--mount', '--propagation', 'private', '--', 'chroot', '/w', '/p']);
    assert.deepEqual(plan.direct, ['/w/p']);
  });
});

describe('errnoFromToolMessage', () => {
  const cases: readonly [string, string | undefined][] = [
    ["chroot: failed to run command '/probe': No such file or directory\n", 'ENOENT'],
    ['chroot: failed to run command \u2018/probe\u2019: Permission denied\n', 'EACCES'],
    ["chroot: failed to run command '/probe': Exec format error\n", 'ENOEXEC'],
    ["chroot: cannot change root directory to '/x': Operation not permitted\n", 'EPERM'],
    ['unshare: unshare failed: Operation not permitted\n', 'EPERM'],
    ['qemu: uncaught target signal 11 (Segmentation fault) - core dumped\n', undefined],
    ["chroot: failed to run command '/probe': Something new\n", undefined],
    ['', undefined],
  ];
  for (const [stderr, errno] of cases) {
    it(`${JSON.stringify(stderr)} -> ${errno}`, () => assert.equal(errnoFromToolMessage(stderr), errno));
  }
});

describe('writeProbe', () => {
  it('writes the probe bytes with mode 0755 even under umask 077', () => {
    const dir = mkdtempSync(join(work, 'write-'));
    const old = process.umask(0o077);
    let path: string;
    try {
      path = writeProbe(dir, 'riscv64', 9);
    } finally {
      process.umask(old);
    }
    assert.equal(path, join(dir, 'probe'));
    assert.equal(statSync(path).mode & 0o7777, 0o755);
    assert.deepEqual(new Uint8Array(readFileSync(path)), buildProbeElf('riscv64', 9));
  });

  it('refuses an existing file, a symlink and a dangling symlink at the destination', () => {
    const dir = mkdtempSync(join(work, 'refuse-'));
    writeFileSync(join(dir, 'taken'), 'keep me');
    symlinkSync(join(dir, 'taken'), join(dir, 'link'));
    symlinkSync(join(dir, 'would-be-created'), join(dir, 'dangling'));
    for (const name of ['taken', 'link', 'dangling']) {
      assert.throws(() => writeProbe(dir, 'arm', 1, name), (error: unknown) => error instanceof CrossrootError && error.code === 'IO', name);
    }
    assert.equal(readFileSync(join(dir, 'taken'), 'utf8'), 'keep me');
    assert.equal(existsSync(join(dir, 'would-be-created')), false, 'the symlink was not followed');
    assert.ok(lstatSync(join(dir, 'dangling')).isSymbolicLink());
  });

  it('refuses names that are not plain file names, and unknown architectures', () => {
    const dir = mkdtempSync(join(work, 'names-'));
    for (const name of ['', '.', '..', 'a/b', '../x']) {
      assert.throws(() => writeProbe(dir, 'arm', 1, name), (error: unknown) => error instanceof CrossrootError && error.code === 'IO', name);
    }
    assert.throws(() => writeProbe(dir, 'vax', 1), (error: unknown) => error instanceof CrossrootError && error.code === 'UNKNOWN_ARCH');
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe('the kernel runs the aarch64 probe through a private binfmt_misc entry (raw execve)', () => {
  it('with F: directly and chrooted into an empty root; without F only directly; with no entry: ENOEXEC', async (t) => {
    if (!existsSync(EMULATOR)) {
      t.skip(`${EMULATOR} is not installed`);
      return;
    }
    const root = mkdtempSync(join(work, 'root-'));
    const probe = writeProbe(root, 'aarch64', 42);
    assert.deepEqual(readdirSync(root), ['probe'], 'the root holds only the probe');
    const results = await runPrivate([
      { op: 'register', data: ruleFor('F') },
      { op: 'exec', path: probe, argv: ['probe'] },
      { op: 'exec', path: '/probe', argv: ['probe'], chroot: root },
      { op: 'write', name: 'qemu-aarch64', data: '-1' },
      { op: 'register', data: ruleFor('') },
      { op: 'exec', path: probe, argv: ['probe'] },
      { op: 'exec', path: '/probe', argv: ['probe'], chroot: root },
      { op: 'write', name: 'qemu-aarch64', data: '-1' },
      { op: 'exec', path: probe, argv: ['probe'] },
      { op: 'exec', path: '/probe', argv: ['probe'], chroot: root },
    ]);
    const [regF, directF, chrootF, removeF, regPlain, directPlain, chrootPlain, removePlain, directNone, chrootNone] = results;
    assert.equal(regF?.errno, null);
    assert.equal(directF?.errno, null);
    assert.equal(directF?.exitCode, 42, directF?.stderr);
    assert.equal(chrootF?.errno, null);
    assert.equal(chrootF?.exitCode, 42, chrootF?.stderr);
    assert.equal(removeF?.errno, null);
    assert.equal(regPlain?.errno, null);
    assert.equal(directPlain?.exitCode, 42, directPlain?.stderr);
    assert.equal(chrootPlain?.errno, 'ENOENT', 'without F the kernel looks for the emulator inside the root');
    assert.equal(removePlain?.errno, null);
    assert.equal(directNone?.errno, 'ENOEXEC');
    assert.equal(chrootNone?.errno, 'ENOEXEC');
  });
});

/** Runs steps inside a private instance, calling crossroot's runProbe there. */
async function runProbeSteps(steps: readonly WorkerStep[]): Promise<WorkerResult[]> {
  const tempParent = mkdtempSync(join(work, 'probes-'));
  const ops = steps.map((step): PrivateOp => {
    switch (step.step) {
      case 'register': return { op: 'register', data: step.data };
      case 'remove': return { op: 'write', name: step.name, data: '-1' };
      case 'probe': return { op: 'call', module: 'src/runner/binfmt/probe-run.ts', name: 'runProbe', args: [step.arch, step.mode, { asRoot: step.asRoot, status: step.status, tempParent }] };
    }
  });
  const results = await runPrivate(ops);
  assert.deepEqual(readdirSync(tempParent), [], 'runProbe removed its directories');
  return results.map((result, index): WorkerResult => {
    const step = steps[index];
    if (step?.step === 'probe') return { step: 'probe', result: result.value as ProbeResult };
    return { step: step?.step === 'remove' ? 'remove' : 'register', errno: result.errno };
  });
}

type WorkerStep =
  | { readonly step: 'register'; readonly data: string }
  | { readonly step: 'remove'; readonly name: string }
  | { readonly step: 'probe'; readonly arch: string; readonly mode: ProbeMode; readonly asRoot: boolean; readonly status: number };

type WorkerResult =
  | { readonly step: 'register' | 'remove'; readonly errno: string | null }
  | { readonly step: 'probe'; readonly result: ProbeResult };

function probeResults(results: readonly WorkerResult[]): ProbeResult[] {
  return results.flatMap((result) => (result.step === 'probe' ? [result.result] : []));
}

describe('runProbe in a private binfmt_misc instance', () => {
  it('reports ok, ENOENT and ENOEXEC as the entry allows', async (t) => {
    if (!existsSync(EMULATOR)) {
      t.skip(`${EMULATOR} is not installed`);
      return;
    }
    const probe = (mode: 'direct' | 'empty-root', asRoot: boolean, status: number): WorkerStep =>
      ({ step: 'probe', arch: 'aarch64', mode, asRoot, status });
    const results = await runProbeSteps([
      { step: 'register', data: ruleFor('F') },
      probe('direct', true, 42), probe('empty-root', true, 7), probe('empty-root', false, 42),
      { step: 'remove', name: 'qemu-aarch64' },
      { step: 'register', data: ruleFor('') },
      probe('direct', true, 42), probe('empty-root', true, 42), probe('empty-root', false, 42),
      { step: 'remove', name: 'qemu-aarch64' },
      probe('direct', true, 42), probe('empty-root', true, 42),
      { step: 'register', data: ruleFor('', '/nonexistent/qemu-aarch64-static') },
      probe('direct', true, 42),
    ]);
    for (const result of results) {
      if (result.step !== 'probe') assert.equal(result.errno, null, `${result.step} succeeded`);
    }
    const [
      withF, withFRoot, withFUserns,
      plain, plainRoot, plainUserns,
      none, noneRoot,
      missing,
    ] = probeResults(results);

    for (const result of [withF, withFRoot, withFUserns, plain]) {
      assert.equal(result?.ok, true, JSON.stringify(result));
      assert.equal(result?.errno, undefined);
      assert.equal(result?.exitCode, result?.expectedStatus);
    }
    assert.equal(withFRoot?.exitCode, 7, 'the status is the one asked for');
    assert.equal(withF?.mode, 'direct');
    assert.equal(withFRoot?.mode, 'empty-root');
    assert.deepEqual(withFUserns?.argv.slice(0, 3), ['unshare', '--user', '--map-root-user']);

    for (const result of [plainRoot, plainUserns]) {
      assert.equal(result?.ok, false);
      assert.equal(result?.errno, 'ENOENT', 'without F the emulator is looked up inside the empty root');
      assert.equal(result?.exitCode, 127);
    }

    assert.equal(none?.ok, false);
    assert.equal(none?.errno, 'ENOEXEC', JSON.stringify(none));
    assert.equal(none?.errnoInferred, true, 'seen through execvp\'s /bin/sh fallback');
    // In the empty root the /bin/sh fallback itself is missing: ENOEXEC shows as ENOENT there.
    assert.equal(noneRoot?.errno, 'ENOENT');

    assert.equal(missing?.ok, false);
    assert.equal(missing?.errno, 'ENOENT', 'a missing interpreter comes back from spawn');
    assert.equal(missing?.errnoInferred, undefined);
    assert.equal(missing?.exitCode, null);
  });
});

describe('every probe through its catalog entry (flag F) in a private instance', () => {
  // The host's own family is left out: an entry for it would send the host's programs (node, unshare) to QEMU.
  const hostArch = HOST_ARCH[process.arch];
  const hostFamily = hostArch !== undefined && isArchName(hostArch) ? archByName(hostArch).family : undefined;
  const foreign = PROBE_ARCHES.filter((arch) => archByName(arch).family !== hostFamily && existsSync(`/usr/bin/qemu-${arch}-static`));

  it('runs directly and in an empty root, for at least 25 architectures', async () => {
    assert.ok(foreign.length >= 25, `only ${foreign.length} emulators installed: ${foreign.join(', ')}`);
    const steps: WorkerStep[] = [];
    for (const arch of foreign) {
      const entry = archByName(arch);
      steps.push({ step: 'register', data: `:qemu-${arch}:M::${entry.magicText}:${entry.maskText}:/usr/bin/qemu-${arch}-static:F\n` });
    }
    for (const arch of foreign) {
      steps.push({ step: 'probe', arch, mode: 'direct', asRoot: true, status: 42 });
      steps.push({ step: 'probe', arch, mode: 'empty-root', asRoot: true, status: 7 });
    }
    const results = await runProbeSteps(steps);
    for (const result of results) {
      if (result.step !== 'probe') assert.equal(result.errno, null, 'registered');
    }
    const probes = probeResults(results);
    assert.equal(probes.length, foreign.length * 2);
    const failed = probes.filter((result) => !result.ok)
      .map((result) => `${result.arch}/${result.mode}: exit ${result.exitCode} ${result.errno ?? ''} ${result.stderr.slice(0, 200)}`);
    assert.deepEqual(failed, []);
  });
});

describe('runProbe on the host', () => {
  const hostArch = HOST_ARCH[process.arch];
  it(`runs the host's own probe directly (${hostArch ?? process.arch})`, async (t) => {
    if (hostArch === undefined) {
      t.skip(`no probe mapping for host '${process.arch}'`);
      return;
    }
    const result = await runProbe(hostArch, 'direct', { status: 99, tempParent: work });
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.equal(result.exitCode, 99);
    assert.equal(result.signal, null);
  });

  it('rejects an unknown architecture before creating anything', async () => {
    const parent = mkdtempSync(join(work, 'unknown-'));
    await assert.rejects(runProbe('vax', 'direct', { tempParent: parent }),
      (error: unknown) => error instanceof CrossrootError && error.code === 'UNKNOWN_ARCH');
    assert.deepEqual(readdirSync(parent), []);
  });
});
