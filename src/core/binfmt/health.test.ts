import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BinfmtEntry, BinfmtFlags } from './entry.ts';
import type { ArchName } from '../arch/arch.ts';
import { archByName } from '../arch/arch.ts';
import type { ArchProbes, HealthCode, InterpreterFacts, ProbeFact } from './health.ts';
import { archHeader, assessInstance, describeProbe, entryArches, handlerOf, ownerOf } from './health.ts';

const STATIC = '/usr/bin/qemu-aarch64-static';
const DYNAMIC = '/usr/bin/qemu-aarch64';
const MISSING = '/nonexistent/qemu-aarch64';

function flags(letters: string): BinfmtFlags {
  return { P: letters.includes('P'), O: letters.includes('O') || letters.includes('C'), C: letters.includes('C'), F: letters.includes('F') };
}

function qemuEntry(name: string, arch: ArchName, interpreter: string, letters: string, enabled = true): BinfmtEntry {
  const catalog = archByName(arch);
  return { type: 'magic', name, enabled, interpreter, flags: flags(letters), offset: 0, magic: catalog.magic, mask: catalog.mask };
}

const python: BinfmtEntry = {
  type: 'magic', name: 'python3.11', enabled: true, interpreter: '/usr/bin/python3.11', flags: flags(''),
  offset: 0, magic: Uint8Array.of(0xa7, 0x0d, 0x0d, 0x0a), mask: null,
};
const jar: BinfmtEntry = { type: 'extension', name: 'jar', enabled: true, interpreter: '/usr/bin/jexec', flags: flags(''), extension: 'jar' };

const INTERPRETERS = new Map<string, InterpreterFacts>([
  [STATIC, { exists: true, static: true, loader: null }],
  [DYNAMIC, { exists: true, static: false, loader: '/lib64/ld-linux-x86-64.so.2' }],
  ['/usr/bin/qemu-arm-static', { exists: true, static: true, loader: null }],
  ['/usr/bin/python3.11', { exists: true, static: false, loader: '/lib64/ld-linux-x86-64.so.2' }],
  ['/usr/bin/jexec', { exists: true, static: null, loader: null }],
]);

const ok: ProbeFact = { ok: true, expectedStatus: 42, exitCode: 42, signal: null, errno: null, timedOut: false };
const enoent: ProbeFact = { ok: false, expectedStatus: 42, exitCode: 127, signal: null, errno: 'ENOENT', timedOut: false };
const PASS: ArchProbes = { direct: ok, emptyRoot: ok };
const CHROOT_FAIL: ArchProbes = { direct: ok, emptyRoot: enoent };
const BOTH_FAIL: ArchProbes = { direct: enoent, emptyRoot: enoent };

test('ownership is the crossroot- name prefix', () => {
  assert.equal(ownerOf('crossroot-aarch64'), 'crossroot');
  assert.equal(ownerOf('qemu-aarch64'), null);
  assert.equal(ownerOf('crossroot'), null);
});

test('entry arches: every catalog entry matches its own probe header and, apart from known overlaps, no other', () => {
  for (const arch of ['aarch64', 'arm', 'riscv64', 's390x', 'mips64el', 'ppc64le', 'x86_64'] as const) {
    assert.deepEqual(entryArches(qemuEntry(`qemu-${arch}`, arch, STATIC, 'F')), [arch]);
  }
  assert.deepEqual(entryArches(python), []);
  assert.deepEqual(entryArches(jar), []);
});

test('handler: the newest enabled matching entry wins; disabled entries and disabled instances never do', () => {
  const newer = qemuEntry('crossroot-aarch64', 'aarch64', STATIC, 'FC');
  const older = qemuEntry('qemu-aarch64', 'aarch64', STATIC, 'F');
  assert.equal(handlerOf([newer, older], 'aarch64', true), newer);
  assert.equal(handlerOf([{ ...newer, enabled: false }, older], 'aarch64', true), older);
  assert.equal(handlerOf([newer, older], 'aarch64', false), null);
  assert.equal(handlerOf([newer], 'arm', true), null);
  assert.ok(archHeader('aarch64').length > 64, 'the probe program is the header');
});

test('describeProbe names the way a probe failed', () => {
  assert.equal(describeProbe(ok), "exit status '42' as expected");
  assert.equal(describeProbe(enoent), 'exec failed with ENOENT');
  assert.equal(describeProbe({ ...enoent, errno: null, exitCode: 1 }), "exit status '1', expected '42'");
  assert.equal(describeProbe({ ...enoent, errno: null, exitCode: null, signal: 'SIGSEGV' }), "it was killed by signal 'SIGSEGV'");
  assert.equal(describeProbe({ ...enoent, timedOut: true }), 'it timed out');
});

