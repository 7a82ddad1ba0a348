import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  formatRegisterString, judgeRegisterString, kstrtoint10, parseEntryText, parseRegisterString, renderEntryText,
  toRecordBytes,
} from './rule.ts';
import type { BinfmtEntry } from './entry.ts';

// Golden cases; every one was checked against a 6.18 kernel (the kernel test re-checks them).
// Expected: an errno, or the exact text of the entry file.
const RULES: readonly (readonly [string, string])[] = [
  [':a:E::b::c:', 'enabled\ninterpreter c\nflags: \nextension .b\n'],
  [':a:E::b::c', 'EINVAL'],
  [':a:E::b::c:\n', 'enabled\ninterpreter c\nflags: \nextension .b\n'],
  [':a:E::b::c:\n\n', 'EINVAL'],
  [':a:E::b::c:\r\n', 'EINVAL'],
  [':a:M:+5:ab::/x:', 'enabled\ninterpreter /x\nflags: \noffset 5\nmagic 6162\n'],
  [':a:M:5\n:ab::/x:', 'enabled\ninterpreter /x\nflags: \noffset 5\nmagic 6162\n'],
  [':a:M:05:ab::/x:', 'enabled\ninterpreter /x\nflags: \noffset 5\nmagic 6162\n'],
  [':a:M:-0:ab::/x:', 'enabled\ninterpreter /x\nflags: \noffset 0\nmagic 6162\n'],
  [':a:M:0x10:ab::/x:', 'EINVAL'],
  [':a:M:-1:ab::/x:', 'EINVAL'],
  [':a:M:4294967296:ab::/x:', 'EINVAL'],
  [':a:M: 5:ab::/x:', 'EINVAL'],
  [':a:M:++5:ab::/x:', 'EINVAL'],
  [':a:M:\n:ab::/x:', 'EINVAL'],
  [':a:M::\\x2:/x:', 'EINVAL'],
  [':a:M::\\x4g::/x:', 'EINVAL'],
  [':a:M::ab\\x::/x:', 'EINVAL'],
  [':a:M::\\n\\\\::/x:', 'enabled\ninterpreter /x\nflags: \noffset 0\nmagic 5c6e5c5c\n'],
  [':a:M::\\x00ab::/x:', 'enabled\ninterpreter /x\nflags: \noffset 0\nmagic 006162\n'],
  [':a:M::a\x00b::/x:', 'enabled\ninterpreter /x\nflags: \noffset 0\nmagic 61\n'],
  [':a:M::ab:f\x00f:/x:', 'EINVAL'],
  [':a:M::\\x3a::/x:', 'enabled\ninterpreter /x\nflags: \noffset 0\nmagic 3a\n'],
  [':a:M::\\X41::/x:', 'enabled\ninterpreter /x\nflags: \noffset 0\nmagic 5c583431\n'],
  [':a:M::ab\\::/x:', 'enabled\ninterpreter /x\nflags: \noffset 0\nmagic 61625c\n'],
  [':a:M::ab:ff:/x:', 'enabled\ninterpreter /x\nflags: \noffset 0\nmagic 6162\nmask 6666\n'],
  [':a:M::ab:fff:/x:', 'EINVAL'],
  ['PaPEPPbPPcP', 'EINVAL'],
  ['FaFEFFbFFcF', 'EINVAL'],
  ['XaXEXXbXXcX', 'enabled\ninterpreter c\nflags: \nextension .b\n'],
  ['\x00a\x00E\x00\x00b\x00\x00c\x00', 'enabled\ninterpreter c\nflags: \nextension .b\n'],
  ['\na\nE\n\nb\n\nc\n', 'EINVAL'],
  ['\\a\\M\\\\ab\\\\/x\\', 'enabled\ninterpreter /x\nflags: \noffset 0\nmagic 6162\n'],
  [':.:E::b::c:', 'EINVAL'],
  [':..:E::b::c:', 'EINVAL'],
  [':a/b:E::b::c:', 'EINVAL'],
  ['::E::b::c:', 'EINVAL'],
  [':a\x00:E::b::c:', 'EINVAL'],
  [':a:E:junk:b:junk:c:', 'enabled\ninterpreter c\nflags: \nextension .b\n'],
  [':a:E::b/c::c:', 'EINVAL'],
  [':a:E:::x:c:', 'EINVAL'],
  [':a:E::b\\x41::c:', 'enabled\ninterpreter c\nflags: \nextension .b\\x41\n'],
  [':a:E::b:::', 'EINVAL'],
  [':a:E::b::c:C', 'enabled\ninterpreter c\nflags: OC\nextension .b\n'],
  [':a:E::b::c:OOPP', 'enabled\ninterpreter c\nflags: PO\nextension .b\n'],
  [':a:E::b::c:p', 'EINVAL'],
  [':a:E::b::c:P:', 'EINVAL'],
  [':a:E::b::c:P ', 'EINVAL'],
  [':a:m::b::c:', 'EINVAL'],
  [':a:MM::b::c:', 'EINVAL'],
  [':a:B::b::c:', 'EINVAL'],
  [`:a:M:0:${'\\x41'.repeat(256)}::/x:`, `enabled\ninterpreter /x\nflags: \noffset 0\nmagic ${'41'.repeat(256)}\n`],
  [`:a:M:0:${'\\x41'.repeat(257)}::/x:`, 'EINVAL'],
  [`:a:M:1:${'\\x41'.repeat(256)}::/x:`, 'EINVAL'],
  [':a:M:255:A::/x:', 'enabled\ninterpreter /x\nflags: \noffset 255\nmagic 41\n'],
  [':a:M:256:A::/x:', 'EINVAL'],
  // 1920 bytes is the longest record, the trailing newline included.
  [`:a:E::b::${'c'.repeat(1910)}:`, `enabled\ninterpreter ${'c'.repeat(1910)}\nflags: \nextension .b\n`],
  [`:a:E::b::${'c'.repeat(1911)}:`, 'EINVAL'],
  [`:a:E::b::${'c'.repeat(1909)}:\n`, `enabled\ninterpreter ${'c'.repeat(1909)}\nflags: \nextension .b\n`],
  [`:a:E::b::${'c'.repeat(1910)}:\n`, 'EINVAL'],
  [':a:E::b:', 'EINVAL'],
  [':a:E:b::', 'EINVAL'],
];

