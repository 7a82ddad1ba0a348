// `crossroot explain` against the running kernel: crafted files are exec'd for
// real in a private binfmt_misc instance (test/support/private-binfmt.ts), with
// the static argv-printer as interpreter, and explain runs in the same
// namespace on the same files. Compared per case: the errno, or the argv the
// final program received and its AT_EXECFD / AT_FLAGS_PRESERVE_ARGV0.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, copyFileSync, rmSync, symlinkSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runPrivate } from './support/private-binfmt.ts';
import type { OpResult, PrivateOp } from './support/private-binfmt.ts';
import { CACHE_DIR, ensureProbes } from './support/probes.ts';
import { runProcess } from '../src/runner/process/process.ts';

interface ExplainJson {
  ok: boolean;
  errno: string | null;
  argv: string[] | null;
  program: string | null;
  execfd: boolean;
  preserveArgv0: boolean;
  problems: { code: string }[];
  steps: { handler: string; entry?: string }[];
}

/** One exec compared with explain. Placeholders: {w} the work dir, {p} the argv-printer. */
interface KernelCase {
  readonly name: string;
  /** Files to create (path relative to {w}): text content, or a copy of another file. */
  readonly files?: readonly FileSpec[];
  readonly register?: readonly string[];
  /** Writes to binfmt_misc files after registering ('0' disables an entry or, on 'status', the instance). */
  readonly writes?: readonly { name: string; data: string }[];
  readonly path: string;
  readonly argv: readonly string[];
  /** chroot into {w}/ROOT for the exec, --root for explain; `path` is then root-relative. */
  readonly root?: string;
  /** Problem codes explain must report. */
  readonly problems?: readonly string[];
}

type FileSpec =
  /** A function gets the case's directory (for ELF files whose PT_INTERP names a file of the case). */
  | { readonly path: string; readonly text: string | Uint8Array | ((dir: string) => Uint8Array); readonly mode?: number }
  | { readonly path: string; readonly copy: 'printer' | 'dynamic-printer' }
  | { readonly path: string; readonly symlink: string }
  | { readonly path: string; readonly dir: true };

/**
 * A minimal 64-bit ELF header with `phnum` program headers (default 1): the first is PT_INTERP
 * when `interp` is given, the others PT_NULL.
 */
function craftElf(options: { machine?: number; type?: number; interp?: string; phnum?: number } = {}): Uint8Array {
  const interp = options.interp === undefined ? null : Buffer.from(`${options.interp}\0`, 'latin1');
  const phnum = options.phnum ?? 1;
  const interpAt = 64 + 56 * phnum;
  const bytes = Buffer.alloc(interpAt + (interp?.length ?? 0));
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  bytes.writeUInt16LE(options.type ?? 2, 16);
  bytes.writeUInt16LE(options.machine ?? 62, 18);
  bytes.writeUInt32LE(1, 20);
  bytes.writeBigUInt64LE(0x400000n, 24); // e_entry
  bytes.writeBigUInt64LE(64n, 32); // e_phoff
  bytes.writeUInt16LE(64, 52); // e_ehsize
  bytes.writeUInt16LE(56, 54); // e_phentsize
  bytes.writeUInt16LE(phnum, 56); // e_phnum
  bytes.writeUInt16LE(64, 58); // e_shentsize
  if (interp !== null) {
    bytes.writeUInt32LE(3, 64); // PT_INTERP
    bytes.writeUInt32LE(4, 68);
    bytes.writeBigUInt64LE(BigInt(interpAt), 72);
    bytes.writeBigUInt64LE(BigInt(interp.length), 96);
    bytes.writeBigUInt64LE(BigInt(interp.length), 104);
    bytes.writeBigUInt64LE(1n, 112);
    bytes.set(interp, interpAt);
  }
  return bytes;
}

