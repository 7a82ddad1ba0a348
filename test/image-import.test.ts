// crossroot create DIR --from-image on hand-made images: layers applied in
// order with whiteouts, every digest checked, an index needs --arch, and
// hostile images refused with nothing left at DIR or outside it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyFileSync } from 'node:fs';
import { exportImage, importImage } from '../src/index.ts';
import { runProcess } from '../src/runner/process/process.ts';
import { ensureTestRoot } from './support/cached-roots.ts';
import type { CrossrootError } from '../src/core/errors.ts';
import { writeLayout } from './support/image-builder.ts';
import type { ImageSpec, LayerEntry } from './support/image-builder.ts';
import { runCli } from './support/cli.ts';

let work = '';
let victim = '';
const SH = readFileSync('/bin/dash');
const base: LayerEntry[] = [
  { path: 'bin/', type: 'Directory' },
  { path: 'bin/sh', content: SH, mode: 0o755 },
  { path: 'etc/', type: 'Directory' },
  { path: 'etc/a', content: 'a' },
  { path: 'etc/b', content: 'b' },
  { path: 'var/cache/old/', type: 'Directory' },
  { path: 'var/cache/old/file', content: 'old' },
];

before(() => {
  work = mkdtempSync(join(tmpdir(), 'crossroot-image-import-'));
  victim = join(work, 'victim');
  mkdirSync(victim);
  writeFileSync(join(victim, 'keep'), 'host file');
});

after(() => {
  rmSync(work, { recursive: true, force: true });
});

let count = 0;
function layout(images: readonly ImageSpec[]): string {
  return writeLayout(join(work, `image-${++count}`), images);
}

async function refusal(source: string, arch?: string): Promise<{ code: string; dir: string }> {
  const dir = join(work, `root-${++count}`);
  try {
    await importImage({ dir, file: source, arch });
  } catch (error) {
    return { code: (error as CrossrootError).code, dir };
  }
  return { code: 'accepted', dir };
}

function nothingLeft(dir: string): void {
  assert.equal(existsSync(dir), false, 'nothing at DIR');
  const name = dir.split('/').at(-1) ?? '';
  assert.deepEqual(readdirSync(work).filter((entry) => entry.startsWith(`${name}.`)), [], 'no partial or staging siblings');
  assert.deepEqual(readdirSync(victim), ['keep'], 'the host directory the image aims at is untouched');
  assert.equal(readFileSync(join(victim, 'keep'), 'utf8'), 'host file');
}

describe('create --from-image: layers and whiteouts', () => {
  test('layers apply in order: .wh.NAME removes, .wh..wh..opq empties lower content, same-layer entries stay', async () => {
    const source = layout([{ layers: [base, [
      { path: 'etc/.wh.a' },
      { path: 'var/cache/.wh..wh..opq' },
      { path: 'var/cache/new', content: 'new' },
      { path: 'etc/link', type: 'SymbolicLink', linkpath: 'b' },
    ]] }]);
    const dir = join(work, 'layered');
    const result = await importImage({ dir, file: source });
    assert.equal(result.debianArch, 'amd64');
    assert.equal(result.tool, 'image');
    assert.equal(existsSync(join(dir, 'etc/a')), false);
    assert.equal(readFileSync(join(dir, 'etc/link'), 'utf8'), 'b');
    assert.deepEqual(readdirSync(join(dir, 'var/cache')), ['new']);
    assert.equal(existsSync(join(dir, 'etc/.wh.a')), false, 'whiteout entries are not extracted');
  });

  test('an image whose stated platform is not its ELF files is imported as what the ELF files are, with a warning', async () => {
    const result = await importImage({ dir: join(work, 'mislabelled'), file: layout([{ layers: [base], architecture: 'arm64', variant: 'v8' }]) });
    assert.equal(result.debianArch, 'amd64');
    assert.equal(result.warnings?.length, 1);
  });

  test('an index of several platforms needs --arch (usage error, exit 2); with it the matching one is taken', async () => {
    const source = layout([{ layers: [base], architecture: 'amd64' }, { layers: [base], architecture: 'arm64', variant: 'v8' }]);
    const cli = await runCli(['create', join(work, 'indexed'), '--from-image', source]);
    assert.equal(cli.code, 2, cli.stderr);
    assert.equal(existsSync(join(work, 'indexed')), false);
    const chosen = await importImage({ dir: join(work, 'indexed'), file: source, arch: 'amd64' });
    assert.equal(chosen.debianArch, 'amd64');
    assert.equal((await refusal(source, 'riscv64')).code, 'IMAGE_INVALID');
  });
});