test('parseRegisterString agrees with the kernel on every golden rule', () => {
  for (const [rule, expected] of RULES) {
    const result = parseRegisterString(rule);
    const got = result.ok ? renderEntryText(result.entry) : result.errno;
    assert.equal(got, expected, JSON.stringify(rule.slice(0, 80)));
  }
});

test('a newline delimiter needs the flags field followed by a newline', () => {
  assert.equal(parseRegisterString('\na\nE\n\nb\n\nc\n\n').ok, true);
});

test('a mask starting with a raw NUL means no mask', () => {
  const result = parseRegisterString(':a:M::ab:\x00f:/x:');
  assert.ok(result.ok);
  assert.equal(result.entry.type === 'magic' && result.entry.mask, null);
});

test('kstrtoint10 follows the kernel rules', () => {
  const cases: [string, number | null][] = [
    ['0', 0], ['+5', 5], ['5\n', 5], ['-0', 0], ['007', 7], ['2147483647', 2147483647], ['2147483648', null],
    ['-2147483648', -2147483648], ['', null], ['+', null], ['-', null], ['5\n\n', null], ['0x10', null], ['1a', null],
    ['99999999999999999999999', null],
  ];
  for (const [text, value] of cases) assert.equal(kstrtoint10(toRecordBytes(text)), value, JSON.stringify(text));
});

test('judgeRegisterString: create_entry errors, then the F open, then ENAMETOOLONG/EEXIST', () => {
  const environment = { openInterpreter: () => 'ENOENT', nameTaken: (name: string) => name === 'taken' };
  assert.equal(judgeRegisterString(':taken:E::b::/x:Q', environment).ok, false);
  const order = (rule: string): string | null => {
    const verdict = judgeRegisterString(rule, environment);
    return verdict.ok ? null : verdict.errno;
  };
  assert.equal(order(':taken:E::b::/x:Q'), 'EINVAL');
  assert.equal(order(':taken:E::b::/x:F'), 'ENOENT');
  assert.equal(order(':taken:E::b::/x:'), 'EEXIST');
  assert.equal(order(':status:E::b::/x:'), 'EEXIST');
  assert.equal(order(':register:E::b::/x:'), 'EEXIST');
  assert.equal(order(`:${'n'.repeat(256)}:E::b::/x:`), 'ENAMETOOLONG');
  assert.equal(order(`:${'n'.repeat(255)}:E::b::/x:`), null);
});