/** The same for ELFCLASS32 (i386 by default): 52-byte header, 32-byte program headers. */
function craftElf32(options: { machine?: number; interp?: string } = {}): Uint8Array {
  const interp = options.interp === undefined ? null : Buffer.from(`${options.interp}\0`, 'latin1');
  const bytes = Buffer.alloc(84 + (interp?.length ?? 0));
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
  bytes.writeUInt16LE(2, 16);
  bytes.writeUInt16LE(options.machine ?? 3, 18);
  bytes.writeUInt32LE(1, 20);
  bytes.writeUInt32LE(0x8048000, 24); // e_entry
  bytes.writeUInt32LE(52, 28); // e_phoff
  bytes.writeUInt16LE(52, 40); // e_ehsize
  bytes.writeUInt16LE(32, 42); // e_phentsize
  bytes.writeUInt16LE(1, 44); // e_phnum
  bytes.writeUInt16LE(40, 46); // e_shentsize
  if (interp !== null) {
    bytes.writeUInt32LE(3, 52); // PT_INTERP
    bytes.writeUInt32LE(84, 56); // p_offset
    bytes.writeUInt32LE(interp.length, 68); // p_filesz
    bytes.writeUInt32LE(interp.length, 72); // p_memsz
    bytes.writeUInt32LE(4, 76); // p_flags
    bytes.writeUInt32LE(1, 80); // p_align
    bytes.set(interp, 84);
  }
  return bytes;
}

const AARCH64_MAGIC = '\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00';
const AARCH64_MASK = '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff';
const QQ = { path: 'qq', text: '\x7fQQ payload' } as const;

