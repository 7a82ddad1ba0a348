// crossroot explain as a user calls it (no kernel needed): exit statuses, JSON
// fields, human output, --root resolution and the library check, over a
// fixture binfmt_misc directory and a small fake root.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCli, runCliJson } from './support/cli.ts';
import { buildElf, cString } from './support/elf-builder.ts';

interface ExplainJson {
  ok: boolean;
  starts: boolean;
  emulated: { file: string; emulator: string; prefix: string | null; loader: string | null; loaderRealPath: string | null } | null;
  errno: string | null;
  argv: string[] | null;
  program: string | null;
  loader: string | null;
  steps: { handler: string; entry?: string; result: string }[];
  problems: { code: string; severity: string; message: string; fix: string }[];
}

const AARCH64_ENTRY = 'enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: F\noffset 0\n'
  + 'magic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n';

/** A 64-byte aarch64 ELF header (ET_EXEC, no program headers needed for dispatch). */
function aarch64Header(): Buffer {
  const bytes = Buffer.alloc(64);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  bytes.writeUInt16LE(2, 16);
  bytes.writeUInt16LE(183, 18);
  return bytes;
}

/** A dynamically linked aarch64 program (ET_DYN with PT_INTERP `loader`), as a Debian arm64 binary is. */
function aarch64Dynamic(loader: string): Buffer {
  return Buffer.from(buildElf({
    bits: 64, endian: 'little', type: 3, machine: 183,
    blobs: [['interp', () => cString(loader)]],
    segments: (at) => [{ type: 3, offset: at('interp').offset, filesz: at('interp').size }],
  }));
}

/** A path no host has: the test must not depend on whether libc6:arm64 is installed. */
const ARM64_LOADER = '/lib/ld-crossroot-test-aarch64.so.1';

