import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ArchName } from '../arch/arch.ts';
import { archByName } from '../arch/arch.ts';
import type { BinfmtEntry } from './entry.ts';
import { findHandler } from './match.ts';
import { parseRegisterString, renderEntryText } from './rule.ts';
import type { EmulatorFacts, InstallPlanInput } from './install-plan.ts';
import {
  allInstallableArches, applySteps, binfmtDFileName, debianTemplateText, defaultFlags,
  nativeMatches, ruleWarnings, parseFlagLetters, planInstall, planUninstall, referenceHead, referenceProgram, sameEntryContent,
} from './install-plan.ts';
import { parseElfBytes } from '../elf/elf.ts';
import { archOfEntryName, ownEntry } from './own-entries.ts';

const staticEmulator = (target: string): EmulatorFacts => ({
  path: `/usr/bin/qemu-${target}-static`, static: true, honoursP: true, requiresP: false,
});

function parse(text: string): BinfmtEntry {
  const result = parseRegisterString(text);
  if (!result.ok) throw new Error(result.reason);
  return result.entry;
}

const base: InstallPlanInput = {
  arches: ['aarch64'],
  emulators: { aarch64: staticEmulator('aarch64'), arm: staticEmulator('arm'), x86_64: staticEmulator('x86_64'), i386: staticEmulator('i386') },
  entries: [],
  nativeArches: ['x86_64', 'i386'],
};