interface EntryCase {
  readonly title: string;
  readonly entries: readonly BinfmtEntry[];
  readonly probes: ReadonlyMap<ArchName, ArchProbes>;
  readonly enabled?: boolean;
  /** The entry the expectations are about (default 0, the newest). */
  readonly subject?: number;
  readonly probe: 'ok' | 'failed' | 'skipped';
  readonly codes: readonly HealthCode[];
  readonly reason: RegExp | null;
  readonly works: boolean | null;
  readonly archReason: RegExp | null;
}

const ENTRY_CASES: readonly EntryCase[] = [
  {
    title: 'static, pinned, credentials: healthy',
    entries: [qemuEntry('crossroot-aarch64', 'aarch64', STATIC, 'POCF')],
    probes: new Map([['aarch64', PASS]]),
    probe: 'ok', codes: [], reason: null, works: true, archReason: null,
  },
  {
    title: 'no F: works directly, fails in the empty root with the chroot reason',
    entries: [qemuEntry('qemu-aarch64', 'aarch64', STATIC, 'OC')],
    probes: new Map([['aarch64', CHROOT_FAIL]]),
    probe: 'failed', codes: ['NO_F'],
    reason: /^entry 'qemu-aarch64' has no F flag: inside a root '\/usr\/bin\/qemu-aarch64-static' does not exist$/,
    works: false, archReason: /^entry 'qemu-aarch64' has no F flag: .*probe of 'aarch64' inside an empty root: exec failed with ENOENT/,
  },
  {
    title: 'no F, not probed: still predicted to fail in roots',
    entries: [qemuEntry('qemu-aarch64', 'aarch64', STATIC, 'OC')],
    probes: new Map(),
    probe: 'skipped', codes: ['NO_F'], reason: /has no F flag/, works: null, archReason: /has no F flag/,
  },
  {
    title: 'F pinned to a dynamic emulator',
    entries: [qemuEntry('qemu-aarch64', 'aarch64', DYNAMIC, 'OCF')],
    probes: new Map([['aarch64', CHROOT_FAIL]]),
    probe: 'failed', codes: ['F_DYNAMIC'],
    reason: /^F pinned to a dynamically linked emulator: '\/usr\/bin\/qemu-aarch64' needs its loader '\/lib64\/ld-linux-x86-64.so.2'/,
    works: false, archReason: /^F pinned to a dynamically linked emulator/,
  },
  {
    title: 'no C: works, with a warning about setuid programs',
    entries: [qemuEntry('qemu-aarch64', 'aarch64', STATIC, 'F')],
    probes: new Map([['aarch64', PASS]]),
    probe: 'ok', codes: ['NO_C'], reason: /^no C flag: setuid programs such as sudo run without their privileges$/,
    works: true, archReason: null,
  },
  {
    title: 'missing interpreter without F',
    entries: [qemuEntry('qemu-aarch64', 'aarch64', MISSING, 'OC')],
    probes: new Map([['aarch64', BOTH_FAIL]]),
    probe: 'failed', codes: ['INTERPRETER_MISSING'],
    reason: /^interpreter '\/nonexistent\/qemu-aarch64' is missing: every matching exec fails with ENOENT$/,
    works: false, archReason: /^interpreter '\/nonexistent\/qemu-aarch64' is missing.*run directly: exec failed with ENOENT/,
  },
  {
    title: 'pinned interpreter removed after registration still runs (stale pin)',
    entries: [qemuEntry('qemu-aarch64', 'aarch64', MISSING, 'OCF')],
    probes: new Map([['aarch64', PASS]]),
    probe: 'ok', codes: ['INTERPRETER_REMOVED'], reason: /was removed after registration/, works: true, archReason: null,
  },
  {
    title: 'disabled entry: skipped, the architecture has no handler',
    entries: [qemuEntry('qemu-aarch64', 'aarch64', STATIC, 'OCF', false)],
    probes: new Map([['aarch64', BOTH_FAIL]]),
    probe: 'skipped', codes: ['ENTRY_DISABLED'], reason: /^entry disabled$/,
    works: false, archReason: /^'aarch64' programs have no handler: entry 'qemu-aarch64' matching them is disabled/,
  },
  {
    title: 'shadowed by a newer entry',
    entries: [qemuEntry('qemu-aarch64', 'aarch64', STATIC, 'OCF'), qemuEntry('crossroot-aarch64', 'aarch64', STATIC, 'OCF')],
    subject: 1,
    probes: new Map([['aarch64', PASS]]),
    probe: 'skipped', codes: ['SHADOWED'], reason: /^shadowed by newer entry 'qemu-aarch64'$/, works: true, archReason: null,
  },
  {
    title: 'a python entry matches no architecture',
    entries: [python],
    probes: new Map(),
    probe: 'skipped', codes: ['NOT_AN_ARCH'], reason: /matches no CPU architecture/, works: null, archReason: /no handler/,
  },
  {
    title: 'an extension entry is not probed',
    entries: [jar],
    probes: new Map(),
    probe: 'skipped', codes: ['EXTENSION_ENTRY'], reason: /^extension entry: chosen by the file name ending '\.jar'/, works: null, archReason: /no handler/,
  },
  {
    title: 'a disabled instance uses no entry',
    entries: [qemuEntry('qemu-aarch64', 'aarch64', STATIC, 'OCF')],
    enabled: false,
    probes: new Map([['aarch64', BOTH_FAIL]]),
    probe: 'skipped', codes: ['INSTANCE_DISABLED'], reason: /^binfmt_misc is disabled/, works: false, archReason: /binfmt_misc is disabled/,
  },
];