function cases(printerLength: number): KernelCase[] {
  const list: KernelCase[] = [];
  // Every flag combination, P/O/C/F (C implies O).
  for (const flags of ['', 'P', 'O', 'C', 'F', 'PO', 'PC', 'PF', 'OF', 'CF', 'POF', 'POCF']) {
    list.push({
      name: `flags '${flags}'`, files: [QQ], register: [`:t:M::\\x7fQQ::{p}:${flags}`],
      path: '{w}/qq', argv: ['zero', 'one', 'two'],
    });
  }
  list.push(
    { name: 'argv0 differs from the path, P', files: [QQ], register: [':t:M::\\x7fQQ::{p}:P'], path: '{w}/qq', argv: ['other-name'] },
    { name: 'extension entry', files: [{ path: 'x.zz', text: 'hello' }], register: [':e:E::zz::{p}:'], path: '{w}/x.zz', argv: ['x', 'a'] },
    { name: 'extension entry with O', files: [{ path: 'x.zz', text: 'hello' }], register: [':e:E::zz::{p}:O'], path: '{w}/x.zz', argv: ['x'] },
    { name: 'extension only after the last dot of the whole path', files: [{ path: 'a.zz/b', text: 'hello' }], register: [':e:E::zz::{p}:'], path: '{w}/a.zz/b', argv: ['b'] },
    { name: 'extension is case-sensitive', files: [{ path: 'x.ZZ', text: 'hello' }], register: [':e:E::zz::{p}:'], path: '{w}/x.ZZ', argv: ['x'] },
    { name: 'mask with offset: match', files: [{ path: 'm', text: 'xyzAb' }], register: [':m:M:3:AB:\\xff\\xdf:{p}:'], path: '{w}/m', argv: ['m'] },
    { name: 'mask with offset: no match', files: [{ path: 'm', text: 'xyzAc' }], register: [':m:M:3:AB:\\xff\\xdf:{p}:'], path: '{w}/m', argv: ['m'] },
    { name: 'magic past the end compares with zero padding', files: [{ path: 'short', text: 'ZZZ' }], register: [':z:M:3:\\x00\\x00::{p}:'], path: '{w}/short', argv: ['s'] },
    {
      name: 'overlapping entries: the newest wins', files: [QQ],
      register: [':older:M::\\x7fQQ::{p}:', ':newer:M::\\x7fQ::{p}:P'], path: '{w}/qq', argv: ['zero'],
    },
    {
      name: 'overlapping entries: a disabled newer entry is skipped', files: [QQ],
      register: [':older:M::\\x7fQQ::{p}:', ':newer:M::\\x7fQ::{p}:P'], writes: [{ name: 'newer', data: '0' }],
      path: '{w}/qq', argv: ['zero'], problems: ['ENTRY_DISABLED'],
    },
    { name: 'disabled entry', files: [QQ], register: [':t:M::\\x7fQQ::{p}:'], writes: [{ name: 't', data: '0' }], path: '{w}/qq', argv: ['q'], problems: ['ENTRY_DISABLED'] },
    { name: 'disabled instance', files: [QQ], register: [':t:M::\\x7fQQ::{p}:'], writes: [{ name: 'status', data: '0' }], path: '{w}/qq', argv: ['q'], problems: ['INSTANCE_DISABLED'] },
    { name: 'missing interpreter without F: ENOENT, no fall-through', files: [{ path: 's', text: '#!{p}\n' }], register: [':t:M::#!::{w}/nope:'], path: '{w}/s', argv: ['s'], problems: ['EMULATOR_MISSING'] },
    { name: 'interpreter not executable', files: [QQ, { path: 'noexec-interp', text: 'x', mode: 0o644 }], register: [':t:M::\\x7fQQ::{w}/noexec-interp:'], path: '{w}/qq', argv: ['q'] },
    {
      name: 'entry whose interpreter is a script', files: [QQ, { path: 'interp.sh', text: '#!{p} -s\n' }],
      register: [':t:M::\\x7fQQ::{w}/interp.sh:'], path: '{w}/qq', argv: ['q', 'a'],
    },
    {
      name: 'O entry whose interpreter is a script: ENOEXEC', files: [QQ, { path: 'interp.sh', text: '#!{p} -s\n' }],
      register: [':t:M::\\x7fQQ::{w}/interp.sh:O'], path: '{w}/qq', argv: ['q'], problems: ['OPEN_BINARY_NESTED'],
    },
    {
      name: 'script handed to an O entry', files: [{ path: 's', text: '#!{w}/rr -x\n' }, { path: 'rr', text: 'RR' }],
      register: [':r:M::RR::{p}:O'], path: '{w}/s', argv: ['s', 'a'],
    },
    {
      name: 'entry chained to another entry', files: [QQ, { path: 'rr', text: 'RR' }],
      register: [':q:M::\\x7fQQ::{w}/rr:', ':r:M::RR::{p}:P'], path: '{w}/qq', argv: ['q', 'a'],
    },
    {
      name: 'entry whose interpreter matches itself: ELOOP', files: [{ path: 'rr', text: 'RR' }],
      register: [':r:M::RR::{w}/rr:'], path: '{w}/rr', argv: ['r'], problems: ['TOO_MANY_LEVELS'],
    },
    {
      name: 'self-matching O entry: ENOEXEC at the second level', files: [{ path: 'rr', text: 'RR' }],
      register: [':r:M::RR::{w}/rr:O'], path: '{w}/rr', argv: ['r'], problems: ['OPEN_BINARY_NESTED'],
    },
    {
      name: 'foreign ELF with a QEMU-style entry', files: [{ path: 'arm', text: craftElf({ machine: 183 }) }],
      register: [`:qemu-aarch64:M::${AARCH64_MAGIC}:${AARCH64_MASK}:{p}:PF`], path: '{w}/arm', argv: ['arm', 'x'],
    },
    { name: 'foreign ELF without a handler: ENOEXEC', files: [{ path: 'arm', text: craftElf({ machine: 183 }) }], path: '{w}/arm', argv: ['arm'], problems: ['NO_HANDLER'] },
    { name: 'ELF relocatable object: ENOEXEC', files: [{ path: 'obj', text: craftElf({ type: 1 }) }], path: '{w}/obj', argv: ['o'], problems: ['ELF_NOT_EXECUTABLE_TYPE'] },
    { name: 'ELF whose loader is missing: ENOENT', files: [{ path: 'prog', text: craftElf({ interp: '/nonexistent/ld.so' }) }], path: '{w}/prog', argv: ['p'], problems: ['LOADER_MISSING'] },
    {
      name: 'ELF whose loader is a script shorter than an ELF header: EIO', files: [{ path: 'prog', text: (dir) => craftElf({ interp: `${dir}/ld.sh` }) }, { path: 'ld.sh', text: '#!/bin/sh\n' }],
      path: '{w}/prog', argv: ['p'], problems: ['LOADER_BAD'],
    },
    {
      name: 'ELF whose loader is a longer script: ELIBBAD', files: [{ path: 'prog', text: (dir) => craftElf({ interp: `${dir}/ld.sh` }) }, { path: 'ld.sh', text: `#!{p}${' '.repeat(64)}\n` }],
      path: '{w}/prog', argv: ['p'], problems: ['LOADER_BAD'],
    },
    {
      name: 'ELF whose loader is 63 bytes of ELF: EIO', files: [{ path: 'prog', text: (dir) => craftElf({ interp: `${dir}/ld` }) }, { path: 'ld', text: craftElf().subarray(0, 63) }],
      path: '{w}/prog', argv: ['p'],
    },
    {
      name: 'ELF with a PT_INTERP past the end of the file: EIO', files: [{ path: 'prog', text: craftElf({ interp: '/lib64/ld-linux-x86-64.so.2' }).subarray(0, 130) }],
      path: '{w}/prog', argv: ['p'],
    },
    {
      name: 'ELF whose loader is foreign (binfmt_misc never applies to it): ELIBBAD',
      files: [{ path: 'prog', text: (dir) => craftElf({ interp: `${dir}/ld-arm` }) }, { path: 'ld-arm', text: craftElf({ machine: 183 }) }],
      register: [`:qemu-aarch64:M::${AARCH64_MAGIC}:${AARCH64_MASK}:{p}:`], path: '{w}/prog', argv: ['p'], problems: ['LOADER_BAD'],
    },
    {
      name: 'ELF whose loader is not executable: EACCES',
      files: [{ path: 'prog', text: (dir) => craftElf({ interp: `${dir}/ld` }) }, { path: 'ld', text: craftElf(), mode: 0o644 }], path: '{w}/prog', argv: ['p'],
    },
    { name: 'a real dynamic program', path: '/bin/true', argv: ['true'] },
    {
      name: 'ELF with 100 program headers (5600 bytes, more than a page) and a missing loader',
      files: [{ path: 'prog', text: craftElf({ interp: '/nonexistent/ld.so', phnum: 100 }) }], path: '{w}/prog', argv: ['p'],
    },
    { name: 'i386 ELF (compat) whose loader is missing', files: [{ path: 'prog', text: craftElf32({ interp: '/nonexistent/ld.so' }) }], path: '{w}/prog', argv: ['p'] },
    {
      name: 'i386 ELF whose loader is 64-bit: ELIBBAD',
      files: [{ path: 'prog', text: (dir) => craftElf32({ interp: `${dir}/ld` }) }, { path: 'ld', text: craftElf() }], path: '{w}/prog', argv: ['p'],
    },
    { name: 'no execute permission: EACCES', files: [{ path: 'qq', text: '\x7fQQ', mode: 0o644 }], register: [':t:M::\\x7fQQ::{p}:'], path: '{w}/qq', argv: ['q'], problems: ['NOT_EXECUTABLE'] },
    { name: 'a directory: EACCES', files: [{ path: 'd', dir: true }], path: '{w}/d', argv: ['d'], problems: ['NOT_A_REGULAR_FILE'] },
    { name: 'a missing file: ENOENT', path: '{w}/missing', argv: ['m'], problems: ['FILE_MISSING'] },
    { name: 'plain text: ENOEXEC', files: [{ path: 'txt', text: 'hello\n' }], path: '{w}/txt', argv: ['t'], problems: ['UNKNOWN_FORMAT'] },
  );

  // #! scripts.
  const script = (name: string, text: string, argv: string[] = ['s', 'a1'], problems?: string[]): KernelCase =>
    ({ name, files: [{ path: 's', text }], path: '{w}/s', argv, ...(problems === undefined ? {} : { problems }) });
  const slashes = (total: number): string => `${'/'.repeat(total - printerLength)}{p}`; // an interpreter path of exactly `total` bytes
  list.push(
    script('#! plain', '#!{p}\n'),
    script('#! with an argument holding spaces', '#!{p} -a  b c\n'),
    script('#! with tabs', '#!\t{p}\t-x\ty\t\n'),
    script('#! leading and trailing blanks', '#!   {p}   \n'),
    script('#! CRLF: ENOENT', '#!{p}\r\n', ['s'], ['SCRIPT_CRLF']),
    script('#! CRLF with an argument: the argument keeps \\r', '#!{p} -e\r\n'),
    script('#! no newline', '#!{p}'),
    script('#! no newline, with an argument', '#!{p} -x'),
    script('#! no newline + trailing blank: empty argument quirk', '#!{p} ', ['s'], ['SHEBANG_EMPTY_ARGUMENT']),
    script('#! no newline + trailing tab: empty argument quirk', '#!{p}\t', ['s']),
    script('#! NUL after the separator: empty argument', '#!{p} \0-y\n'),
    script('#! NUL ends the argument', '#!{p} -x\0-y\n'),
    script('#! NUL right after the interpreter', '#!{p}\0 -y\n'),
    script('#! empty line: ENOEXEC', '#!\n', ['s'], ['SHEBANG_EMPTY']),
    script('#! only blanks: ENOEXEC', '#!   \n', ['s']),
    script('#! alone (no newline): opens the cwd, EACCES', '#!', ['s'], ['SHEBANG_EMPTY']),
    script('#! NUL after #!: EACCES', '#!\0{p}\n', ['s']),
    script('#! missing interpreter: ENOENT', '#!{w}/nope\n', ['s'], ['INTERPRETER_MISSING']),
    script('#! interpreter not executable: EACCES', '#!/etc/passwd\n', ['s']),
    script('#! interpreter is a directory: EACCES', '#!/tmp\n', ['s']),
    script('#! line of 255 bytes plus newline', `#!${slashes(253)}\n`),
    script('#! 254-byte interpreter, newline at 256: ENOEXEC', `#!${slashes(254)}\n`, ['s'], ['SHEBANG_TOO_LONG']),
    script('#! 253-byte interpreter in a 255-byte file without newline', `#!${slashes(253)}`),
    script('#! 253-byte interpreter, blank at index 255, more after', `#!${slashes(253)} more\n`),
    script('#! 254-byte interpreter, blank at 256: ENOEXEC', `#!${slashes(254)} x\n`, ['s'], ['SHEBANG_TOO_LONG']),
    script('#! argument cut at byte 254', `#!{p} ${'b'.repeat(300)}\n`, ['s'], ['SHEBANG_ARGUMENT_TRUNCATED']),
    script('#! cut argument loses trailing blanks', `#!{p} x${' '.repeat(300 - printerLength)}${'c'.repeat(20)}\n`),
    script('#! newline exactly at index 255', `#!{p} ${'b'.repeat(252 - printerLength)}\n`),
    script('#! newline at index 256', `#!{p} ${'b'.repeat(253 - printerLength)}\n`),
  );
  // Chains of scripts: 5 rewrites run, a 6th is ELOOP.
  const chain = (length: number): FileSpec[] => Array.from({ length }, (_, i) =>
    ({ path: `c${i}`, text: i === length - 1 ? '#!{p} end\n' : `#!{w}/c${i + 1}\n` }));
  list.push(
    { name: 'scripts calling scripts: 5 levels', files: chain(5), path: '{w}/c0', argv: ['c0', 'x'] },
    { name: 'scripts calling scripts: 6 levels, ELOOP', files: chain(6), path: '{w}/c0', argv: ['c0'], problems: ['TOO_MANY_LEVELS'] },
    {
      name: 'script calling a foreign ELF through binfmt_misc',
      files: [{ path: 's', text: '#!{w}/arm -q\n' }, { path: 'arm', text: craftElf({ machine: 183 }) }],
      register: [`:qemu-aarch64:M::${AARCH64_MAGIC}:${AARCH64_MASK}:{p}:`], path: '{w}/s', argv: ['s', 'x'],
    },
  );
  // Inside a root (chroot).
  const rootFiles: FileSpec[] = [{ path: 'root/bin/qq', text: '\x7fQQ' }, { path: 'root/bin/arm', text: craftElf({ machine: 183 }) }];
  list.push(
    {
      name: 'root: entry without F, interpreter only on the host: ENOENT', root: 'root', files: rootFiles,
      register: [':t:M::\\x7fQQ::{p}:'], path: '/bin/qq', argv: ['qq'], problems: ['ENTRY_WITHOUT_F_IN_ROOT', 'EMULATOR_MISSING'],
    },
    {
      name: 'root: entry without F, interpreter present inside the root', root: 'root',
      files: [...rootFiles, { path: 'root/emu', copy: 'printer' }],
      register: [':t:M::\\x7fQQ::/emu:'], path: '/bin/qq', argv: ['qq', 'a'], problems: ['ENTRY_WITHOUT_F_IN_ROOT'],
    },
    { name: 'root: F entry, interpreter pinned from the host', root: 'root', files: rootFiles, register: [':t:M::\\x7fQQ::{p}:F'], path: '/bin/qq', argv: ['qq', 'a'] },
    {
      name: 'root: QEMU-style F entry for a foreign ELF', root: 'root', files: rootFiles,
      register: [`:qemu-aarch64:M::${AARCH64_MAGIC}:${AARCH64_MASK}:{p}:OCF`], path: '/bin/arm', argv: ['arm'],
    },
    {
      name: 'root: F pinned to a dynamic emulator, no loader in the root: ENOENT', root: 'root',
      files: [...rootFiles, { path: 'dyn-printer', copy: 'dynamic-printer' }],
      register: [':t:M::\\x7fQQ::{w}/dyn-printer:F'], path: '/bin/qq', argv: ['qq'], problems: ['F_PINNED_DYNAMIC', 'LOADER_MISSING'],
    },
    {
      name: 'root: absolute symlinks resolve inside the root', root: 'root',
      files: [...rootFiles, { path: 'root/usr/bin/link', symlink: '/bin/qq' }, { path: 'root/emu', copy: 'printer' }],
      register: [':t:M::\\x7fQQ::/emu:'], path: '/usr/bin/link', argv: ['link'],
    },
    {
      name: 'root: a script whose interpreter is missing in the root', root: 'root',
      files: [{ path: 'root/s', text: '#!/bin/sh\n' }], path: '/s', argv: ['s'], problems: ['INTERPRETER_MISSING'],
    },
  );
  return list;
}