describe('planInstall', () => {
  it('adds with the golden register string and default flags POCF', () => {
    const [plan] = planInstall(base);
    assert.equal(plan?.action, 'add');
    assert.equal(plan?.flags, 'POCF');
    assert.equal(plan?.registerString,
      ':crossroot-aarch64:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00'
      + ':\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff'
      + ':/usr/bin/qemu-aarch64-static:POCF');
    assert.deepEqual(plan?.steps.map((s) => s.op), ['register']);
  });

  it('drops P when the emulator does not honour it and keeps it for -binfmt-P names', () => {
    assert.equal(parseFlagLetters('ocf').O, true);
    const flags = defaultFlags({ honoursP: null, requiresP: false });
    assert.equal(flags.P, false);
    assert.equal(defaultFlags({ honoursP: true, requiresP: true }).P, true);
    const [plan] = planInstall({ ...base, emulators: { aarch64: { ...staticEmulator('aarch64'), honoursP: null } } });
    assert.equal(plan?.flags, 'OCF');
  });

  it('reports an identical entry as unchanged with no steps', () => {
    const [first] = planInstall(base);
    const existing = parse(first?.registerString ?? '');
    const [again] = planInstall({ ...base, entries: [existing] });
    assert.equal(again?.action, 'unchanged');
    assert.deepEqual(again?.steps, []);
  });

  it('replaces a flag change with no gap: every intermediate state runs aarch64 programs', () => {
    const old = parse(planInstall({ ...base, flags: parseFlagLetters('F') })[0]?.registerString ?? '');
    const foreign = parse(':qemu-arm:M::\\x7fELF\\x01\\x01\\x01:\\xff\\xff\\xff\\xff\\xff\\xff\\xff:/usr/bin/qemu-arm-static:F');
    const entries = [foreign, old];
    const [plan] = planInstall({ ...base, entries });
    assert.equal(plan?.action, 'replace');
    assert.deepEqual(plan?.steps.map((s) => `${s.op} ${s.name}`), [
      'register crossroot-aarch64.next', 'remove crossroot-aarch64', 'register crossroot-aarch64', 'remove crossroot-aarch64.next',
    ]);
    const head = referenceHead(archByName('aarch64'));
    let state: BinfmtEntry[] = entries;
    const steps = plan?.steps ?? [];
    for (let i = 0; i <= steps.length; i++) {
      if (i > 0) state = applySteps(state, [steps[i - 1] ?? { op: 'remove', name: '' }], parse);
      const handler = findHandler(state, head, '/x');
      assert.ok(handler !== null, `no handler after step ${i}`);
      const content = renderEntryText({ ...handler, name: 'x' });
      assert.ok(content === renderEntryText({ ...old, name: 'x' }) || content === renderEntryText({ ...(plan?.entry ?? old), name: 'x' }),
        `wrong handler after step ${i}`);
    }
    assert.deepEqual(state.map((e) => e.name), ['crossroot-aarch64', 'qemu-arm']);
    assert.equal(renderEntryText(state[0] ?? old), renderEntryText(plan?.entry ?? old));
  });

  it('uses another temporary name when a .next is left over, and removes the leftover', () => {
    const old = parse(planInstall({ ...base, flags: parseFlagLetters('F') })[0]?.registerString ?? '');
    const stale = { ...old, name: 'crossroot-aarch64.next' };
    const [plan] = planInstall({ ...base, entries: [stale, old] });
    assert.deepEqual(plan?.steps.map((s) => `${s.op} ${s.name}`), [
      'register crossroot-aarch64.next2', 'remove crossroot-aarch64', 'register crossroot-aarch64', 'remove crossroot-aarch64.next2',
      'remove crossroot-aarch64.next',
    ]);
  });

  it('re-registers an identical entry that a newer foreign entry shadows, and reports the overlap', () => {
    const ours = parse(planInstall(base)[0]?.registerString ?? '');
    const foreign = parse(':qemu-aarch64:M::\\x7fELF\\x02\\x01\\x01:\\xff\\xff\\xff\\xff\\xff\\xff\\xff:/usr/bin/qemu-aarch64:F');
    const [plan] = planInstall({ ...base, entries: [foreign, ours] });
    assert.equal(plan?.action, 'replace');
    assert.deepEqual(plan?.overlaps, [{ name: 'qemu-aarch64', interpreter: '/usr/bin/qemu-aarch64', winner: 'crossroot' }]);
    const [added] = planInstall({ ...base, entries: [foreign] });
    assert.equal(added?.action, 'add');
    assert.equal(added?.overlaps[0]?.winner, 'crossroot');
  });

  const refusals: { name: string; input: Partial<InstallPlanInput>; arch: ArchName; code: string }[] = [
    { name: 'the host architecture', input: {}, arch: 'x86_64', code: 'HOST_NATIVE' },
    { name: 'i386 on an ia32-capable host', input: {}, arch: 'i386', code: 'HOST_NATIVE' },
    { name: 'a missing emulator', input: { emulators: {} }, arch: 'aarch64', code: 'NO_EMULATOR' },
    { name: 'F with a dynamic emulator', input: { emulators: { aarch64: { ...staticEmulator('aarch64'), static: false } } }, arch: 'aarch64', code: 'DYNAMIC_WITH_F' },
    { name: 'a -binfmt-P name without P', input: { flags: parseFlagLetters('F'), emulators: { aarch64: { ...staticEmulator('aarch64'), requiresP: true } } }, arch: 'aarch64', code: 'NEEDS_P' },
  ];
  for (const refusal of refusals) {
    it(`refuses ${refusal.name} (${refusal.code})`, () => {
      const [plan] = planInstall({ ...base, ...refusal.input, arches: [refusal.arch] });
      assert.equal(plan?.action, 'refuse');
      assert.equal(plan?.reason, refusal.code);
      assert.deepEqual(plan?.steps, []);
    });
  }

  it('registers the host architecture with force', () => {
    const [plan] = planInstall({ ...base, arches: ['x86_64'], force: true });
    assert.equal(plan?.action, 'add');
  });

  it('a dynamic emulator without F is allowed', () => {
    const [plan] = planInstall({ ...base, flags: parseFlagLetters('PC'), emulators: { aarch64: { ...staticEmulator('aarch64'), static: false } } });
    assert.equal(plan?.action, 'add');
    assert.equal(plan?.flags, 'POC');
  });
});

describe('allInstallableArches', () => {
  it('skips natively run architectures and those without an emulator', () => {
    assert.deepEqual(allInstallableArches(['x86_64', 'i386', 'i486', 'aarch64', 'arm'], ['x86_64', 'i386']), ['i486', 'arm', 'aarch64']);
    // An arm64 host that runs AArch32 natively: arm is skipped by probe, not by family guess.
    assert.deepEqual(allInstallableArches(['aarch64', 'arm', 'x86_64'], ['aarch64', 'arm']), ['x86_64']);
    assert.deepEqual(allInstallableArches(['aarch64', 'arm', 'x86_64'], ['aarch64']), ['arm', 'x86_64']);
  });
});

