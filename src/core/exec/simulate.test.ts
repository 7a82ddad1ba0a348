import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BinfmtEntry, BinfmtFlags } from '../binfmt/entry.ts';
import type { ElfFacts, ExecWorld, FileLookup } from './simulate.ts';
import { qemuTargetOf, simulateExec } from './simulate.ts';

const bytes = (text: string): Uint8Array => Uint8Array.from(text, (char) => char.charCodeAt(0));

interface FileSpec {
  readonly head?: string;
  readonly elf?: ElfFacts;
  readonly mode?: 'x' | '-';
  readonly setid?: boolean;
  readonly kind?: 'dir' | 'special';
}

const X86_64 = 62;
const AARCH64 = 183;

function elf(machine: number, options: Partial<ElfFacts> = {}): FileSpec {
  const facts: ElfFacts = { class: 64, endian: 'little', machine, type: 2, headersLoadable: true, interpreter: null, ...options };
  return { head: `\x7fELF\x02\x01\x01${'\0'.repeat(57)}`, elf: facts };
}

function flags(letters: string): BinfmtFlags {
  return { P: letters.includes('P'), O: letters.includes('O') || letters.includes('C'), C: letters.includes('C'), F: letters.includes('F') };
}

function magicEntry(name: string, interpreter: string, magic: string, options: { flags?: string; enabled?: boolean; offset?: number; mask?: string } = {}): BinfmtEntry {
  return {
    type: 'magic', name, interpreter, enabled: options.enabled ?? true, flags: flags(options.flags ?? ''),
    offset: options.offset ?? 0, magic: bytes(magic), mask: options.mask === undefined ? null : bytes(options.mask),
  };
}

/** The QEMU aarch64 magic (first 20 bytes) with its mask. */
const AARCH64_MAGIC = '\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00';
const AARCH64_MASK = '\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff';
function aarch64Head(): string {
  return `${AARCH64_MAGIC}${'\0'.repeat(44)}`;
}
function aarch64(options: Partial<ElfFacts> = {}): FileSpec {
  return { head: aarch64Head(), elf: { ...elf(AARCH64, options).elf as ElfFacts } };
}
const qemuEntry = (flagLetters = '', interpreter = '/usr/bin/qemu-aarch64-static', name = 'qemu-aarch64'): BinfmtEntry =>
  magicEntry(name, interpreter, AARCH64_MAGIC, { flags: flagLetters, mask: AARCH64_MASK });

function world(files: Record<string, FileSpec>, entries: BinfmtEntry[] = [], options: { root?: string; enabled?: boolean; hostFiles?: Record<string, FileSpec> } = {}): ExecWorld {
  const toLookup = (table: Record<string, FileSpec>, path: string): FileLookup => {
    const spec = table[path];
    if (spec === undefined) return { kind: 'missing' };
    if (spec.kind !== undefined) return { kind: spec.kind, realPath: path };
    return { kind: 'file', realPath: path, executable: spec.mode !== '-', setid: spec.setid ?? false, head: bytes(spec.head ?? ''), elf: spec.elf ?? null };
  };
  return {
    lookup: (path) => toLookup(files, path),
    pinned: (entry) => toLookup(options.hostFiles ?? files, entry.interpreter),
    binfmt: { enabled: options.enabled ?? true, entries },
    host: { native: [{ machine: X86_64, class: 64 }, { machine: 3, class: 32 }] },
    root: options.root ?? null,
  };
}

const STATIC_QEMU = { '/usr/bin/qemu-aarch64-static': elf(X86_64) };
const codes = (prediction: { problems: readonly { code: string }[] }): string[] => prediction.problems.map((p) => p.code);

