import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MEDIA, checkTag, imageConfig, imageIndex, imageManifest, readConfig, readDockerManifest, readIndex, readManifest } from './oci.ts';
import type { CrossrootError } from '../errors.ts';

const digest = (c: string): string => `sha256:${c.repeat(64)}`;

test('the config says os, architecture, variant, PATH, the shell, and what made it; it reads back', () => {
  const text = imageConfig({
    platform: { os: 'linux', architecture: 'arm', variant: 'v7' }, created: '2024-01-01T00:00:00Z', diffId: digest('a'),
    shell: '/bin/bash', labels: { b: '2', a: '1' }, createdBy: 'crossroot export',
  });
  const config = JSON.parse(text) as Record<string, unknown>;
  assert.equal(config['architecture'], 'arm');
  assert.equal(config['variant'], 'v7');
  assert.deepEqual((config['config'] as Record<string, unknown>)['Cmd'], ['/bin/bash']);
  assert.deepEqual(Object.keys((config['config'] as { Labels: object }).Labels), ['a', 'b'], 'labels sorted: stable bytes');
  assert.equal((config['history'] as unknown[]).length, 1);
  assert.deepEqual(readConfig('c', text), { architecture: 'arm', variant: 'v7', os: 'linux', diffIds: [digest('a')] });
});

test('manifest and index read back; bad digests and sizes are refused with IMAGE_INVALID', () => {
  const config = { mediaType: MEDIA.config, digest: digest('b'), size: 10 };
  const layer = { mediaType: MEDIA.layerGzip, digest: digest('c'), size: 20 };
  assert.deepEqual(readManifest('m', imageManifest(config, [layer])).layers[0]?.digest, digest('c'));
  const index = imageIndex([{ mediaType: MEDIA.manifest, digest: digest('d'), size: 5, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }]);
  assert.equal(readIndex('i', index)[0]?.platform?.variant, 'v8');
  const bad = (text: string): string => {
    try {
      readIndex('i', text);
    } catch (error) {
      return (error as CrossrootError).code;
    }
    return 'accepted';
  };
  assert.equal(bad('{"manifests":[{"digest":"sha256:../../etc","size":1}]}'), 'IMAGE_INVALID');
  assert.equal(bad('{"manifests":[{"digest":"' + digest('e') + '","size":-1}]}'), 'IMAGE_INVALID');
  assert.equal(bad('not json'), 'IMAGE_INVALID');
});

test('docker manifest.json paths must stay inside the archive', () => {
  assert.deepEqual(readDockerManifest('[{"Config":"abc.json","RepoTags":["x:y"],"Layers":["l/layer.tar"]}]')[0]?.layers, ['l/layer.tar']);
  for (const path of ['../x', '/etc/passwd', 'a//b']) {
    assert.throws(() => readDockerManifest(`[{"Config":"${path}","Layers":[]}]`), (error: CrossrootError) => error.code === 'IMAGE_INVALID');
  }
});

test('tags are NAME:TAG', () => {
  assert.equal(checkTag('myroot:arm64'), 'myroot:arm64');
  assert.equal(checkTag('localhost:5000/team/root:v1.2'), 'localhost:5000/team/root:v1.2');
  for (const tag of ['MyRoot:x', 'noTag', 'a:b c']) assert.throws(() => checkTag(tag), (error: CrossrootError) => error.code === 'USAGE');
});
