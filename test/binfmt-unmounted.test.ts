// binfmt_misc not mounted, as a user meets it (issue 11, #9): `binfmt status`
// and `doctor` weigh it alike (one definition, core/binfmt/mount-state.ts: a
// warning where private instances exist, exit 0), `binfmt test` tests in a
// private instance of its own as `run` does and says so, and the hint of an
// unknown architecture names a command that works in that state; an instance
// with no foreign entry is tested privately too. "Not mounted" is simulated
// with --binfmt-dir on a path that holds no instance, an empty instance with
// test/support/private-binfmt.ts;
// the host's registrations are never touched (asserted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCH_NAMES } from '../src/core/arch/arch.ts';
import { hasPrivateBinfmt } from '../src/core/host/kernel-release.ts';
import { spawnCli } from './support/cli.ts';
import { runPrivate } from './support/private-binfmt.ts';

const PRIVATE = hasPrivateBinfmt(release());

function hostBinfmtListing(): string[] | null {
  try {
    return readdirSync('/proc/sys/fs/binfmt_misc').sort();
  } catch {
    return null;
  }
}

function withUnmountedDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const parent = mkdtempSync(join(tmpdir(), 'crossroot-unmounted-'));
  return work(join(parent, 'binfmt_misc')).finally(() => rmSync(parent, { recursive: true, force: true }));
}

interface ProbeDoc { ok: boolean }
interface TestDoc {
  ok: boolean; path: string; namespace: string; note: string | null; privateInstance: boolean;
  results: { arch: string; works: boolean | null; handler: string | null; direct: ProbeDoc | null; emptyRoot: ProbeDoc | null }[];
}

test('not mounted: binfmt status and doctor give it the same severity, and status exits 0 where it is a warning', () => withUnmountedDir(async (dir) => {
  const status = await spawnCli(['binfmt', 'status', '--json', '--binfmt-dir', dir]);
  const doc = JSON.parse(status.stdout) as { mounted: boolean; severity: string; emulators: unknown[] };
  assert.equal(doc.mounted, false);
  assert.equal(doc.severity, PRIVATE ? 'warning' : 'error');
  assert.equal(status.exitCode, PRIVATE ? 0 : 1, status.stderr);
  assert.ok(doc.emulators.length > 0, 'the emulators on disk are listed (scripts/setup.sh installs them)');
  const doctor = await spawnCli(['doctor', '--json', '--binfmt-dir', dir]);
  const checks = (JSON.parse(doctor.stdout) as { checks: { id: string; ok: boolean; severity: string }[] }).checks;
  const mounted = checks.find((check) => check.id === 'binfmt-mounted');
  assert.equal(mounted?.ok, false);
  assert.equal(mounted.severity, doc.severity, 'doctor and binfmt status agree');
  const human = await spawnCli(['binfmt', 'status', '--binfmt-dir', dir]);
  assert.equal(human.exitCode, status.exitCode);
  assert.match(human.stderr, PRIVATE ? /^crossroot: warning: binfmt_misc is not mounted/ : /^crossroot: binfmt_misc is not mounted/);
}));

test('not mounted: binfmt test tests in a private instance of its own, and says so', { skip: !PRIVATE && 'needs Linux >= 6.7', timeout: 300_000 }, () => withUnmountedDir(async (dir) => {
  const before = hostBinfmtListing();
  const named = await spawnCli(['binfmt', 'test', 'arm64', 'riscv64', '--json', '--binfmt-dir', dir], { timeoutMs: 200_000 });
  assert.equal(named.exitCode, 0, named.stderr);
  const doc = JSON.parse(named.stdout) as TestDoc;
  assert.equal(doc.privateInstance, true);
  assert.equal(doc.namespace, 'private');
  assert.equal(doc.path, dir);
  assert.match(doc.note ?? '', /not mounted .*private binfmt_misc instance/);
  assert.deepEqual(doc.results.map((result) => result.arch), ['aarch64', 'riscv64']);
  for (const result of doc.results) {
    assert.equal(result.handler, `crossroot-${result.arch}`);
    assert.deepEqual([result.works, result.direct?.ok, result.emptyRoot?.ok], [true, true, true], result.arch);
  }
  // No architecture named: every foreign one with an emulator, none native.
  const every = await spawnCli(['binfmt', 'test', '--json', '--binfmt-dir', dir], { timeoutMs: 200_000 });
  const all = JSON.parse(every.stdout) as TestDoc;
  assert.equal(all.privateInstance, true);
  assert.ok(all.results.some((result) => result.arch === 'aarch64' && result.works === true));
  assert.ok(!all.results.some((result) => result.arch === 'x86_64' || result.arch === 'i386'), 'native architectures are not tested');
  assert.equal(every.exitCode, all.ok ? 0 : 1);
  const human = await spawnCli(['binfmt', 'test', 'aarch64', '--binfmt-dir', dir], { timeoutMs: 200_000 });
  assert.equal(human.exitCode, 0, human.stderr);
  assert.match(human.stdout, /^note: binfmt_misc is not mounted at .*: tested in a private binfmt_misc instance/);
  assert.deepEqual(hostBinfmtListing(), before, 'the host\'s registrations are untouched');
}));

test('an unknown architecture: the hint names a command that works while binfmt_misc is not mounted, and lists the names', () => withUnmountedDir(async (dir) => {
  const run = await spawnCli(['run', '--arch', 'arm65', '--', 'true']);
  assert.equal(run.exitCode, 2);
  const hinted = /^hint: .*'(crossroot [^']+)'/m.exec(run.stderr)?.[1];
  assert.ok(hinted !== undefined, run.stderr);
  const listing = await spawnCli([...hinted.split(' ').slice(1), '--binfmt-dir', dir]);
  assert.equal(listing.exitCode, PRIVATE ? 0 : 1, listing.stderr);
  const listed = new Set(listing.stdout.split('\n').map((line) => line.split(/\s+/)[0]));
  for (const name of ARCH_NAMES) assert.ok(listed.has(name), `'${hinted}' lists ${name}`);
}));

test('an instance with no foreign entry: binfmt test (no architecture named) tests in a private instance instead of "nothing to test"', { skip: !PRIVATE && 'needs Linux >= 6.7', timeout: 300_000 }, async () => {
  const [run] = await runPrivate([{ op: 'cli', argv: ['binfmt', 'test', '--json', '--binfmt-dir', '{binfmt-dir}'] }]);
  const doc = JSON.parse(run?.stdout ?? '') as TestDoc;
  assert.equal(run?.exitCode, doc.ok ? 0 : 1, run?.stderr);
  assert.equal(doc.privateInstance, true);
  assert.match(doc.note ?? '', /has no foreign entry in use: tested in a private binfmt_misc instance/);
  assert.ok(doc.results.some((result) => result.arch === 'aarch64' && result.works === true));
});
