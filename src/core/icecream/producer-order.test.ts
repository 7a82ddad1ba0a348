import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DIRECTIVES_ONLY, FILLER_LENGTH, FILLER_SWITCH, fillerFor, gccStringHash } from './producer-order.ts';

describe('gccStringHash', () => {
  it('is libiberty\'s htab_hash_string: r = r * 67 + c - 113, mod 2^32', () => {
    assert.equal(gccStringHash(''), 0);
    assert.equal(gccStringHash('a'), 97 - 113 + 2 ** 32);
    assert.equal(gccStringHash('ab'), ((97 - 113) * 67 + 98 - 113 + 2 ** 32) % 2 ** 32);
    // Continuing from a start value is hashing the concatenation.
    assert.equal(gccStringHash(' -g -O2', gccStringHash('GNU C17 14.2.0')), gccStringHash('GNU C17 14.2.0 -g -O2'));
  });
});

describe('fillerFor', () => {
  const prefixes = [
    'GNU C17 14.2.0 -mlittle-endian -mabi=lp64 -g -O2',
    'GNU C++17 14.2.0 -mlittle-endian -mabi=lp64 -mbranch-protection=standard -g -O2 -fstack-protector-strong -fstack-clash-protection',
    'GNU C99 12.2.0 -mtune=generic -march=x86-64 -gdwarf-4 -O1 -std=gnu99',
    '',
    ...Array.from({ length: 200 }, (_, i) => `GNU C17 14.2.0 -g -O${String(i % 4)} -fno-${'x'.repeat(i)}`),
  ];

  it('gives the helper\'s producer string the hash of the root\'s, whatever follows the switch', () => {
    for (const prefix of prefixes) {
      const filler = fillerFor(prefix);
      assert.ok(filler !== null, prefix);
      for (const rest of ['', ' -fasynchronous-unwind-tables', ' -fPIC -fasynchronous-unwind-tables']) {
        const helper: string = `${prefix}${DIRECTIVES_ONLY} ${FILLER_SWITCH}${filler}${rest}`;
        assert.equal(gccStringHash(helper), gccStringHash(prefix + rest), helper);
      }
    }
  });

  it('uses seven characters from \'#\' to \'[\': printable, no space, quote or backslash', () => {
    for (const prefix of prefixes) {
      const filler = fillerFor(prefix) ?? '';
      assert.equal(filler.length, FILLER_LENGTH);
      assert.match(filler, /^[#-[]{7}$/);
      assert.doesNotMatch(filler, /[ "\\]/);
    }
  });

  it('without the filler the hashes differ (which is what moved the producer string)', () => {
    const prefix = prefixes[0] ?? '';
    assert.notEqual(gccStringHash(`${prefix}${DIRECTIVES_ONLY} -fasynchronous-unwind-tables`), gccStringHash(`${prefix} -fasynchronous-unwind-tables`));
  });

  it('refuses a prefix with bytes outside printable ASCII (gcc escapes them in the assembly)', () => {
    assert.equal(fillerFor('GNU C17 14.2.0 -fprofile-dir=/tmp/\u00e9'), null);
  });
});
