// binfmt install / uninstall / export against a real kernel, in PRIVATE binfmt_misc instances
// (test/support/private-binfmt.ts): the host's registrations are never touched (asserted at the end).
// Needs: qemu-user-static (static emulators in /usr/bin), util-linux unshare/mount, Linux >= 6.7,
// gcc + libc6-dev (harness probes) and the Debian busybox-static trees (test/support/debian-packages.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPrivate } from './support/private-binfmt.ts';
import type { OpResult, PrivateOp } from './support/private-binfmt.ts';
import { debianPackageRoot, ensureDebianPackages } from './support/debian-packages.ts';
import { runProcess } from '../src/runner/process/process.ts';
import { writeProbe } from '../src/runner/binfmt/probe-run.ts';
import { findEmulators } from '../src/runner/host/emulators.ts';
import { parseEntryText, parseRegisterString, renderEntryText, toHex } from '../src/core/binfmt/rule.ts';
import { flagsToString } from '../src/core/binfmt/entry.ts';
import type { statusJson } from '../src/cli/render/binfmt.ts';
import { ARCHITECTURES } from '../src/core/arch/arch.ts';
import type { InstallReport } from '../src/runner/binfmt/install-entries.ts';

const here = dirname(fileURLToPath(import.meta.url));
const HOST_BINFMT = '/proc/sys/fs/binfmt_misc';

function hostSnapshot(): string {
  if (!existsSync(join(HOST_BINFMT, 'status'))) return 'not mounted';
  return readdirSync(HOST_BINFMT).sort().map((name) => `${name}\n${readFileSync(join(HOST_BINFMT, name), 'latin1')}`).join('\n');
}

const cli = (argv: string[]): PrivateOp => ({ op: 'cli', argv });
function json<T>(result: OpResult | undefined): T {
  assert.ok(result?.stdout !== undefined, 'no output');
  return JSON.parse(result.stdout) as T;
}

/** Architectures `install all` must register on this host: static emulator on disk, not run natively (x86_64, i386, i486 here). */
const NATIVE_HERE = ['x86_64', 'i386', 'i486'];
const expectedAll = findEmulators().filter((e) => e.static && !NATIVE_HERE.includes(e.arch)).map((e) => e.arch).sort();

const BUSYBOX_ARCHES = [
  { debian: 'arm64', uname: 'aarch64' }, { debian: 'armhf', uname: 'armv7l' }, { debian: 'ppc64el', uname: 'ppc64le' },
  { debian: 's390x', uname: 's390x' }, { debian: 'mips64el', uname: 'mips64' }, { debian: 'mipsel', uname: 'mips' },
  { debian: 'i386', uname: 'i686' },
];

let before_: string;
let work: string;

before(() => {
  before_ = hostSnapshot();
  work = mkdtempSync(join(tmpdir(), 'crossroot-install-test-'));
});

after(() => {
  rmSync(work, { recursive: true, force: true });
  assert.equal(hostSnapshot(), before_, 'the host\'s binfmt_misc registrations changed');
});