describe('simulateExec: ELF', () => {
  it('loads a native static program with argv unchanged', () => {
    const p = simulateExec({ path: '/bin/true', argv: ['true', 'a'] }, world({ '/bin/true': elf(X86_64) }));
    assert.equal(p.ok, true);
    assert.equal(p.errno, null);
    assert.equal(p.program, '/bin/true');
    assert.deepEqual(p.argv, ['true', 'a']);
    assert.equal(p.loader, null);
    assert.deepEqual(p.steps.map((s) => [s.handler, s.result]), [['elf', 'loaded']]);
  });
  it('reports the loader of a dynamic program', () => {
    const files = { '/bin/ls': elf(X86_64, { type: 3, interpreter: '/lib64/ld.so' }), '/lib64/ld.so': elf(X86_64, { type: 3 }) };
    const p = simulateExec({ path: '/bin/ls', argv: ['ls'] }, world(files));
    assert.equal(p.loader, '/lib64/ld.so');
    assert.equal(p.ok, true);
  });
  it('fails with ENOENT when the loader is missing', () => {
    const p = simulateExec({ path: '/bin/ls', argv: ['ls'] }, world({ '/bin/ls': elf(X86_64, { interpreter: '/lib64/ld.so' }) }));
    assert.equal(p.errno, 'ENOENT');
    assert.deepEqual(codes(p), ['LOADER_MISSING']);
  });
  it('fails with EIO for a loader shorter than an ELF header, ELIBBAD for a script or foreign ELF, EACCES when not executable', () => {
    for (const [loader, errno] of [[{ head: '#!/bin/sh\n' }, 'EIO'], [{ head: `#!/bin/sh${' '.repeat(60)}\n` }, 'ELIBBAD'], [aarch64(), 'ELIBBAD'], [elf(3, { class: 32 }), 'ELIBBAD'], [{ ...elf(X86_64), mode: '-' as const }, 'EACCES']] as const) {
      const files = { '/bin/ls': elf(X86_64, { interpreter: '/ld' }), '/ld': loader, '/bin/sh': elf(X86_64) };
      assert.equal(simulateExec({ path: '/bin/ls', argv: ['ls'] }, world(files)).errno, errno);
    }
  });
  it('refuses a foreign ELF without a handler with ENOEXEC and advice', () => {
    const p = simulateExec({ path: '/bin/arm', argv: ['arm'] }, world({ '/bin/arm': aarch64() }));
    assert.equal(p.errno, 'ENOEXEC');
    assert.deepEqual(codes(p), ['NO_HANDLER']);
    assert.match(p.problems[0]?.fix ?? '', /crossroot binfmt install aarch64/);
  });
  it('refuses ET_REL and ET_CORE', () => {
    for (const type of [1, 4]) {
      const p = simulateExec({ path: '/x.o', argv: ['x'] }, world({ '/x.o': elf(X86_64, { type }) }));
      assert.equal(p.errno, 'ENOEXEC');
      assert.deepEqual(codes(p), ['ELF_NOT_EXECUTABLE_TYPE']);
    }
  });
  it('passes through a malformed PT_INTERP errno', () => {
    const p = simulateExec({ path: '/x', argv: ['x'] }, world({ '/x': elf(X86_64, { interpreter: '', interpreterError: 'EIO' }) }));
    assert.equal(p.errno, 'EIO');
  });
});

