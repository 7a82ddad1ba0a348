// The harness itself: a private instance is really private and really works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPrivate } from './support/private-binfmt.ts';
import { ensureProbes } from './support/probes.ts';

const HOST_BINFMT = '/proc/sys/fs/binfmt_misc';
const hostEntries = (): string[] => (existsSync(`${HOST_BINFMT}/register`) ? readdirSync(HOST_BINFMT).sort() : []);

test('a private instance registers, dispatches and vanishes without touching the host', async () => {
  const before = hostEntries();
  const probes = await ensureProbes();
  const work = mkdtempSync(join(tmpdir(), 'crossroot-test-'));
  try {
    const interpreter = join(work, 'interp');
    copyFileSync(probes.argvPrinter, interpreter);
    chmodSync(interpreter, 0o755);
    const target = join(work, 'file.zz');
    writeFileSync(target, '\x7fQQ payload');
    chmodSync(target, 0o755);
    const [registered, text, list, ran, duplicate] = await runPrivate([
      { op: 'register', data: `:crossroot-harness:M::\\x7fQQ::${interpreter}:P\n` },
      { op: 'read', name: 'crossroot-harness' },
      { op: 'list' },
      { op: 'exec', path: target, argv: ['zero', 'one'] },
      { op: 'register', data: `:crossroot-harness:M::\\x7fQQ::${interpreter}:P\n` },
    ]);
    assert.equal(registered?.errno, null);
    assert.equal(text?.text, `enabled\ninterpreter ${interpreter}\nflags: P\noffset 0\nmagic 7f5151\n`);
    assert.deepEqual(list?.names?.slice().sort(), ['crossroot-harness', 'register', 'status']);
    assert.deepEqual(ran?.printed?.argv, [interpreter, target, 'zero', 'one']);
    assert.equal(ran?.printed?.atFlags, 1);
    assert.equal(duplicate?.errno, 'EEXIST');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  assert.deepEqual(hostEntries(), before);
  const mounts = (await import('node:fs')).readFileSync('/proc/self/mounts', 'utf8');
  assert.doesNotMatch(mounts, /crossroot-test/);
});

test('an invalid record is refused with the errno the kernel gives', async () => {
  const [bad, shortHex] = await runPrivate([
    { op: 'register', data: ':x:M::\\x4g::/bin/true:' },
    { op: 'register', data: ':y:M::ab\\x2::/bin/true:' },
  ]);
  assert.equal(bad?.errno, 'EINVAL');
  assert.equal(shortHex?.errno, 'EINVAL');
});
