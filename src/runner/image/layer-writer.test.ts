import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLayer } from './layer-writer.ts';
import { scanLayer } from './layer-scan.ts';
import { runProcess } from '../process/process.ts';

const work = mkdtempSync(join(tmpdir(), 'crossroot-layer-'));
after(() => rmSync(work, { recursive: true, force: true }));

function tree(): string {
  const root = join(work, 'tree');
  mkdirSync(join(root, 'dir/sub'), { recursive: true });
  mkdirSync(join(root, '.crossroot'));
  writeFileSync(join(root, '.crossroot/root.json'), '{}');
  writeFileSync(join(root, 'dir/b'), 'bee');
  writeFileSync(join(root, 'dir/a'), 'a'.repeat(70_000));
  linkSync(join(root, 'dir/a'), join(root, 'dir/sub/a-again'));
  symlinkSync('../b', join(root, 'dir/sub/link'));
  const long = `${'x'.repeat(120)}/${'y'.repeat(120)}`;
  mkdirSync(join(root, long), { recursive: true });
  writeFileSync(join(root, long, 'file'), 'deep');
  for (const path of ['dir/a', 'dir/b', 'dir', '']) utimesSync(join(root, path), 1_600_000_000, 1_600_000_000);
  return root;
}

test('a layer is sorted, holds hard links, symlinks, long paths and binary xattrs, and hashes what it wrote', async () => {
  const root = tree();
  const cap = Uint8Array.from([1, 0, 0, 2, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const xattrs = new Map([['dir/b', new Map([['security.capability', cap]])]]);
  const output = join(work, 'layer.tar.gz');
  const stats = await writeLayer({ root, output, gzip: true, clamp: null, xattrs });
  const blob = readFileSync(output);
  assert.equal(stats.digest, `sha256:${createHash('sha256').update(blob).digest('hex')}`);
  assert.equal(stats.diffId, `sha256:${createHash('sha256').update(gunzipSync(blob)).digest('hex')}`);
  const listed = await runProcess(['tar', '-tzvf', output]);
  const names = listed.stdout.trim().split('\n').map((line) => line.split(/\s+/).slice(5).join(' '));
  assert.deepEqual(names.slice(0, 6), ['./', 'dir/', 'dir/a', 'dir/b', 'dir/sub/', 'dir/sub/a-again link to dir/a']);
  assert.ok(names.includes('dir/sub/link -> ../b'));
  assert.ok(names.some((name) => name.endsWith(`${'y'.repeat(120)}/file`)), 'a path past 100 bytes via PAX');
  assert.ok(!names.some((name) => name.startsWith('.crossroot')), "crossroot's marker stays out");
  const scan = await scanLayer(output);
  assert.equal(scan.diffId, stats.diffId);
  assert.deepEqual([...(scan.xattrs.get('dir/b')?.get('security.capability') ?? [])], [...cap], 'a value with a newline byte survives');
  const again = await writeLayer({ root, output: join(work, 'again.tar.gz'), gzip: true, clamp: null, xattrs });
  assert.equal(again.digest, stats.digest, 'the same tree gives the same bytes');
  const clamped = await writeLayer({ root, output: join(work, 'clamped.tar'), gzip: false, clamp: 1_500_000_000, xattrs });
  assert.equal(clamped.newestMtime <= 1_500_000_000, true);
  assert.equal(clamped.digest, clamped.diffId, 'an uncompressed layer: blob digest is the diffID');
});