describe('explain agrees with the kernel', { timeout: 300_000 }, () => {
  let work = '';
  let printer = '';
  let dynamicPrinter = '';
  const outcomes = new Map<string, { kernel: OpResult; explain: ExplainJson; explainExit: number | null | undefined; kase: KernelCase }>();

  before(async () => {
    const probes = await ensureProbes();
    printer = probes.argvPrinter;
    dynamicPrinter = join(CACHE_DIR, 'probes', 'argv-printer-dynamic');
    const source = join(dirname(printer), '..', '..', 'test', 'support', 'probes', 'argv-printer.c');
    if (!existsSync(dynamicPrinter) || statSync(dynamicPrinter).mtimeMs < statSync(source).mtimeMs) {
      const built = await runProcess(['gcc', '-O2', '-o', dynamicPrinter, source]);
      assert.equal(built.exitCode, 0, built.stderr);
    }
    work = mkdtempSync(join(tmpdir(), 'crossroot-explain-'));
    chmodSync(work, 0o755);
    const all = cases(printer.length);
    const fill = (text: string): string => text.replaceAll('{w}', work).replaceAll('{p}', printer);
    const ops: PrivateOp[] = [];
    const index: { kase: KernelCase; first: number }[] = [];
    for (const [number, kase] of all.entries()) {
      // Each case gets its own directory so that files of different cases never collide.
      const caseDir = join(work, `case${number}`);
      mkdirSync(caseDir);
      const subst = (text: string): string => fill(text.replaceAll('{w}', caseDir));
      for (const file of kase.files ?? []) {
        const target = join(caseDir, file.path);
        mkdirSync(dirname(target), { recursive: true });
        if ('dir' in file) mkdirSync(target, { recursive: true });
        else if ('symlink' in file) symlinkSync(file.symlink, target);
        else if ('copy' in file) copyFileSync(file.copy === 'printer' ? printer : dynamicPrinter, target);
        else if (typeof file.text === 'function') writeFileSync(target, file.text(caseDir));
        else writeFileSync(target, typeof file.text === 'string' ? Buffer.from(subst(file.text), 'latin1') : file.text);
        if ('text' in file || 'copy' in file) chmodSync(target, 'mode' in file && file.mode !== undefined ? file.mode : 0o755);
      }
      const root = kase.root === undefined ? undefined : join(caseDir, kase.root);
      const path = subst(kase.path);
      index.push({ kase, first: ops.length });
      ops.push({ op: 'write', name: 'status', data: '-1' }, { op: 'write', name: 'status', data: '1' });
      for (const rule of kase.register ?? []) ops.push({ op: 'register', data: `${subst(rule)}\n` });
      for (const write of kase.writes ?? []) ops.push({ op: 'write', name: write.name, data: write.data });
      ops.push({ op: 'exec', path, argv: kase.argv, ...(root === undefined ? {} : { chroot: root }) });
      ops.push({ op: 'cli', argv: ['explain', '--argv0', kase.argv[0] ?? '', '--binfmt-dir', '{binfmt-dir}', '--json', ...(root === undefined ? [] : ['--root', root]), path, ...kase.argv.slice(1)] });
    }
    const results = await runPrivate(ops);
    for (const { kase, first } of index) {
      const mine = results.slice(first, first + 2 + (kase.register?.length ?? 0) + (kase.writes?.length ?? 0) + 2);
      for (const setup of mine.slice(0, -2)) assert.equal(setup.errno, null, `${kase.name}: setup ${setup.op} failed with ${setup.errno}`);
      const kernel = mine.at(-2);
      const cli = mine.at(-1);
      assert.ok(kernel !== undefined && cli !== undefined);
      let explain: ExplainJson;
      try {
        explain = JSON.parse(cli.stdout ?? '') as ExplainJson;
      } catch {
        throw new Error(`${kase.name}: explain printed no JSON: ${cli.stdout}${cli.stderr}`);
      }
      outcomes.set(kase.name, { kernel, explain, explainExit: cli.exitCode, kase });
    }
  });

  after(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  for (const kase of cases(40)) {
    it(kase.name, () => {
      const outcome = outcomes.get(kase.name);
      assert.ok(outcome !== undefined, 'the kernel run did not happen');
      const { kernel, explain, explainExit } = outcome;
      const context = `kernel: ${JSON.stringify({ errno: kernel.errno, printed: kernel.printed, exit: kernel.exitCode })}\nexplain: ${JSON.stringify(explain)}`;
      assert.equal(explain.errno, kernel.errno, context);
      assert.equal(explain.ok, kernel.errno === null, context);
      assert.equal(explainExit, kernel.errno === null ? 0 : 1, context);
      if (kernel.printed !== null && kernel.printed !== undefined) {
        assert.deepEqual(explain.argv, kernel.printed.argv, context);
        assert.equal(explain.execfd, kernel.printed.execfd !== null, context);
        assert.equal(explain.preserveArgv0, (kernel.printed.atFlags & 1) === 1, context);
      } else if (kernel.errno === null) {
        assert.equal(kernel.exitCode, 0, context); // /bin/true
      }
      for (const code of kase.problems ?? []) {
        assert.ok(explain.problems.some((problem) => problem.code === code), `missing problem ${code}\n${context}`);
      }
    });
  }
});
