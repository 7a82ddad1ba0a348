// create's twins, end to end: with an amd64 tools root of the suite, the
// bootstrap's programs after the essential phase (dpkg-deb's unpacking, the
// maintainer scripts' shells and tools) run natively, and the root is the one
// a create without twins makes: two fresh creates of the same small arm64
// root, with and without, compared file by file (content, mode, owner, link
// target, xattrs), with SOURCE_DATE_EPOCH as mmdebstrap's reproducibility asks.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCliJson } from './support/cli.ts';
import { TEST_CACHE } from './support/cached-roots.ts';
import { listingDiff, treeListing } from './support/tree-listing.ts';
import { ensureTwinsToolsRoot, existingToolsRoot } from '../src/runner/accelerate/accelerate.ts';
import type { CreateResult } from '../src/runner/create/create.ts';

const SUITE = 'trixie';
const work = mkdtempSync('/var/tmp/crossroot-create-twins-test-');
const env = { CROSSROOT_CACHE: TEST_CACHE, SOURCE_DATE_EPOCH: '1764633600' };

after(() => { rmSync(work, { recursive: true, force: true }); });

/**
 * Entries that differ between any two creates, twins or not: apt's binary
 * caches record the absolute path of the partial tree apt ran on, whose name
 * holds crossroot's PID.
 */
const VARYING: readonly RegExp[] = [/^var\/cache\/apt\/(src)?pkgcache\.bin /];

async function create(name: string, extra: readonly string[]): Promise<CreateResult & { dir: string }> {
  const dir = join(work, name);
  const run = await runCliJson<CreateResult>(['create', dir, '--arch', 'arm64', '--suite', SUITE, '--include', 'make,patch,less', '--fresh', ...extra], { env });
  assert.equal(run.code, 0, `create ${name}: ${run.stderr}`);
  return run.json;
}

test('create with twins: programs after the essential phase run natively, and the root is identical to one made without', { timeout: 40 * 60_000 }, async () => {
  const toolsRoot = existingToolsRoot(SUITE) ?? await ensureTwinsToolsRoot(SUITE);

  const plain = await create('plain', ['--no-twins']);
  assert.equal(plain.twins?.substituted, 0);
  assert.match(plain.twins?.refused ?? '', /--no-twins/);

  const twinned = await create('twins', []);
  assert.equal(twinned.twins?.refused, null, JSON.stringify(twinned.twins));
  assert.equal(twinned.twins?.toolsRoot, toolsRoot);
  // dash, bash, coreutils, sed, grep, tar, gzip, findutils, diffutils, dpkg-deb, update-alternatives (less's postinst) ...
  assert.ok((twinned.twins?.substituted ?? 0) >= 50, `only ${String(twinned.twins?.substituted)} twins`);

  // Nothing of the native runtime is left in the root, nothing mounted on the host.
  for (const path of ['usr/lib/x86_64-linux-gnu', 'lib64']) assert.equal(existsSync(join(twinned.dir, path)), false, path);
  assert.deepEqual(readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((line) => line.includes(work)), []);

  const keep = (line: string): boolean => !VARYING.some((pattern) => pattern.test(line));
  const [a, b] = await Promise.all([treeListing(plain.dir, { exclude: ['.crossroot'] }), treeListing(twinned.dir, { exclude: ['.crossroot'] })]);
  const left = a.filter(keep);
  const right = b.filter(keep);
  assert.ok(left.length > 3000, `${String(left.length)} entries`);
  assert.deepEqual(right, left, listingDiff(left, right));
});