for (const entryCase of ENTRY_CASES) {
  test(`entry and arch verdicts: ${entryCase.title}`, () => {
    const verdict = assessInstance({
      enabled: entryCase.enabled ?? true,
      entries: entryCase.entries,
      interpreters: INTERPRETERS,
      probes: entryCase.probes,
      native: new Set(['x86_64', 'i386']),
    });
    const first = verdict.entries[entryCase.subject ?? 0];
    assert.ok(first);
    assert.equal(first.health.probe, entryCase.probe);
    assert.deepEqual(first.health.problems.map((item) => item.code), entryCase.codes);
    if (entryCase.reason === null) assert.equal(first.health.reason, null);
    else assert.match(first.health.reason ?? '', entryCase.reason);
    const aarch64 = verdict.arches.find((arch) => arch.arch === 'aarch64');
    assert.ok(aarch64);
    assert.equal(aarch64.works, entryCase.works);
    assert.equal(aarch64.native, false);
    if (entryCase.archReason === null) assert.equal(aarch64.reason, null);
    else assert.match(aarch64.reason ?? '', entryCase.archReason);
  });
}

test('arch verdicts: native, taken over, unknown nativeness, missing probe program', () => {
  const hijack = qemuEntry('qemu-x86_64', 'x86_64', STATIC, 'F');
  const verdict = assessInstance({
    enabled: true, entries: [hijack], interpreters: INTERPRETERS,
    probes: new Map([['x86_64', PASS], ['i386', PASS], ['arm', BOTH_FAIL]]),
    native: new Set(['x86_64', 'i386']),
  });
  const byArch = new Map(verdict.arches.map((arch) => [arch.arch, arch]));
  assert.deepEqual(
    { native: byArch.get('i386')?.native, handler: byArch.get('i386')?.handler, works: byArch.get('i386')?.works, reason: byArch.get('i386')?.reason },
    { native: true, handler: null, works: true, reason: null },
  );
  assert.equal(byArch.get('x86_64')?.handler, 'qemu-x86_64');
  assert.deepEqual(byArch.get('x86_64')?.problems.map((item) => item.code), ['NATIVE_TAKEN_OVER']);
  assert.deepEqual(byArch.get('arm')?.problems.map((item) => [item.code, item.severity]), [['NO_HANDLER', 'error']]);
  assert.deepEqual(byArch.get('i486')?.problems.map((item) => item.code), ['NO_HANDLER', 'NOT_PROBED']);
  assert.equal(byArch.get('i486')?.works, null);

  const unknown = assessInstance({ enabled: true, entries: [], interpreters: INTERPRETERS, probes: new Map([['x86_64', PASS]]), native: null });
  const x86 = unknown.arches.find((arch) => arch.arch === 'x86_64');
  assert.deepEqual({ native: x86?.native, works: x86?.works, reason: x86?.reason }, { native: null, works: true, reason: null });
});

test('an entry winning some arches and shadowed for others is partly shadowed, and still probed', () => {
  const armOnly = qemuEntry('qemu-arm', 'arm', '/usr/bin/qemu-arm-static', 'OCF');
  const wide: BinfmtEntry = {
    type: 'magic', name: 'wide', enabled: true, interpreter: STATIC, flags: flags('OCF'),
    offset: 0, magic: Uint8Array.of(0x7f, 0x45, 0x4c, 0x46), mask: null,
  };
  const verdict = assessInstance({
    enabled: true, entries: [armOnly, wide], interpreters: INTERPRETERS,
    probes: new Map([['aarch64', PASS], ['arm', PASS]]), native: new Set(['x86_64']),
  });
  const wideVerdict = verdict.entries[1];
  assert.ok(wideVerdict);
  assert.ok(wideVerdict.arches.includes('arm') && wideVerdict.arches.includes('aarch64'));
  assert.ok(!wideVerdict.handles.includes('arm'));
  assert.ok(wideVerdict.handles.includes('aarch64'));
  assert.ok(wideVerdict.health.problems.some((item) => item.code === 'PARTLY_SHADOWED' && item.message.includes("'qemu-arm'")));
  assert.equal(wideVerdict.health.probe, 'ok');
  // It also takes the host's own architecture over:
  assert.ok(verdict.arches.find((arch) => arch.arch === 'x86_64')?.problems.some((item) => item.code === 'NATIVE_TAKEN_OVER'));
});