describe('simulateExec: opening the file', () => {
  const cases: [string, FileSpec | undefined, string, string][] = [
    ['missing', undefined, 'ENOENT', 'FILE_MISSING'],
    ['no x bit', { ...elf(X86_64), mode: '-' }, 'EACCES', 'NOT_EXECUTABLE'],
    ['a directory', { kind: 'dir' }, 'EACCES', 'NOT_A_REGULAR_FILE'],
    ['a device', { kind: 'special' }, 'EACCES', 'NOT_A_REGULAR_FILE'],
  ];
  for (const [name, spec, errno, code] of cases) {
    it(name, () => {
      const p = simulateExec({ path: '/f', argv: ['f'] }, world(spec === undefined ? {} : { '/f': spec }));
      assert.equal(p.errno, errno);
      assert.deepEqual(codes(p), [code]);
      assert.equal(p.argv, null);
    });
  }
  it('checks execute permission before any handler: a non-executable file matching an entry', () => {
    const p = simulateExec({ path: '/f', argv: ['f'] }, world({ '/f': { ...aarch64(), mode: '-' }, ...STATIC_QEMU }, [qemuEntry()]));
    assert.equal(p.errno, 'EACCES');
    assert.deepEqual(p.steps, []);
  });
  it('gives plain text ENOEXEC', () => {
    const p = simulateExec({ path: '/f', argv: ['f'] }, world({ '/f': { head: 'hello' } }));
    assert.equal(p.errno, 'ENOEXEC');
    assert.deepEqual(codes(p), ['UNKNOWN_FORMAT']);
  });
  it('inserts "" for an empty argv', () => {
    const p = simulateExec({ path: '/s', argv: [] }, world({ '/s': { head: '#!/bin/sh\n' }, '/bin/sh': elf(X86_64) }));
    assert.deepEqual(p.argv, ['/bin/sh', '/s']);
  });
});