describe('create --from-image: hostile images are refused and leave nothing', () => {
  const cases: { name: string; layers: (readonly LayerEntry[])[]; code: string; spec?: Partial<ImageSpec> }[] = [
    { name: 'an entry climbing out with ..', layers: [[...base, { path: '../escape', content: 'x' }]], code: 'UNSAFE_ARCHIVE' },
    { name: 'an absolute entry path', layers: [[...base, { path: '/tmp/escape', content: 'x' }]], code: 'UNSAFE_ARCHIVE' },
    { name: 'a hard link to a host path', layers: [[...base, { path: 'etc/shadow', type: 'Link', linkpath: '/etc/shadow' }]], code: 'UNSAFE_ARCHIVE' },
    { name: 'a whiteout of ..', layers: [base, [{ path: 'etc/.wh...' }]], code: 'UNSAFE_ARCHIVE' },
    { name: 'a write through a symlinked parent of a lower layer', layers: [[...base, { path: 'x', type: 'SymbolicLink', linkpath: 'VICTIM' }], [{ path: 'x/pwned', content: 'x' }]], code: 'UNSAFE_ARCHIVE' },
    { name: 'a write through a symlink of the same layer', layers: [[...base, { path: 'x', type: 'SymbolicLink', linkpath: 'VICTIM' }, { path: 'x/pwned', content: 'x' }]], code: 'UNSAFE_ARCHIVE' },
    { name: 'a whiteout through a symlinked parent', layers: [[...base, { path: 'x', type: 'SymbolicLink', linkpath: 'VICTIM' }], [{ path: 'x/.wh.keep' }]], code: 'UNSAFE_ARCHIVE' },
    { name: 'an opaque whiteout through a symlinked parent', layers: [[...base, { path: 'x', type: 'SymbolicLink', linkpath: 'VICTIM' }], [{ path: 'x/.wh..wh..opq' }]], code: 'UNSAFE_ARCHIVE' },
    { name: 'a layer whose blob digest lies', layers: [base], code: 'IMAGE_INVALID', spec: { tamperLayer: 0 } },
    { name: 'a layer whose diff_id lies', layers: [base, [{ path: 'etc/c', content: 'c' }]], code: 'IMAGE_INVALID', spec: { lieDiffId: 1 } },
  ];
  for (const { name, layers, code, spec } of cases) {
    test(name, async () => {
      const aimed = layers.map((entries) => entries.map((entry) => (entry.linkpath === 'VICTIM' ? { ...entry, linkpath: victim } : entry)));
      const source = layout([{ layers: aimed, ...spec }]);
      const outcome = await refusal(source);
      assert.equal(outcome.code, code);
      nothingLeft(outcome.dir);
    });
  }

  test('a blob path in the index that is not a sha256 digest is refused', async () => {
    const source = layout([{ layers: [base] }]);
    writeFileSync(join(source, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:../../../../etc/passwd', size: 1 }] }));
    const outcome = await refusal(source);
    assert.equal(outcome.code, 'IMAGE_INVALID');
    nothingLeft(outcome.dir);
  });
});

describe('export: several roots make one image index; the CLI checks its arguments', () => {
  /** A tiny root: just the /bin/sh of a real root of that architecture. */
  function tinyRoot(name: string, sh: string): string {
    const dir = join(work, name);
    mkdirSync(join(dir, 'bin'), { recursive: true });
    copyFileSync(sh, join(dir, 'bin/sh'));
    return dir;
  }

  test('amd64 + arm64 give an index skopeo resolves per platform; --from-image --arch picks one', async () => {
    const arm64 = await ensureTestRoot('arm64', { toolchain: true });
    const roots = [tinyRoot('tiny-amd64', '/bin/dash'), tinyRoot('tiny-arm64', join(arm64, 'usr/bin/dash'))];
    const file = join(work, 'multi.tar');
    const result = await exportImage({ roots, output: file, tag: 'multi:latest' });
    assert.notEqual(result.index, null);
    assert.deepEqual(result.images.map((image) => image.platform), ['amd64', 'arm64/v8']);
    const inspected = await runProcess(['skopeo', 'inspect', '--override-arch', 'arm64', '--override-variant', 'v8', `oci-archive:${file}`]);
    assert.equal(inspected.exitCode, 0, inspected.stderr);
    assert.equal((JSON.parse(inspected.stdout) as { Architecture: string }).Architecture, 'arm64');
    assert.equal((await refusal(file)).code, 'USAGE');
    const chosen = await importImage({ dir: join(work, 'from-index'), file, arch: 'arm64' });
    assert.equal(chosen.debianArch, 'arm64');
  });

  test('usage errors exit 2: no --output, ROOT and --arch together, an unknown format, a bad tag', async () => {
    const root = tinyRoot('tiny-cli', '/bin/dash');
    const out = join(work, 'cli.tar');
    for (const argv of [
      ['export', root],
      ['export', root, '--arch', 'arm64', '--output', out],
      ['export', root, '--output', out, '--format', 'squashfs'],
      ['export', root, '--output', out, '--tag', 'No Tag'],
    ]) {
      const cli = await runCli(argv);
      assert.equal(cli.code, 2, `${argv.join(' ')}: ${cli.stderr}`);
    }
    assert.equal(existsSync(out), false);
    const done = await runCli(['export', root, '--output', out, '--format', 'docker', '--json']);
    assert.equal(done.code, 0, done.stderr);
    assert.equal((JSON.parse(done.stdout) as { format: string }).format, 'docker');
  });
});