describe('planUninstall', () => {
  const entries = ['crossroot-aarch64', 'crossroot-arm.next', 'crossroot-arm', 'qemu-aarch64', 'WSLInterop', 'python3.11']
    .map((name) => ({ ...ownEntry(archByName('aarch64'), '/x', parseFlagLetters('F')), name }));
  const resolve = (alias: string): ArchName | null => (alias === 'arm64' ? 'aarch64' : alias === 'arm' ? 'arm' : null);
  it('all removes only crossroot entries', () => {
    const plan = planUninstall(['all'], entries, resolve);
    assert.deepEqual(plan.flatMap((t) => t.names).sort(), ['crossroot-aarch64', 'crossroot-arm', 'crossroot-arm.next']);
  });
  it('an alias removes crossroot\'s entries of that architecture; an exact name removes that entry', () => {
    assert.deepEqual(planUninstall(['arm64'], entries, resolve)[0]?.names, ['crossroot-aarch64']);
    assert.deepEqual(planUninstall(['qemu-aarch64'], entries, resolve)[0], { target: 'qemu-aarch64', names: ['qemu-aarch64'], kind: 'explicit', arch: null });
    assert.throws(() => planUninstall(['status'], entries, resolve), /control file/);
    assert.throws(() => planUninstall(['nonsense'], entries, resolve), /neither/);
  });
  it('names parse back to architectures', () => {
    assert.equal(archOfEntryName('crossroot-aarch64_be.next2'), 'aarch64_be');
    assert.equal(archOfEntryName('qemu-aarch64'), null);
  });
});

describe('persistence and export formats', () => {
  it('binfmt.d names sort after distribution files', () => {
    const names = ['qemu-aarch64.conf', 'python3.11.conf', 'llvm-14-runtime.binfmt.conf', 'WSLInterop.conf', binfmtDFileName('aarch64')];
    assert.equal([...names].sort().at(-1), 'zz-crossroot-aarch64.conf');
  });
  it('debian template (golden)', () => {
    const entry = ownEntry(archByName('arm'), '/usr/bin/qemu-arm-static', parseFlagLetters('PCF'));
    assert.equal(debianTemplateText(entry), [
      'package crossroot',
      'interpreter /usr/bin/qemu-arm-static',
      'magic \\x7f\\x45\\x4c\\x46\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x28\\x00',
      'offset 0',
      'mask \\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
      'credentials yes',
      'fix_binary yes',
      'preserve yes',
      '',
    ].join('\n'));
  });
});

describe('reference programs and what an entry takes', () => {
  it('referenceProgram: the probe, i486 as the i386 probe with EM_486', () => {
    const i486 = referenceProgram('i486');
    assert.ok(i486 !== null);
    assert.equal(parseElfBytes(i486).machine, 6);
    const aarch64 = referenceProgram('aarch64');
    assert.ok(aarch64 !== null);
    assert.equal(parseElfBytes(aarch64).machine, 183);
    const i386 = referenceProgram('i386');
    assert.ok(i386 !== null);
    assert.deepEqual([...i486.subarray(20)], [...i386.subarray(20)], 'only e_machine differs');
  });

  it('nativeMatches: an entry that takes host programs names the native architectures it takes', () => {
    const x86Entry = ownEntry(archByName('x86_64'), '/usr/bin/qemu-x86_64-static', parseFlagLetters('F'));
    assert.deepEqual(nativeMatches(x86Entry, ['x86_64', 'i386']), ['x86_64']);
    const arm = ownEntry(archByName('aarch64'), '/usr/bin/qemu-aarch64-static', parseFlagLetters('F'));
    assert.deepEqual(nativeMatches(arm, ['x86_64', 'i386']), []);
  });

  it('sameEntryContent: the name aside, any difference counts', () => {
    const base = ownEntry(archByName('arm'), '/usr/bin/qemu-arm-static', parseFlagLetters('F'));
    assert.equal(sameEntryContent(base, { ...base, name: 'other' }), true);
    assert.equal(sameEntryContent(base, { ...base, interpreter: '/usr/bin/qemu-arm' }), false);
    assert.equal(sameEntryContent(base, { ...base, flags: parseFlagLetters('PF') }), false);
    assert.equal(sameEntryContent(base, { ...base, enabled: false }), false);
  });
});

describe('ruleWarnings', () => {
  it('flags a rule that takes native programs, with the interpreter named', () => {
    const wide = parse(':x:M::\\x7fELF::/bin/true:');
    const warnings = ruleWarnings(wide, ['x86_64', 'i386']);
    assert.deepEqual(warnings.map((warning) => warning.code), ['TAKES_NATIVE']);
    assert.match(warnings[0]?.message ?? '', /'x86_64', 'i386'.*'\/bin\/true'/);
    assert.deepEqual(ruleWarnings(ownEntry(archByName('aarch64'), '/x', parseFlagLetters('F')), ['x86_64', 'i386']), []);
  });
});