describe('crossroot explain', () => {
  let work = '';
  let binfmt = '';
  let emptyBinfmt = '';
  let root = '';
  const put = (path: string, content: string | Buffer, mode = 0o755): string => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    chmodSync(path, mode);
    return path;
  };

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'crossroot-explain-cli-'));
    binfmt = join(work, 'binfmt');
    put(join(binfmt, 'status'), 'enabled\n', 0o644);
    put(join(binfmt, 'register'), '', 0o200);
    put(join(binfmt, 'qemu-aarch64'), AARCH64_ENTRY, 0o644);
    emptyBinfmt = join(work, 'empty-binfmt');
    put(join(emptyBinfmt, 'status'), 'enabled\n', 0o644);
    put(join(emptyBinfmt, 'register'), '', 0o200);
    root = join(work, 'root');
    put(join(root, 'bin', 'arm'), aarch64Header());
    put(join(root, 'bin', 'script'), '#!/bin/arm -v\n');
    mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
    symlinkSync('/bin/arm', join(root, 'usr', 'bin', 'arm-link'));
    // A native dynamic program whose loader is in the root but whose libc is not.
    copyFileSync('/bin/true', join(root, 'bin', 'true'));
    mkdirSync(join(root, 'lib64'), { recursive: true });
    copyFileSync('/lib64/ld-linux-x86-64.so.2', join(root, 'lib64', 'ld-linux-x86-64.so.2'));
    copyFileSync('/bin/true', join(root, 'bin', 'true-nolib'));
    // An escape attempt: a link pointing out of the root must resolve inside it.
    symlinkSync('../../../../../../bin/true', join(root, 'bin', 'escape'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('predicts a native program on the host: exit 0, loader, argv', async () => {
    const { code, json } = await runCliJson<ExplainJson>(['explain', '--argv0', 'T', '--binfmt-dir', emptyBinfmt, '/bin/true', 'a']);
    assert.equal(code, 0);
    assert.equal(json.ok, true);
    assert.equal(json.errno, null);
    assert.deepEqual(json.argv, ['T', 'a']);
    assert.equal(json.program, '/bin/true');
    assert.equal(json.loader, '/lib64/ld-linux-x86-64.so.2');
    assert.deepEqual(json.problems, []);
  });

  it('a foreign ELF through an F entry in a root: the pinned emulator runs', async () => {
    const { code, json } = await runCliJson<ExplainJson>(['explain', '--root', root, '--binfmt-dir', binfmt, '/usr/bin/arm-link', 'x']);
    // The pinned /usr/bin/qemu-aarch64-static is looked up on this host; missing there, the kernel still holds it (F_PINNED_GONE).
    assert.deepEqual(json.argv, ['/usr/bin/qemu-aarch64-static', '/usr/bin/arm-link', 'x']);
    assert.equal(json.steps[0]?.entry, 'qemu-aarch64');
    assert.equal(code, 0);
    assert.equal(json.ok, true);
  });

  it('a foreign ELF with no handler: exit 1, NO_HANDLER with the install command', async () => {
    const { code, json } = await runCliJson<ExplainJson>(['explain', '--root', root, '--binfmt-dir', emptyBinfmt, '/bin/arm']);
    assert.equal(code, 1);
    assert.equal(json.errno, 'ENOEXEC');
    assert.equal(json.problems[0]?.code, 'NO_HANDLER');
    assert.match(json.problems[0]?.fix ?? '', /crossroot binfmt install aarch64/);
  });

  it('a script in a root calls a foreign ELF', async () => {
    const { json } = await runCliJson<ExplainJson>(['explain', '--root', root, '--binfmt-dir', binfmt, '/bin/script', 'a']);
    assert.deepEqual(json.steps.map((step) => step.handler).slice(0, 2), ['script', 'binfmt_misc']);
  });

  it('finds the loader in the root and reports a missing library', async () => {
    const { code, json } = await runCliJson<ExplainJson>(['explain', '--root', root, '--binfmt-dir', emptyBinfmt, '/bin/true-nolib']);
    assert.equal(code, 0); // the kernel's exec succeeds; ld.so fails later
    assert.equal(json.loader, '/lib64/ld-linux-x86-64.so.2');
    assert.deepEqual(json.problems.map((problem) => problem.code), ['LIBRARY_MISSING']);
  });

  it('a link out of the root resolves inside it', async () => {
    const { code, json } = await runCliJson<ExplainJson>(['explain', '--root', join(root, 'usr'), '--binfmt-dir', emptyBinfmt, '/bin/escape']);
    assert.equal(code, 1);
    assert.equal(json.errno, 'ENOENT'); // /bin/true inside root/usr does not exist
  });

  it('a missing loader inside the root', async () => {
    const bare = join(work, 'bare');
    put(join(bare, 'bin', 'true'), '');
    copyFileSync('/bin/true', join(bare, 'bin', 'true'));
    const { code, json } = await runCliJson<ExplainJson>(['explain', '--root', bare, '--binfmt-dir', emptyBinfmt, '/bin/true']);
    assert.equal(code, 1);
    assert.equal(json.errno, 'ENOENT');
    assert.deepEqual(json.problems.map((problem) => problem.code), ['LOADER_MISSING']);
  });

  it('tells a human the story and the fix', async () => {
    const { code, stdout } = await runCli(['explain', '--root', root, '--binfmt-dir', emptyBinfmt, '/bin/arm']);
    assert.equal(code, 1);
    assert.match(stdout, /^1\. \/bin\/arm: ELF 64-bit LSB AArch64 EXEC/m);
    assert.match(stdout, /=> fails with ENOEXEC/);
    assert.match(stdout, /fix: register an emulator: crossroot binfmt install aarch64/);
  });

  it('an arm64 program outside any root: the emulator runs, its loader is missing, exit 1 with the fix', async (t) => {
    if (!existsSync('/usr/bin/qemu-aarch64-static')) {
      t.skip('needs /usr/bin/qemu-aarch64-static (qemu-user-static) for the F entry to pin');
      return;
    }
    const program = put(join(work, 'outside', 'bash'), aarch64Dynamic(ARM64_LOADER));
    const { code, json } = await runCliJson<ExplainJson>(['explain', '--binfmt-dir', binfmt, program]);
    assert.equal(json.ok, true, 'the kernel starts the emulator');
    assert.equal(json.starts, false);
    assert.equal(code, 1);
    assert.deepEqual(json.problems.map((problem) => problem.code), ['EMULATED_LOADER_MISSING']);
    assert.match(json.problems[0]?.fix ?? '', /crossroot run --arch aarch64/);
    assert.equal(json.emulated?.loader, ARM64_LOADER);
    const human = await runCli(['explain', '--binfmt-dir', binfmt, program]);
    assert.match(human.stdout, /=> but the program fails to start: /);
  });

  it('QEMU_LD_PREFIX holding the loader: the program starts', async (t) => {
    if (!existsSync('/usr/bin/qemu-aarch64-static')) {
      t.skip('needs /usr/bin/qemu-aarch64-static (qemu-user-static) for the F entry to pin');
      return;
    }
    const program = put(join(work, 'outside', 'bash'), aarch64Dynamic(ARM64_LOADER));
    const prefix = join(work, 'gnemul');
    put(join(prefix, ARM64_LOADER), aarch64Header());
    const run = await runCli(['explain', '--json', '--binfmt-dir', binfmt, program], { env: { QEMU_LD_PREFIX: prefix } });
    const json = JSON.parse(run.stdout) as ExplainJson;
    assert.equal(run.code, 0, run.stdout);
    assert.equal(json.starts, true);
    assert.equal(json.emulated?.loaderRealPath, join(prefix, ARM64_LOADER));
  });

  it('with --binfmt-dir, the fix for a disabled entry names that dir; a missing --binfmt-dir says it does not exist', async () => {
    const disabled = join(work, 'disabled-binfmt');
    put(join(disabled, 'status'), 'enabled\n', 0o644);
    put(join(disabled, 'register'), '', 0o200);
    put(join(disabled, 'qemu-aarch64'), AARCH64_ENTRY.replace(/^enabled/, 'disabled'), 0o644);
    const { code, json } = await runCliJson<ExplainJson>(['explain', '--root', root, '--binfmt-dir', disabled, '/bin/arm']);
    assert.equal(code, 1);
    const fix = json.problems.find((problem) => problem.code === 'ENTRY_DISABLED')?.fix ?? '';
    assert.ok(fix.includes(`echo 1 > ${disabled}/qemu-aarch64`), fix);
    const missing = await runCli(['explain', '--binfmt-dir', join(work, 'no-such-dir'), '/bin/true']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /does not exist/);
    assert.doesNotMatch(missing.stderr, /mount/);
  });

  it('a dangling symlink names the link and its target, on the host and in a root', async () => {
    const dir = join(work, 'links');
    mkdirSync(dir, { recursive: true });
    symlinkSync('python3.11', join(dir, 'python3'));
    const host = await runCliJson<ExplainJson>(['explain', '--binfmt-dir', emptyBinfmt, join(dir, 'python3')]);
    assert.equal(host.code, 1);
    assert.deepEqual(host.json.problems.map((problem) => problem.code), ['DANGLING_SYMLINK']);
    assert.match(host.json.problems[0]?.message ?? '', /python3' is a symbolic link to 'python3\.11'/);
    symlinkSync('python3.11', join(root, 'usr', 'bin', 'python3'));
    const inRoot = await runCliJson<ExplainJson>(['explain', '--root', root, '--binfmt-dir', emptyBinfmt, '/usr/bin/python3']);
    assert.deepEqual(inRoot.json.problems.map((problem) => problem.code), ['DANGLING_SYMLINK']);
  });

  it('#!/usr/bin/env python3 -u is flagged: env gets one argument', async () => {
    const script = put(join(work, 'env-split'), '#!/usr/bin/env python3 -u\nprint(1)\n');
    const { json } = await runCliJson<ExplainJson>(['explain', '--binfmt-dir', emptyBinfmt, script]);
    assert.deepEqual(json.argv?.slice(0, 2), ['/usr/bin/env', 'python3 -u']);
    assert.ok(json.problems.some((problem) => problem.code === 'SHEBANG_ENV_SPLIT' && problem.fix.includes('env -S')), JSON.stringify(json.problems));
  });

  it('usage errors exit 2; a --binfmt-dir that is not binfmt_misc exits 1', async () => {
    assert.equal((await runCli(['explain'])).code, 2);
    const bad = await runCli(['explain', '--binfmt-dir', work, '/bin/true']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^crossroot: /);
  });
});
