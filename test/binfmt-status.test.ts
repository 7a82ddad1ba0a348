// `binfmt status` and `binfmt test` against the running kernel, in a PRIVATE
// binfmt_misc instance (test/support/private-binfmt.ts; the host's
// registrations are never touched — asserted below). Entries are registered by
// hand, one per case (F, no F, F on a dynamic interpreter, disabled,
// extension, a foreign python-like entry, a missing interpreter), read back
// from the instance in the same run, and compared with status field by field;
// probes and reasons are checked per case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { release } from 'node:os';
import { hasPrivateBinfmt } from '../src/core/host/kernel-release.ts';
import { archByName } from '../src/core/arch/arch.ts';
import type { ArchName } from '../src/core/arch/arch.ts';
import { flagsToString } from '../src/core/binfmt/entry.ts';
import { parseEntryText, toHex } from '../src/core/binfmt/rule.ts';
import { interpreterFacts } from '../src/runner/binfmt/health.ts';
import { runPrivate } from './support/private-binfmt.ts';
import type { PrivateOp, OpResult } from './support/private-binfmt.ts';
import type { statusJson } from '../src/cli/render/binfmt.ts';

type StatusDoc = ReturnType<typeof statusJson>;
interface TestDoc {
  ok: boolean;
  namespace: string;
  privateInstance: boolean;
  results: { arch: string; works: boolean | null; handler: string | null; reason: string | null; problems: { code: string }[]; direct: { ok: boolean } | null; emptyRoot: { ok: boolean; errno: string | null } | null }[];
}

/** A dynamically linked emulator if the machine has one (qemu-user), else any dynamic program. */
const DYNAMIC_INTERPRETER = existsSync('/usr/bin/qemu-riscv64') && interpreterFacts('/usr/bin/qemu-riscv64').static === false
  ? '/usr/bin/qemu-riscv64'
  : '/usr/bin/true';

function qemuRule(name: string, arch: ArchName, interpreter: string, flags: string): string {
  const catalog = archByName(arch);
  return `:${name}:M::${catalog.magicText}:${catalog.maskText}:${interpreter}:${flags}`;
}

const ENTRIES = [
  { name: 'crossroot-aarch64', rule: qemuRule('crossroot-aarch64', 'aarch64', '/usr/bin/qemu-aarch64-static', 'POCF') },
  { name: 'qemu-arm', rule: qemuRule('qemu-arm', 'arm', '/usr/bin/qemu-arm-static', 'OC') },
  { name: 'qemu-riscv64', rule: qemuRule('qemu-riscv64', 'riscv64', DYNAMIC_INTERPRETER, 'OCF') },
  { name: 'qemu-s390x', rule: qemuRule('qemu-s390x', 's390x', '/usr/bin/qemu-s390x-static', 'OCF') },
  { name: 'qemu-mips64el', rule: qemuRule('qemu-mips64el', 'mips64el', '/nonexistent/qemu-mips64el-static', 'OC') },
  { name: 'jar', rule: ':jar:E::jar::/usr/bin/true:' },
  { name: 'python3.11', rule: ':python3.11:M::\\xa7\\x0d\\x0d\\x0a::/usr/bin/python3:' },
] as const;

function hostBinfmtListing(): string[] | null {
  try {
    return readdirSync('/proc/sys/fs/binfmt_misc').sort();
  } catch {
    return null;
  }
}