const ENTRIES: [BinfmtEntry, BinfmtEntry] = [
  {
    name: 'qemu-ppc', enabled: true, interpreter: '/qemu-ppc', flags: { P: true, O: true, C: true, F: false },
    type: 'magic', offset: 0,
    magic: Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 1, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x14]),
    mask: Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff]),
  },
  { name: 'exe', enabled: false, interpreter: '/usr/bin:wine', flags: { P: false, O: false, C: false, F: true }, type: 'extension', extension: 'exe' },
];

test('renderEntryText: the spec example', () => {
  assert.equal(renderEntryText(ENTRIES[0]),
    'enabled\ninterpreter /qemu-ppc\nflags: POC\noffset 0\nmagic 7f454c4601020100000000000000000000020014\nmask ffffffffffffff00fffffffffffffffffffeffff\n');
});

test('formatRegisterString round-trips, parseEntryText inverts renderEntryText', () => {
  for (const entry of ENTRIES) {
    const rule = formatRegisterString(entry);
    const parsed = parseRegisterString(rule);
    assert.ok(parsed.ok, rule);
    assert.deepEqual(parsed.entry, { ...entry, enabled: true });
    assert.deepEqual(parseEntryText(entry.name, renderEntryText(entry)), entry);
  }
  assert.equal(formatRegisterString(ENTRIES[0]).startsWith(':qemu-ppc:M::\\x7f\\x45'), true);
  assert.equal(formatRegisterString(ENTRIES[1]), '|exe|E||exe||/usr/bin:wine|F');
});

test('parseEntryText rejects text that is not an entry', () => {
  for (const text of ['', 'enabled\n', 'enabled\ninterpreter x\nflags: Q\nextension .b\n', 'on\ninterpreter x\nflags: \nextension .b\n',
    'enabled\ninterpreter x\nflags: \noffset 0\nmagic 4\n', 'enabled\ninterpreter x\nflags: \noffset 0\nmagic 41\nmask 4141\n']) {
    assert.throws(() => parseEntryText('n', text), { code: 'BINFMT_READ' }, JSON.stringify(text));
  }
});

const byteStringArbitrary = (chars: string, min: number, max: number) =>
  fc.array(fc.constantFrom(...chars), { minLength: min, maxLength: max }).map((parts) => parts.join(''));

test('property: random rules never throw; accepted ones format and round-trip', () => {
  const piece = byteStringArbitrary(':\\xX0123456789abfgMEPOCF+-\n\r\x00/. ', 0, 12);
  fc.assert(fc.property(fc.array(piece, { minLength: 1, maxLength: 8 }), (parts) => {
    const rule = parts.join(':');
    const result = parseRegisterString(rule);
    if (!result.ok) return;
    assert.deepEqual(parseEntryText(result.entry.name, renderEntryText(result.entry)), result.entry);
    const again = parseRegisterString(formatRegisterString(result.entry));
    assert.ok(again.ok);
    assert.equal(renderEntryText(again.entry), renderEntryText(result.entry));
  }), { numRuns: 3000 });
});

test('property: any magic entry formats and round-trips', () => {
  fc.assert(fc.property(
    fc.uint8Array({ minLength: 1, maxLength: 256 }), fc.boolean(), fc.nat(255), fc.constantFrom('', 'P', 'OC', 'POCF'),
    (magic, withMask, offsetSeed, letters) => {
      const offset = offsetSeed % (257 - magic.length);
      const entry: BinfmtEntry = {
        name: 'm', enabled: true, interpreter: '/x', type: 'magic', offset, magic, mask: withMask ? magic.map((b) => b ^ 0x5a) : null,
        flags: { P: letters.includes('P'), O: letters.includes('O'), C: letters.includes('C'), F: letters.includes('F') },
      };
      const parsed = parseRegisterString(formatRegisterString(entry));
      assert.ok(parsed.ok);
      assert.deepEqual(parsed.entry, entry);
    }), { numRuns: 500 });
});