describe('simulateExec: binfmt_misc argv and flags', () => {
  const files = { '/r/hello': aarch64(), ...STATIC_QEMU };
  const cases: [string, string[], boolean, boolean][] = [
    ['', ['/usr/bin/qemu-aarch64-static', '/r/hello', 'a1', 'a2'], false, false],
    ['P', ['/usr/bin/qemu-aarch64-static', '/r/hello', 'hello', 'a1', 'a2'], true, false],
    ['O', ['/usr/bin/qemu-aarch64-static', '/r/hello', 'a1', 'a2'], false, true],
    ['C', ['/usr/bin/qemu-aarch64-static', '/r/hello', 'a1', 'a2'], false, true],
    ['F', ['/usr/bin/qemu-aarch64-static', '/r/hello', 'a1', 'a2'], false, false],
    ['POCF', ['/usr/bin/qemu-aarch64-static', '/r/hello', 'hello', 'a1', 'a2'], true, true],
  ];
  for (const [letters, argv, preserve, execfd] of cases) {
    it(`flags '${letters}'`, () => {
      const p = simulateExec({ path: '/r/hello', argv: ['hello', 'a1', 'a2'] }, world(files, [qemuEntry(letters)]));
      assert.equal(p.ok, true);
      assert.deepEqual(p.argv, argv);
      assert.equal(p.preserveArgv0, preserve);
      assert.equal(p.execfd, execfd);
      assert.equal(p.program, '/usr/bin/qemu-aarch64-static');
      assert.equal(p.credentialsFrom, letters.includes('C') ? '/r/hello' : '/usr/bin/qemu-aarch64-static');
      assert.deepEqual(p.steps.map((s) => [s.handler, s.entry ?? null, s.result]), [['binfmt_misc', 'qemu-aarch64', 'delegated'], ['elf', null, 'loaded']]);
    });
  }
  it('keeps a relative path as invoked', () => {
    const p = simulateExec({ path: 'hello', argv: ['x'] }, world({ hello: aarch64(), ...STATIC_QEMU }, [qemuEntry()]));
    assert.deepEqual(p.argv, ['/usr/bin/qemu-aarch64-static', 'hello']);
  });
  it('matches the newest entry first and skips disabled ones', () => {
    const older = qemuEntry('', '/usr/bin/qemu-aarch64-static', 'older');
    const newer = qemuEntry('P', '/usr/bin/qemu-aarch64-static', 'newer');
    let p = simulateExec({ path: '/r/hello', argv: ['h'] }, world(files, [newer, older]));
    assert.equal(p.steps[0]?.entry, 'newer');
    p = simulateExec({ path: '/r/hello', argv: ['h'] }, world(files, [{ ...newer, enabled: false }, older]));
    assert.equal(p.steps[0]?.entry, 'older');
    assert.deepEqual(codes(p), ['ENTRY_DISABLED']);
    assert.equal(p.problems[0]?.severity, 'warning');
  });
  it('explains a disabled entry and a disabled instance', () => {
    let p = simulateExec({ path: '/r/hello', argv: ['h'] }, world(files, [{ ...qemuEntry(), enabled: false }]));
    assert.equal(p.errno, 'ENOEXEC');
    assert.deepEqual(codes(p), ['ENTRY_DISABLED', 'NO_HANDLER']);
    p = simulateExec({ path: '/r/hello', argv: ['h'] }, world(files, [qemuEntry()], { enabled: false }));
    assert.equal(p.errno, 'ENOEXEC');
    assert.deepEqual(codes(p), ['INSTANCE_DISABLED', 'NO_HANDLER']);
  });
  it('the fix for a disabled entry or instance names the instance given (--binfmt-dir), not /proc', () => {
    const dir = '/tmp/private-binfmt';
    const base = world(files, [{ ...qemuEntry(), enabled: false }]);
    let p = simulateExec({ path: '/r/hello', argv: ['h'] }, { ...base, binfmt: { ...base.binfmt, dir } });
    const fix = p.problems.find((item) => item.code === 'ENTRY_DISABLED')?.fix ?? '';
    assert.match(fix, /echo 1 > \/tmp\/private-binfmt\/qemu-aarch64$/);
    assert.doesNotMatch(fix, /\/proc\//);
    const off = world(files, [qemuEntry()], { enabled: false });
    p = simulateExec({ path: '/r/hello', argv: ['h'] }, { ...off, binfmt: { ...off.binfmt, dir: `${dir}/` } });
    assert.match(p.problems.find((item) => item.code === 'INSTANCE_DISABLED')?.fix ?? '', /echo 1 > \/tmp\/private-binfmt\/status$/);
    p = simulateExec({ path: '/r/hello', argv: ['h'] }, base);
    assert.match(p.problems.find((item) => item.code === 'ENTRY_DISABLED')?.fix ?? '', /echo 1 > \/proc\/sys\/fs\/binfmt_misc\/qemu-aarch64$/);
  });
  it('extension entries match the text after the last dot of the path', () => {
    const entry: BinfmtEntry = { type: 'extension', name: 'exe', extension: 'exe', interpreter: '/usr/bin/wine', enabled: true, flags: flags('') };
    const w = world({ '/a/b.exe': { head: 'MZ' }, '/a.exe/b': { head: 'MZ' }, '/usr/bin/wine': elf(X86_64) }, [entry]);
    assert.deepEqual(simulateExec({ path: '/a/b.exe', argv: ['b'] }, w).argv, ['/usr/bin/wine', '/a/b.exe']);
    assert.equal(simulateExec({ path: '/a.exe/b', argv: ['b'] }, w).errno, 'ENOEXEC');
  });
  it('a masked magic at an offset', () => {
    const entry = magicEntry('off', '/interp', 'AB', { offset: 3, mask: '\xff\xdf' });
    const w = world({ '/f': { head: 'xyzAb' }, '/g': { head: 'xyzAc' }, '/interp': elf(X86_64) }, [entry]);
    assert.equal(simulateExec({ path: '/f', argv: ['f'] }, w).ok, true);
    assert.equal(simulateExec({ path: '/g', argv: ['g'] }, w).errno, 'ENOEXEC');
  });
  it('a missing interpreter without F is ENOENT, with no fall-through', () => {
    const p = simulateExec({ path: '/r/hello', argv: ['h'] }, world({ '/r/hello': aarch64() }, [qemuEntry()]));
    assert.equal(p.errno, 'ENOENT');
    assert.deepEqual(codes(p), ['EMULATOR_MISSING']);
  });
  it('inside a root: without F the interpreter must be in the root; F uses the pinned host file', () => {
    const rootFiles = { '/hello': aarch64() };
    let p = simulateExec({ path: '/hello', argv: ['h'] }, world(rootFiles, [qemuEntry()], { root: '/srv/r', hostFiles: STATIC_QEMU }));
    assert.equal(p.errno, 'ENOENT');
    assert.deepEqual(codes(p), ['ENTRY_WITHOUT_F_IN_ROOT', 'EMULATOR_MISSING']);
    p = simulateExec({ path: '/hello', argv: ['h'] }, world(rootFiles, [qemuEntry('F')], { root: '/srv/r', hostFiles: STATIC_QEMU }));
    assert.equal(p.ok, true);
    assert.deepEqual(codes(p), []);
  });
  it('F pinned to a dynamic emulator: its loader is looked up in the root', () => {
    const host = { '/usr/bin/qemu-aarch64-static': elf(X86_64, { interpreter: '/lib64/ld.so' }) };
    const p = simulateExec({ path: '/hello', argv: ['h'] }, world({ '/hello': aarch64() }, [qemuEntry('F')], { root: '/srv/r', hostFiles: host }));
    assert.equal(p.errno, 'ENOENT');
    assert.deepEqual(codes(p), ['F_PINNED_DYNAMIC', 'LOADER_MISSING']);
  });
  it('F pinned to a file gone from the host: the kernel still runs it', () => {
    const p = simulateExec({ path: '/hello', argv: ['h'] }, world({ '/hello': aarch64() }, [qemuEntry('F')], { root: '/srv/r', hostFiles: {} }));
    assert.equal(p.ok, true);
    assert.deepEqual(p.argv, ['/usr/bin/qemu-aarch64-static', '/hello']);
    assert.deepEqual(codes(p), ['F_PINNED_GONE']);
  });
  it('reports DT_NEEDED libraries the world cannot find', () => {
    const files = { '/bin/ls': elf(X86_64, { interpreter: '/ld.so', needed: ['libc.so.6', 'libx.so.1'] }), '/ld.so': elf(X86_64) };
    const w: ExecWorld = { ...world(files), findLibrary: (name) => name === 'libc.so.6' };
    const p = simulateExec({ path: '/bin/ls', argv: ['ls'] }, w);
    assert.equal(p.ok, true);
    assert.deepEqual(codes(p), ['LIBRARY_MISSING']);
    assert.match(p.problems[0]?.message ?? '', /libx\.so\.1/);
  });
  it('warns about a setuid file under an entry without C', () => {
    const p = simulateExec({ path: '/r/hello', argv: ['h'] }, world({ '/r/hello': { ...aarch64(), setid: true }, ...STATIC_QEMU }, [qemuEntry()]));
    assert.equal(p.ok, true);
    assert.deepEqual(codes(p), ['SETUID_WITHOUT_C']);
  });
  it('an entry matching native ELF loops until ELOOP (or ENOEXEC with O)', () => {
    const hijack = magicEntry('hijack', '/usr/bin/qemu-aarch64-static', '\x7fELF');
    let p = simulateExec({ path: '/bin/true', argv: ['t'] }, world({ '/bin/true': elf(X86_64), ...STATIC_QEMU }, [hijack]));
    assert.equal(p.errno, 'ELOOP');
    assert.ok(codes(p).includes('ENTRY_MATCHES_NATIVE'));
    assert.ok(codes(p).includes('TOO_MANY_LEVELS'));
    assert.equal(p.steps.length, 6);
    p = simulateExec({ path: '/bin/true', argv: ['t'] }, world({ '/bin/true': elf(X86_64), ...STATIC_QEMU }, [{ ...hijack, flags: flags('O') }]));
    assert.equal(p.errno, 'ENOEXEC');
    assert.ok(codes(p).includes('OPEN_BINARY_NESTED'));
  });
  it('an O entry whose interpreter is a script fails with ENOEXEC; a script before an O entry is fine', () => {
    const entry = magicEntry('q', '/interp.sh', 'QQ', { flags: 'O' });
    const files = { '/f': { head: 'QQ' }, '/interp.sh': { head: '#!/bin/true\n' }, '/bin/true': elf(X86_64), '/s': { head: '#!/f\n' }, '/g': { head: 'RR' } };
    assert.equal(simulateExec({ path: '/f', argv: ['f'] }, world(files, [entry])).errno, 'ENOEXEC');
    const okEntry = magicEntry('r', '/bin/true', 'RR', { flags: 'O' });
    const p = simulateExec({ path: '/s', argv: ['s', 'x'] }, world({ ...files, '/s': { head: '#!/g -a\n' } }, [okEntry]));
    assert.equal(p.ok, true);
    assert.deepEqual(p.argv, ['/bin/true', '/g', '-a', '/s', 'x']);
    assert.equal(p.execfd, true);
  });
});

describe('simulateExec: scripts', () => {
  const sh = { '/bin/sh': elf(X86_64) };
  it('builds interpreter, argument, path as invoked, rest', () => {
    const p = simulateExec({ path: './s.sh', argv: ['s', 'x'] }, world({ './s.sh': { head: '#!/bin/sh -e\n' }, ...sh }));
    assert.deepEqual(p.argv, ['/bin/sh', '-e', './s.sh', 'x']);
    assert.equal(p.program, '/bin/sh');
  });
  it('scripts calling scripts, up to 5 rewrites; the 6th is ELOOP', () => {
    const chain = (length: number): Record<string, FileSpec> => {
      const files: Record<string, FileSpec> = { ...sh };
      for (let i = 0; i < length; i++) files[`/s${i}`] = { head: `#!${i === length - 1 ? '/bin/sh' : `/s${i + 1}`}\n` };
      return files;
    };
    const five = simulateExec({ path: '/s0', argv: ['s0'] }, world(chain(5)));
    assert.equal(five.ok, true);
    assert.deepEqual(five.argv, ['/bin/sh', '/s4', '/s3', '/s2', '/s1', '/s0']);
    const six = simulateExec({ path: '/s0', argv: ['s0'] }, world(chain(6)));
    assert.equal(six.errno, 'ELOOP');
    assert.deepEqual(codes(six), ['TOO_MANY_LEVELS']);
  });
  it('CRLF asks for /bin/sh\\r: ENOENT', () => {
    const p = simulateExec({ path: '/s', argv: ['s'] }, world({ '/s': { head: '#!/bin/sh\r\n' }, ...sh }));
    assert.equal(p.errno, 'ENOENT');
    assert.deepEqual(codes(p), ['SCRIPT_CRLF']);
  });
  it('an interpreter path too long is ENOEXEC', () => {
    const p = simulateExec({ path: '/s', argv: ['s'] }, world({ '/s': { head: `#!/${'a'.repeat(300)}\n` } }));
    assert.equal(p.errno, 'ENOEXEC');
    assert.deepEqual(codes(p), ['SHEBANG_TOO_LONG']);
  });
  it('the no-newline trailing-blank quirk adds an empty argument', () => {
    const p = simulateExec({ path: '/s', argv: ['s'] }, world({ '/s': { head: '#!/bin/sh ' }, ...sh }));
    assert.deepEqual(p.argv, ['/bin/sh', '', '/s']);
    assert.deepEqual(codes(p), ['SHEBANG_EMPTY_ARGUMENT']);
  });
  it('an empty interpreter (NUL or end of file after #!) opens the cwd: EACCES; an empty line is ENOEXEC', () => {
    for (const head of ['#!', '#!   ', '#!\0/bin/sh\n']) {
      const p = simulateExec({ path: '/s', argv: ['s'] }, world({ '/s': { head } }));
      assert.equal(p.errno, 'EACCES');
      assert.deepEqual(codes(p), ['SHEBANG_EMPTY']);
    }
    assert.equal(simulateExec({ path: '/s', argv: ['s'] }, world({ '/s': { head: '#!\n' } })).errno, 'ENOEXEC');
  });
  it('a script interpreter that is a foreign ELF goes through binfmt_misc', () => {
    const files = { '/s': { head: '#!/usr/bin/foo\n' }, '/usr/bin/foo': aarch64(), ...STATIC_QEMU };
    const p = simulateExec({ path: '/s', argv: ['s', 'x'] }, world(files, [qemuEntry()]));
    assert.deepEqual(p.argv, ['/usr/bin/qemu-aarch64-static', '/usr/bin/foo', '/s', 'x']);
  });
  it('a missing script interpreter is ENOENT', () => {
    const p = simulateExec({ path: '/s', argv: ['s'] }, world({ '/s': { head: '#!/nope\n' } }));
    assert.equal(p.errno, 'ENOENT');
    assert.deepEqual(codes(p), ['INTERPRETER_MISSING']);
  });
});

describe('qemuTargetOf', () => {
  it('names the QEMU target of an ELF for advice, null for an unknown machine', () => {
    assert.equal(qemuTargetOf({ class: 64, endian: 'little', machine: AARCH64 }), 'aarch64');
    assert.equal(qemuTargetOf({ class: 64, endian: 'big', machine: AARCH64 }), 'aarch64_be');
    assert.equal(qemuTargetOf({ class: 32, endian: 'little', machine: 40, flags: 0x05000400 }), 'arm');
    assert.equal(qemuTargetOf({ class: 64, endian: 'little', machine: 0x7777 }), null);
  });
});

describe('simulateExec: the program an emulator runs (QEMU loads its PT_INTERP)', () => {
  const LOADER = '/lib/ld-linux-aarch64.so.1';
  const program = aarch64({ type: 3, interpreter: LOADER, needed: ['libc.so.6'] });
  /** A world whose emulator view is `emulatedFiles` under `prefix` (null: the plain lookups). */
  function emulatedWorld(emulatedFiles: Record<string, FileSpec>, options: { root?: string; prefix?: string | null } = {}): ExecWorld {
    const base = world({ '/x/bash': program }, [qemuEntry('F')], { hostFiles: STATIC_QEMU, ...(options.root === undefined ? {} : { root: options.root }) });
    const inner = world(emulatedFiles);
    return { ...base, emulated: { prefix: options.prefix ?? null, lookup: inner.lookup, findLibrary: (name) => emulatedFiles[`/lib/aarch64-linux-gnu/${name}`] !== undefined } };
  }

  it('a dynamic arm64 program outside any root: the exec succeeds, the program cannot start', () => {
    const p = simulateExec({ path: '/x/bash', argv: ['bash'] }, emulatedWorld({}));
    assert.equal(p.ok, true, 'the kernel runs the emulator');
    assert.equal(p.starts, false);
    assert.deepEqual(codes(p), ['EMULATED_LOADER_MISSING']);
    const problem = p.problems[0];
    assert.equal(problem?.severity, 'error');
    assert.match(problem?.message ?? '', /'\/lib\/ld-linux-aarch64\.so\.1' does not exist on the host/);
    assert.match(problem?.fix ?? '', /crossroot run --arch aarch64 -- \/x\/bash/);
    assert.match(problem?.fix ?? '', /--root/);
    assert.deepEqual(p.emulated, {
      file: '/x/bash', entry: 'qemu-aarch64', emulator: '/usr/bin/qemu-aarch64-static', prefix: null, loader: LOADER, loaderRealPath: null,
    });
  });

  it('inside a root, the fix is to install the C library there; the prefix is named', () => {
    const p = simulateExec({ path: '/x/bash', argv: ['bash'] }, emulatedWorld({}, { root: '/srv/r', prefix: '/gnemul' }));
    assert.equal(p.starts, false);
    assert.match(p.problems.find((item) => item.code === 'EMULATED_LOADER_MISSING')?.message ?? '', /under the emulator's prefix '\/gnemul' or inside the root '\/srv\/r'/);
    assert.match(p.problems.find((item) => item.code === 'EMULATED_LOADER_MISSING')?.fix ?? '', /C library of aarch64 \(libc6\) inside the root/);
  });

  it('the loader and libc where QEMU looks: the program starts', () => {
    const files = { [LOADER]: aarch64({ type: 3 }), '/lib/aarch64-linux-gnu/libc.so.6': aarch64({ type: 3 }) };
    const p = simulateExec({ path: '/x/bash', argv: ['bash'] }, emulatedWorld(files));
    assert.equal(p.starts, true);
    assert.deepEqual(codes(p), []);
    assert.equal(p.emulated?.loaderRealPath, LOADER);
  });

  it('a loader of another machine is EMULATED_LOADER_BAD; a missing library a warning', () => {
    assert.deepEqual(codes(simulateExec({ path: '/x/bash', argv: ['bash'] }, emulatedWorld({ [LOADER]: elf(X86_64, { type: 3 }) }))), ['EMULATED_LOADER_BAD']);
    const noLibc = simulateExec({ path: '/x/bash', argv: ['bash'] }, emulatedWorld({ [LOADER]: aarch64({ type: 3 }) }));
    assert.equal(noLibc.starts, true);
    assert.deepEqual(codes(noLibc), ['EMULATED_LIBRARY_MISSING']);
  });

  it('static programs, and worlds without an emulator view, are not followed', () => {
    const staticWorld = { ...emulatedWorld({}), lookup: world({ '/x/bash': aarch64() }).lookup };
    const p = simulateExec({ path: '/x/bash', argv: ['bash'] }, staticWorld);
    assert.equal(p.starts, true);
    assert.equal(p.emulated?.loader, null);
    const plain = simulateExec({ path: '/x/bash', argv: ['bash'] }, world({ '/x/bash': program }, [qemuEntry('F')], { hostFiles: STATIC_QEMU }));
    assert.equal(plain.starts, true);
    assert.equal(plain.emulated, null);
  });
});

describe('simulateExec: dangling links and env with one split argument', () => {
  it('a dangling symlink names the link and its target', () => {
    const w: ExecWorld = { ...world({}), lookup: (path) => path === '/usr/bin/python3' ? { kind: 'missing', danglingLink: { target: 'python3.11' } } : { kind: 'missing' } };
    const p = simulateExec({ path: '/usr/bin/python3', argv: ['python3'] }, w);
    assert.equal(p.errno, 'ENOENT');
    assert.deepEqual(codes(p), ['DANGLING_SYMLINK']);
    assert.match(p.problems[0]?.message ?? '', /'\/usr\/bin\/python3' is a symbolic link to 'python3\.11', which does not exist/);
  });

  it('a #! interpreter that is a dangling symlink says so too', () => {
    const base = world({ '/s': { head: '#!/usr/bin/python3\n' } });
    const w: ExecWorld = { ...base, lookup: (path) => path === '/usr/bin/python3' ? { kind: 'missing', danglingLink: { target: 'python3.11' } } : base.lookup(path) };
    const p = simulateExec({ path: '/s', argv: ['s'] }, w);
    assert.deepEqual(codes(p), ['DANGLING_SYMLINK']);
    assert.match(p.problems[0]?.message ?? '', /^script: /);
  });

  it('#!/usr/bin/env python3 -u: env receives one argument, suggest env -S', () => {
    const files = { '/s': { head: '#!/usr/bin/env python3 -u\n' }, '/usr/bin/env': elf(X86_64) };
    const p = simulateExec({ path: '/s', argv: ['s'] }, world(files));
    assert.equal(p.ok, true);
    assert.deepEqual(p.argv, ['/usr/bin/env', 'python3 -u', '/s']);
    assert.deepEqual(codes(p), ['SHEBANG_ENV_SPLIT']);
    assert.match(p.problems[0]?.fix ?? '', /#!\/usr\/bin\/env -S python3 -u/);
    for (const fine of ['#!/usr/bin/env python3\n', '#!/usr/bin/env -S python3 -u\n', '#!/bin/sh -e -x\n']) {
      const other = simulateExec({ path: '/s', argv: ['s'] }, world({ ...files, '/s': { head: fine }, '/bin/sh': elf(X86_64) }));
      assert.deepEqual(codes(other), [], fine);
    }
  });
});