test('binfmt status and binfmt test agree with a private instance, entry by entry and case by case', { timeout: 180_000 }, async () => {
  const hostBefore = hostBinfmtListing();
  const ops: PrivateOp[] = [
    ...ENTRIES.map((entry): PrivateOp => ({ op: 'register', data: entry.rule })),
    { op: 'write', name: 'qemu-s390x', data: '0' },
    ...ENTRIES.map((entry): PrivateOp => ({ op: 'read', name: entry.name })),
    { op: 'cli', argv: ['binfmt', 'status', '--json', '--binfmt-dir', '{binfmt-dir}'] },
    { op: 'cli', argv: ['binfmt', 'status', '--binfmt-dir', '{binfmt-dir}'] },
    { op: 'cli', argv: ['binfmt', 'test', 'arm64', '--json', '--binfmt-dir', '{binfmt-dir}'] },
    { op: 'cli', argv: ['binfmt', 'test', 'armhf', '--json', '--binfmt-dir', '{binfmt-dir}'] },
    { op: 'cli', argv: ['binfmt', 'test', '--json', '--binfmt-dir', '{binfmt-dir}'] },
    { op: 'cli', argv: ['binfmt', 'status', '--json', '--no-probe', '--binfmt-dir', '{binfmt-dir}'] },
    { op: 'cli', argv: ['binfmt', 'test', 'aarch64', '--binfmt-dir', '{binfmt-dir}'] },
  ];
  const results = await runPrivate(ops);
  let index = 0;
  const take = (): OpResult => {
    const result = results[index++];
    assert.ok(result);
    return result;
  };
  for (const entry of ENTRIES) assert.equal(take().errno, null, `register ${entry.name}`);
  assert.equal(take().errno, null, 'disable qemu-s390x');
  const texts = new Map<string, string>(ENTRIES.map((entry) => {
    const read = take();
    assert.equal(read.errno, null);
    return [entry.name, read.text ?? ''] as const;
  }));
  const statusRun = take();
  const humanRun = take();
  const testArm64 = take();
  const testArm = take();
  const testDefault = take();
  const noProbeRun = take();
  const testHuman = take();

  // Status: exit 1 (entries in use fail their probes), private namespace, every entry field by field.
  assert.equal(statusRun.exitCode, 1, statusRun.stderr);
  const status = JSON.parse(statusRun.stdout ?? '') as StatusDoc;
  assert.equal(status.mounted, true);
  assert.equal(status.namespace, 'private');
  assert.match(status.note ?? '', /not visible outside this user namespace/);
  assert.deepEqual(status.entries.map((entry) => entry.name).sort(), ENTRIES.map((entry) => entry.name).sort());
  assert.deepEqual(status.entries.map((entry) => entry.name), [...ENTRIES].reverse().map((entry) => entry.name), 'newest first');
  for (const entry of status.entries) {
    const kernel = parseEntryText(entry.name, texts.get(entry.name) ?? '');
    assert.equal(entry.enabled, kernel.enabled, entry.name);
    assert.equal(entry.type, kernel.type, entry.name);
    assert.equal(entry.interpreter, kernel.interpreter, entry.name);
    assert.equal(entry.flags, flagsToString(kernel.flags), entry.name);
    if (kernel.type === 'magic') {
      assert.equal(entry.offset, kernel.offset, entry.name);
      assert.equal(entry.magic, toHex(kernel.magic), entry.name);
      assert.equal(entry.mask, kernel.mask === null ? null : toHex(kernel.mask), entry.name);
      assert.equal(entry.extension, null);
    } else {
      assert.deepEqual([entry.offset, entry.magic, entry.mask, entry.extension], [null, null, null, kernel.extension]);
    }
    assert.equal(entry.owner, entry.name.startsWith('crossroot-') ? 'crossroot' : null, entry.name);
    assert.equal(entry.health.pinned, kernel.flags.F, entry.name);
  }
  const byName = new Map(status.entries.map((entry) => [entry.name, entry]));
  const health = (name: string) => {
    const entry = byName.get(name);
    assert.ok(entry, name);
    return { arches: entry.arches, ...entry.health, codes: entry.health.problems.map((problem) => problem.code) };
  };
  const aarch64 = health('crossroot-aarch64');
  assert.deepEqual([aarch64.arches, aarch64.interpreterExists, aarch64.interpreterStatic, aarch64.probe, aarch64.reason], [['aarch64'], true, true, 'ok', null]);
  const arm = health('qemu-arm');
  assert.deepEqual([arm.arches, arm.interpreterStatic, arm.probe], [['arm'], true, 'failed']);
  assert.equal(arm.reason, "entry 'qemu-arm' has no F flag: inside a root '/usr/bin/qemu-arm-static' does not exist");
  const riscv = health('qemu-riscv64');
  assert.deepEqual([riscv.interpreterExists, riscv.interpreterStatic, riscv.probe, riscv.codes[0]], [true, false, 'failed', 'F_DYNAMIC']);
  assert.match(riscv.reason ?? '', /^F pinned to a dynamically linked emulator: /);
  const s390x = health('qemu-s390x');
  assert.deepEqual([s390x.probe, s390x.reason, s390x.codes[0]], ['skipped', 'entry disabled', 'ENTRY_DISABLED']);
  const mips = health('qemu-mips64el');
  assert.deepEqual([mips.interpreterExists, mips.interpreterStatic, mips.probe, mips.codes[0]], [false, null, 'failed', 'INTERPRETER_MISSING']);
  assert.equal(mips.reason, "interpreter '/nonexistent/qemu-mips64el-static' is missing: every matching exec fails with ENOENT");
  const jar = health('jar');
  assert.deepEqual([jar.arches, jar.probe, jar.codes], [[], 'skipped', ['EXTENSION_ENTRY']]);
  const python = health('python3.11');
  assert.deepEqual([python.arches, python.probe, python.codes], [[], 'skipped', ['NOT_AN_ARCH']]);

  // Per architecture: handler, works, reason.
  const archOf = (name: string) => {
    const arch = status.arches.find((candidate) => candidate.arch === name);
    assert.ok(arch, name);
    return arch;
  };
  assert.deepEqual(
    ['aarch64', 'arm', 'riscv64', 's390x', 'mips64el', 'x86_64'].map((name) => [name, archOf(name).handler, archOf(name).works, archOf(name).native]),
    [
      ['aarch64', 'crossroot-aarch64', true, false],
      ['arm', 'qemu-arm', false, false],
      ['riscv64', 'qemu-riscv64', false, false],
      ['s390x', null, false, false],
      ['mips64el', 'qemu-mips64el', false, false],
      ['x86_64', null, true, true],
    ],
  );
  assert.match(archOf('arm').reason ?? '', /^entry 'qemu-arm' has no F flag: .*inside an empty root: exec failed with ENOENT/);
  assert.match(archOf('s390x').reason ?? '', /entry 'qemu-s390x' matching them is disabled/);
  assert.match(archOf('mips64el').reason ?? '', /is missing/);
  assert.ok(status.emulators.some((emulator) => emulator.arch === 'aarch64' && emulator.static && /^\d+\.\d+/.test(emulator.version ?? '')));

  // The human table names every entry and the failing reasons.
  assert.equal(humanRun.exitCode, 1);
  for (const entry of ENTRIES) assert.ok(humanRun.stdout?.includes(entry.name), entry.name);
  assert.match(humanRun.stdout ?? '', /has no F flag/);

  // binfmt test: 0 when every requested architecture works, 1 otherwise, with the reasons.
  assert.equal(testArm64.exitCode, 0, testArm64.stdout);
  const arm64Doc = JSON.parse(testArm64.stdout ?? '') as TestDoc;
  assert.equal(arm64Doc.privateInstance, false, 'a mounted instance with entries is tested itself');
  assert.deepEqual(arm64Doc.results.map((result) => [result.arch, result.works, result.direct?.ok, result.emptyRoot?.ok]), [['aarch64', true, true, true]]);
  assert.equal(testArm.exitCode, 1);
  const armDoc = JSON.parse(testArm.stdout ?? '') as TestDoc;
  assert.deepEqual(armDoc.results.map((result) => [result.arch, result.works, result.direct?.ok, result.emptyRoot?.ok, result.emptyRoot?.errno]), [['arm', false, true, false, 'ENOENT']]);
  assert.equal(armDoc.results[0]?.problems[0]?.code, 'PROBE_EMPTY_ROOT_FAILED');
  assert.equal(testDefault.exitCode, 1);
  const defaultDoc = JSON.parse(testDefault.stdout ?? '') as TestDoc;
  assert.deepEqual(defaultDoc.results.map((result) => result.arch).sort(), ['aarch64', 'arm', 'mips64el', 'riscv64']);
  assert.equal(testHuman.exitCode, 0);
  assert.match(testHuman.stdout ?? '', /1 of 1 architecture works/);

  // --no-probe: nothing probed, works null, predictions from the entries alone.
  assert.equal(noProbeRun.exitCode, 0);
  const noProbe = JSON.parse(noProbeRun.stdout ?? '') as StatusDoc;
  assert.equal('probed' in noProbe && noProbe.probed, false);
  assert.ok(noProbe.arches.every((arch) => arch.works === null));
  assert.ok(noProbe.entries.every((entry) => entry.health.probe === 'skipped'));
  assert.match(noProbe.arches.find((arch) => arch.arch === 'arm')?.reason ?? '', /has no F flag/);

  assert.deepEqual(hostBinfmtListing(), hostBefore, 'the host\'s registrations are untouched');
});

test('binfmt status: an unmounted directory reports mounted false with the mount hint; a warning (exit 0) where private instances exist', async () => {
  const [run] = await runPrivate([{ op: 'cli', argv: ['binfmt', 'status', '--json', '--binfmt-dir', '/nonexistent-binfmt'] }]);
  const doc = JSON.parse(run?.stdout ?? '') as StatusDoc;
  assert.equal(doc.mounted, false);
  assert.match('hint' in doc ? doc.hint : '', /mount -t binfmt_misc binfmt_misc/);
  const severity = 'severity' in doc ? doc.severity : null;
  assert.equal(severity, hasPrivateBinfmt(release()) ? 'warning' : 'error');
  assert.equal(run?.exitCode, severity === 'error' ? 1 : 0);
});