describe('binfmt install in a private instance', () => {
  it('install all registers every foreign static emulator, re-install is unchanged, status agrees with the files', async () => {
    assert.ok(expectedAll.length >= 20, `too few emulators found: ${expectedAll.join(', ')}`);
    const results = await runPrivate([
      { op: 'register', data: ':WSLInterop:M::MZ::/init:P' },
      cli(['binfmt', 'install', 'all', '--binfmt-dir', '{binfmt-dir}', '--json']),
      cli(['binfmt', 'install', 'all', '--binfmt-dir', '{binfmt-dir}', '--json']),
      { op: 'list' },
      ...expectedAll.map((arch): PrivateOp => ({ op: 'read', name: `crossroot-${arch}` })),
    ]);
    const [registered, first, second, list, ...reads] = results;
    assert.equal(registered?.errno, null);
    assert.equal(first?.exitCode, 0, first?.stderr);
    const report = json<InstallReport>(first);
    assert.equal(report.instance.namespace, 'private');
    assert.equal(report.native.method, 'probe');
    assert.deepEqual([...report.native.arches].sort(), [...NATIVE_HERE].sort());
    assert.deepEqual(report.results.map((r) => r.arch).sort(), expectedAll);
    assert.ok(report.results.every((r) => r.action === 'added'), JSON.stringify(report.results.filter((r) => r.action !== 'added')));
    assert.equal(second?.exitCode, 0, second?.stderr);
    assert.ok(json<InstallReport>(second).results.every((r) => r.action === 'unchanged'));
    assert.ok(list?.names?.includes('WSLInterop'));
    // Every entry file reads exactly as the register string the report printed.
    for (const [index, arch] of expectedAll.entries()) {
      const result = report.results.find((r) => r.arch === arch);
      const parsed = parseRegisterString(result?.registerString ?? '');
      assert.ok(parsed.ok);
      assert.equal(reads[index]?.text, renderEntryText(parsed.entry), arch);
      assert.match(reads[index]?.text ?? '', /^flags: POCF$/m, `${arch}: QEMU 7.2 honours P, so the default is POCF`);
    }
  });

  it('after install all, status agrees with every entry file field by field and every architecture works', async (t) => {
    const results = await runPrivate([
      cli(['binfmt', 'install', 'all', '--binfmt-dir', '{binfmt-dir}', '--json']),
      cli(['binfmt', 'status', '--binfmt-dir', '{binfmt-dir}', '--json']),
      cli(['binfmt', 'status', '--binfmt-dir', '{binfmt-dir}', '--json']),
      { op: 'list' },
      ...expectedAll.map((arch): PrivateOp => ({ op: 'read', name: `crossroot-${arch}` })),
    ]);
    const [install, firstStatus, statusRun, list, ...reads] = results;
    assert.equal(install?.exitCode, 0, install?.stderr);
    assert.deepEqual(json<InstallReport>(install).results.map((r) => [r.arch, r.action]).sort(), expectedAll.map((arch) => [arch, 'added']));
    t.diagnostic(`binfmt status with probes of ${String(expectedAll.length)} architectures: ${((firstStatus?.ms ?? NaN) / 1000).toFixed(2)} s first, ${((statusRun?.ms ?? NaN) / 1000).toFixed(2)} s second`);

    assert.equal(statusRun?.exitCode, 0, statusRun?.stdout);
    const status = json<ReturnType<typeof statusJson>>(statusRun);
    assert.equal(status.mounted, true);
    assert.equal(status.namespace, 'private');
    assert.equal('probed' in status && status.probed, true);
    const registered = list?.names?.filter((name) => name !== 'register' && name !== 'status') ?? [];
    assert.deepEqual(registered.sort(), expectedAll.map((arch) => `crossroot-${arch}`).sort(), 'install all registered exactly the foreign static emulators');
    assert.deepEqual(status.entries.map((entry) => entry.name).sort(), registered.sort(), 'status lists every entry of the instance');

    // Each entry, field by field, against its file under the instance.
    for (const [index, arch] of expectedAll.entries()) {
      const name = `crossroot-${arch}`;
      const read = reads[index];
      assert.equal(read?.errno, null, name);
      const kernel = parseEntryText(name, read?.text ?? '');
      const entry = status.entries.find((candidate) => candidate.name === name);
      assert.ok(entry, name);
      assert.equal(entry.enabled, kernel.enabled, `${name} enabled`);
      assert.equal(entry.type, kernel.type, `${name} type`);
      assert.equal(entry.type, 'magic', name);
      if (kernel.type !== 'magic') continue;
      assert.equal(entry.offset, kernel.offset, `${name} offset`);
      assert.equal(entry.magic, toHex(kernel.magic), `${name} magic`);
      assert.equal(entry.mask, kernel.mask === null ? null : toHex(kernel.mask), `${name} mask`);
      assert.equal(entry.extension, null, `${name} extension`);
      assert.equal(entry.interpreter, kernel.interpreter, `${name} interpreter`);
      assert.equal(entry.flags, flagsToString(kernel.flags), `${name} flags`);
      assert.equal(entry.owner, 'crossroot', name);
      assert.ok(entry.arches.includes(arch), `${name} matches ${arch} headers: ${entry.arches.join(',')}`);
      assert.deepEqual(
        [entry.health.interpreterExists, entry.health.interpreterStatic, entry.health.pinned, entry.health.probe, entry.health.reason],
        [true, true, true, 'ok', null], `${name} health`,
      );
    }

    // Every registered architecture works through its crossroot entry; the native ones need none.
    for (const arch of expectedAll) {
      const verdict = status.arches.find((candidate) => candidate.arch === arch);
      assert.deepEqual([verdict?.arch, verdict?.native, verdict?.handler, verdict?.works, verdict?.reason], [arch, false, `crossroot-${arch}`, true, null]);
    }
    for (const arch of NATIVE_HERE) {
      const verdict = status.arches.find((candidate) => candidate.arch === arch);
      assert.deepEqual([verdict?.native, verdict?.handler, verdict?.works], [true, null, true], arch);
    }
  });

  it('replaces a flag change without a single failed exec of a foreign program', async () => {
    const dir = mkdtempSync(join(work, 'loop-'));
    const probeDir = mkdtempSync(join(work, 'probe-'));
    const program = writeProbe(probeDir, 'aarch64', 42);
    const run = await runProcess([
      'unshare', '--user', '--map-root-user', '--mount', '--propagation', 'private', '--',
      process.execPath, '--import', 'tsx', join(here, 'support', 'replace-loop-worker.ts'),
    ], { input: JSON.stringify({ dir, arch: 'aarch64', program, expectedStatus: 42, firstFlags: 'F', secondFlags: 'POCF' }), timeoutMs: 120_000 });
    assert.equal(run.exitCode, 0, run.stderr);
    const outcome = JSON.parse(run.stdout) as {
      first: { code: number; stdout: string }; second: { code: number; stdout: string };
      loop: { runs: number; failureCount: number; failures: unknown[] }; entry: string;
    };
    assert.equal(outcome.first.code, 0);
    assert.equal(outcome.second.code, 0, outcome.second.stdout);
    const second = JSON.parse(outcome.second.stdout) as InstallReport;
    assert.equal(second.results[0]?.action, 'replaced');
    assert.ok(outcome.loop.runs >= 20, `the loop ran only ${outcome.loop.runs} times`);
    assert.equal(outcome.loop.failureCount, 0, JSON.stringify(outcome.loop.failures));
    assert.match(outcome.entry, /^flags: POCF$/m);
  });

  it('refuses the host architecture (exit 1) unless --force; reports a missing emulator per architecture', async () => {
    const emptyDir = mkdtempSync(join(work, 'no-emulators-'));
    const [refused, forced, missing, list] = await runPrivate([
      cli(['binfmt', 'install', 'x86_64', '--binfmt-dir', '{binfmt-dir}', '--json']),
      cli(['binfmt', 'install', 'x86_64', '--force', '--dry-run', '--binfmt-dir', '{binfmt-dir}', '--json']),
      cli(['binfmt', 'install', 'aarch64', 'riscv64', '--emulator-dir', emptyDir, '--binfmt-dir', '{binfmt-dir}', '--json']),
      { op: 'list' },
    ]);
    assert.equal(refused?.exitCode, 1);
    assert.deepEqual(json<InstallReport>(refused).results.map((r) => [r.arch, r.action, r.reason]), [['x86_64', 'refused', 'HOST_NATIVE']]);
    assert.equal(forced?.exitCode, 0, forced?.stderr);
    assert.equal(json<InstallReport>(forced).results[0]?.action, 'planned-add');
    assert.equal(missing?.exitCode, 1);
    assert.deepEqual(json<InstallReport>(missing).results.map((r) => [r.arch, r.action, r.reason]),
      [['aarch64', 'refused', 'NO_EMULATOR'], ['riscv64', 'refused', 'NO_EMULATOR']]);
    assert.deepEqual(list?.names?.filter((n) => n !== 'register' && n !== 'status'), []);
  });

  it('uninstall all removes only crossroot entries; an exact foreign name is removed when asked', async () => {
    const [, , , all, listAfterAll, explicit, listAfterExplicit] = await runPrivate([
      { op: 'register', data: ':python3.11:M::\\x6f\\x0d\\x0d\\x0a::/usr/bin/python3.11:' },
      cli(['binfmt', 'install', 'aarch64', 'arm', '--binfmt-dir', '{binfmt-dir}', '--json']),
      { op: 'register', data: ':qemu-riscv64:M::\\x7fELF\\x02\\x01\\x01:\\xff\\xff\\xff\\xff\\xff\\xff\\xff:/usr/bin/qemu-riscv64-static:F' },
      cli(['binfmt', 'uninstall', 'all', '--binfmt-dir', '{binfmt-dir}', '--json']),
      { op: 'list' },
      cli(['binfmt', 'uninstall', 'qemu-riscv64', '--binfmt-dir', '{binfmt-dir}', '--json']),
      { op: 'list' },
    ]);
    assert.equal(all?.exitCode, 0, all?.stderr);
    assert.deepEqual(listAfterAll?.names?.filter((n) => n !== 'register' && n !== 'status').sort(), ['python3.11', 'qemu-riscv64']);
    assert.equal(explicit?.exitCode, 0);
    assert.deepEqual(listAfterExplicit?.names?.filter((n) => n !== 'register' && n !== 'status'), ['python3.11']);
  });

  it('--persist writes binfmt.d files whose lines equal the registered entries; uninstall removes them', async () => {
    const binfmtD = mkdtempSync(join(work, 'binfmt.d-'));
    process.env['CROSSROOT_BINFMT_D_DIR'] = binfmtD;
    try {
      const [install, readA, readB] = await runPrivate([
        cli(['binfmt', 'install', 'aarch64', 's390x', '--persist', '--binfmt-dir', '{binfmt-dir}', '--json']),
        { op: 'read', name: 'crossroot-aarch64' },
        { op: 'read', name: 'crossroot-s390x' },
      ]);
      assert.equal(install?.exitCode, 0, install?.stderr);
      assert.deepEqual(readdirSync(binfmtD).sort(), ['zz-crossroot-aarch64.conf', 'zz-crossroot-s390x.conf']);
      for (const [file, read, name] of [['zz-crossroot-aarch64.conf', readA, 'crossroot-aarch64'], ['zz-crossroot-s390x.conf', readB, 'crossroot-s390x']] as const) {
        const lines = readFileSync(join(binfmtD, file), 'latin1').split('\n').filter((line) => line !== '' && !line.startsWith('#'));
        assert.equal(lines.length, 1);
        const parsed = parseRegisterString(lines[0] ?? '');
        assert.ok(parsed.ok);
        assert.equal(renderEntryText(parsed.entry), renderEntryText(parseEntryText(name, read?.text ?? '')));
      }
      const [, uninstall] = await runPrivate([
        cli(['binfmt', 'install', 'aarch64', '--binfmt-dir', '{binfmt-dir}']),
        cli(['binfmt', 'uninstall', 'aarch64', '--binfmt-dir', '{binfmt-dir}', '--json']),
      ]);
      assert.equal(uninstall?.exitCode, 0, uninstall?.stderr);
      assert.deepEqual(readdirSync(binfmtD), ['zz-crossroot-s390x.conf']);
    } finally {
      delete process.env['CROSSROOT_BINFMT_D_DIR'];
    }
  });

  it('--persist against a private instance is refused before anything changes (the host would register it at boot)', async () => {
    const before = existsSync('/etc/binfmt.d') ? readdirSync('/etc/binfmt.d') : [];
    delete process.env['CROSSROOT_BINFMT_D_DIR'];
    const [install, list] = await runPrivate([
      cli(['binfmt', 'install', '--json', 'aarch64', '--persist', '--binfmt-dir', '{binfmt-dir}']),
      { op: 'list' },
    ]);
    assert.equal(install?.exitCode, 2, install?.stderr);
    assert.equal((JSON.parse(install?.stdout ?? '{}') as { error?: { code?: string } }).error?.code, 'USAGE');
    assert.deepEqual(list?.names?.filter((name) => name !== 'register' && name !== 'status'), []);
    assert.deepEqual(existsSync('/etc/binfmt.d') ? readdirSync('/etc/binfmt.d') : [], before);
  });

  it('export formats print what install registers (golden for aarch64)', async () => {
    const [register, systemd, debian] = await runPrivate([
      cli(['binfmt', 'export', 'aarch64', '--format', 'register', '--binfmt-dir', '{binfmt-dir}']),
      cli(['binfmt', 'export', 'aarch64', '--format', 'systemd', '--binfmt-dir', '{binfmt-dir}']),
      cli(['binfmt', 'export', 'arm64', '--format', 'debian', '--flags', 'OCF', '--binfmt-dir', '{binfmt-dir}']),
    ]);
    const aarch64 = ARCHITECTURES.find((a) => a.name === 'aarch64');
    const golden = ':crossroot-aarch64:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00'
      + ':\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/bin/qemu-aarch64-static:POCF';
    assert.ok(aarch64 !== undefined);
    assert.equal(register?.stdout, `${golden}\n`);
    assert.match(systemd?.stdout ?? '', /^# systemd binfmt\.d/);
    assert.ok(systemd?.stdout?.endsWith(`${golden}\n`));
    assert.equal(debian?.stdout, [
      '# /usr/share/binfmts/crossroot-aarch64',
      'package crossroot',
      'interpreter /usr/bin/qemu-aarch64-static',
      'magic \\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00',
      'offset 0',
      'mask \\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
      'credentials yes',
      'fix_binary yes',
      'preserve no',
      '',
    ].join('\n'));
  });

  it('busybox-static of seven Debian architectures runs directly and in an empty root under the installed entries', async () => {
    await ensureDebianPackages();
    const ops: PrivateOp[] = [
      // i386 runs natively on this host: --force registers it so the emulator path is exercised too.
      cli(['binfmt', 'install', 'aarch64', 'arm', 'ppc64le', 's390x', 'mips64el', 'mipsel', '--binfmt-dir', '{binfmt-dir}']),
      cli(['binfmt', 'install', 'i386', '--force', '--binfmt-dir', '{binfmt-dir}']),
    ];
    for (const { debian } of BUSYBOX_ARCHES) {
      const root = join(work, `root-${debian}`);
      mkdirSync(root, { recursive: true });
      copyFileSync(join(debianPackageRoot(debian), 'bin', 'busybox'), join(root, 'busybox'));
      ops.push(
        { op: 'exec', path: join(root, 'busybox'), argv: ['busybox', 'uname', '-m'] },
        { op: 'exec', path: '/busybox', argv: ['busybox', 'uname', '-m'], chroot: root },
        { op: 'exec', path: '/busybox', argv: ['true'], chroot: root },
      );
    }
    const [install, forced, ...execs] = await runPrivate(ops);
    assert.equal(install?.exitCode, 0, install?.stderr);
    assert.equal(forced?.exitCode, 0, forced?.stderr);
    BUSYBOX_ARCHES.forEach(({ debian, uname }, index) => {
      const [direct, chrooted, trueApplet] = execs.slice(index * 3, index * 3 + 3);
      assert.equal(direct?.errno, null, `${debian} direct: ${direct?.stdout ?? ''}`);
      assert.equal(direct?.stdout?.trim(), uname, `${debian} direct`);
      assert.equal(chrooted?.errno, null, `${debian} empty root`);
      assert.equal(chrooted?.stdout?.trim(), uname, `${debian} empty root`);
      assert.equal(trueApplet?.exitCode, 0, `${debian} 'true' by argv[0] (needs P)`);
    });
  });
});
