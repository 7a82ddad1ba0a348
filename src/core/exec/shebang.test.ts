import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseShebang, scriptArgv } from './shebang.ts';

const bytes = (text: string): Uint8Array => Uint8Array.from(text, (char) => char.charCodeAt(0));
const ok = (interpreter: string, argument: string | null, truncated = false) => ({ ok: true, interpreter, argument, truncated });
const fail = (reason: string) => ({ ok: false, errno: 'ENOEXEC', reason });

describe('parseShebang', () => {
  // [name, file bytes (latin1), expected]
  const cases: [string, string, unknown][] = [
    ['not a script', '\x7fELF', null],
    ['single #', '#', null],
    ['plain', '#!/bin/sh\necho', ok('/bin/sh', null)],
    ['one argument', '#!/bin/sh -e\n', ok('/bin/sh', '-e')],
    ['argument keeps inner spaces', '#!/usr/bin/env -S a  b\n', ok('/usr/bin/env', '-S a  b')],
    ['leading blanks skipped', '#! \t /bin/sh\n', ok('/bin/sh', null)],
    ['tabs separate', '#!/bin/sh\t-x\t\n', ok('/bin/sh', '-x')],
    ['trailing blanks trimmed', '#!/bin/sh   \n', ok('/bin/sh', null)],
    ['blank run before argument', '#!/bin/sh \t -x y \t\n', ok('/bin/sh', '-x y')],
    ['CRLF keeps the \\r', '#!/bin/sh\r\n', ok('/bin/sh\r', null)],
    ['CRLF with argument', '#!/bin/sh -e\r\n', ok('/bin/sh', '-e\r')],
    ['\\v and \\f are ordinary', '#!/bin/s\vh\f\n', ok('/bin/s\vh\f', null)],
    ['relative interpreter', '#!python\n', ok('python', null)],
    ['empty line', '#!\n', fail('no-interpreter')],
    ['only blanks then newline', '#!  \t \n', fail('no-interpreter')],
    ['no newline, short file', '#!/bin/sh', ok('/bin/sh', null)],
    ['no newline, argument', '#!/bin/sh -x', ok('/bin/sh', '-x')],
    ['no newline + trailing blank: empty argument quirk', '#!/bin/sh ', ok('/bin/sh', '')],
    ['no newline + trailing tabs: empty argument quirk', '#!/bin/sh\t\t', ok('/bin/sh', '')],
    ['only #! and no newline: empty interpreter', '#!', ok('', null)],
    ['#! and blanks, no newline: empty interpreter', '#!   ', ok('', null)],
    ['NUL right after #!', '#!\0/bin/sh\n', ok('', null)],
    ['NUL ends the interpreter, no argument', '#!/bin/sh\0 -x\n', ok('/bin/sh', null)],
    ['NUL ends the argument', '#!/bin/sh -x\0-y\n', ok('/bin/sh', '-x')],
    ['NUL right after the separator: empty argument', '#!/bin/sh \0-y\n', ok('/bin/sh', '')],
    ['newline after NULs still counts', '#!/bin/sh\0\0\0\nx', ok('/bin/sh', null)],
    ['latin1 bytes survive', '#!/opt/\xe9\xff/sh \x80\n', ok('/opt/\xe9\xff/sh', '\x80')],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => assert.deepEqual(parseShebang(bytes(text)), expected));
  }

  describe('the 256-byte window', () => {
    const pad = (length: number, char = 'a'): string => char.repeat(length);
    it('a 255-byte line plus newline fits whole', () => {
      const line = `#!/${pad(252)}`; // 255 bytes, newline at index 255
      assert.equal(line.length, 255);
      assert.deepEqual(parseShebang(bytes(`${line}\n`)), ok(`/${pad(252)}`, null));
    });
    it('a 256-byte interpreter line without newline is refused as truncated', () => {
      assert.deepEqual(parseShebang(bytes(`#!/${pad(253)}\n`)), fail('interpreter-truncated'));
    });
    it('a 253-byte interpreter ended by a blank at index 255 runs', () => {
      assert.deepEqual(parseShebang(bytes(`#!/${pad(252)} more`)), ok(`/${pad(252)}`, null, true));
    });
    it('a 253-byte interpreter ended by the end of a 255-byte file runs', () => {
      assert.deepEqual(parseShebang(bytes(`#!/${pad(252)}`)), ok(`/${pad(252)}`, null));
    });
    it('a 254-byte interpreter in a longer file is refused', () => {
      assert.deepEqual(parseShebang(bytes(`#!/${pad(253)} x\n`)), fail('interpreter-truncated'));
    });
    it('the argument is cut at byte 254', () => {
      const result = parseShebang(bytes(`#!/bin/sh ${pad(300, 'b')}\n`));
      assert.deepEqual(result, ok('/bin/sh', pad(254 - 10 + 1, 'b'), true));
    });
    it('a cut argument loses its trailing blanks', () => {
      const text = `#!/bin/sh x${pad(244, ' ')}${pad(50, 'c')}\n`; // blanks reach index 254
      assert.deepEqual(parseShebang(bytes(text)), ok('/bin/sh', 'x', true));
    });
    it('a newline at index 255 counts as found', () => {
      const text = `#!/bin/sh ${pad(245, 'b')}\n`;
      assert.equal(text.indexOf('\n'), 255);
      assert.deepEqual(parseShebang(bytes(text)), ok('/bin/sh', pad(245, 'b')));
    });
    it('a newline at index 256 is outside the window', () => {
      const text = `#!/bin/sh ${pad(246, 'b')}\n`;
      assert.deepEqual(parseShebang(bytes(text)), ok('/bin/sh', pad(245, 'b'), true));
    });
    it('256 blanks after #! are refused', () => {
      assert.deepEqual(parseShebang(bytes(`#!${pad(300, ' ')}`)), fail('all-blank'));
    });
  });

  it('never throws and stays within the window on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (tail) => {
      const head = new Uint8Array(tail.length + 2);
      head.set([0x23, 0x21]);
      head.set(tail, 2);
      const result = parseShebang(head);
      assert.ok(result !== null);
      if (result.ok) {
        assert.ok(result.interpreter.length <= 253);
        assert.ok(!result.interpreter.includes('\0') && !/[ \t\n]/.test(result.interpreter));
        assert.ok(result.argument === null || (result.argument.length <= 252 && !result.argument.includes('\n')));
      }
    }), { numRuns: 2000 });
  });
});

describe('scriptArgv', () => {
  it('splices interpreter, argument and the path as invoked over argv[0]', () => {
    assert.deepEqual(scriptArgv('/bin/sh', '-e', './s.sh', ['s', 'x']), ['/bin/sh', '-e', './s.sh', 'x']);
    assert.deepEqual(scriptArgv('/bin/sh', null, 's.sh', ['s']), ['/bin/sh', 's.sh']);
    assert.deepEqual(scriptArgv('/bin/sh', '', 's', ['s']), ['/bin/sh', '', 's']);
  });
});
