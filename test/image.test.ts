// crossroot export and create --from-image with the real image clients of
// Debian: skopeo, umoci and podman (isolated storage under a temporary
// directory; the host is left as found). Roots: the cached amd64 minbase
// root (copied, with xattrs, hard links, a fifo, a device node, long and
// non-ASCII names added) and the cached arm64 toolchain root.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../src/runner/process/process.ts';
import type { RunResult } from '../src/runner/process/process.ts';
import { exportImage, importImage } from '../src/index.ts';
import { ensureTestRoot } from './support/cached-roots.ts';
import { listingDiff, treeListing } from './support/tree-listing.ts';

const BIN = new URL('../src/cli/bin.ts', import.meta.url).pathname;
const TSX = import.meta.resolve('tsx');
const HOST_STATE = ['/run/libpod', '/var/lib/containers', '/run/containers'];

let work = '';
let root = '';
let hostStateBefore: boolean[] = [];
const EXCLUDE = ['.crossroot'];

async function run(argv: readonly string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<RunResult> {
  const result = await runProcess(argv, { timeoutMs: options.timeoutMs ?? 600_000, env: { ...process.env, ...options.env } });
  return result;
}

async function ok(argv: readonly string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<string> {
  const result = await run(argv, options);
  assert.equal(result.exitCode, 0, `${argv.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

function sha(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The amd64 minbase root, copied, with the kinds of files an exporter gets wrong. */
async function fixtureRoot(): Promise<string> {
  const source = await ensureTestRoot('amd64', { toolchain: false });
  const dir = join(work, 'root');
  await ok(['cp', '-a', '--', source, dir]);
  rmSync(join(dir, 'etc/hosts'), { force: true }); // a run's bind target: may come and go
  const local = join(dir, 'usr/local');
  copyFileSync(join(dir, 'usr/bin/true'), join(local, 'bin/captrue'));
  await ok(['setfattr', '-n', 'security.capability', '-v', '0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=', join(local, 'bin/captrue')]);
  await ok(['setfattr', '-n', 'user.crossroot', '-v', 'a value\nwith a newline', join(dir, 'etc/hostname')]);
  writeFileSync(join(local, 'bin/hard1'), 'one inode, two names\n');
  linkSync(join(local, 'bin/hard1'), join(local, 'bin/hard2'));
  chownSync(join(local, 'bin/hard1'), 1234, 5678);
  writeFileSync(join(local, 'bin/setuid'), '#!/bin/sh\n');
  chmodSync(join(local, 'bin/setuid'), 0o4755);
  const long = join(local, 'share', 'a'.repeat(60), 'b'.repeat(60));
  mkdirSync(long, { recursive: true });
  writeFileSync(join(long, 'c'.repeat(90)), 'deep\n');
  writeFileSync(join(local, 'share/ünïcode näme'), 'utf-8\n');
  symlinkSync('../share/ünïcode näme', join(local, 'bin/link-to-unicode'));
  await ok(['mkfifo', join(local, 'fifo')]);
  await ok(['mknod', join(dir, 'dev/null-node'), 'c', '1', '3']);
  return dir;
}

function podmanArgs(storage: string): string[] {
  return ['podman', '--root', join(storage, 'root'), '--runroot', join(storage, 'run'), '--tmpdir', join(storage, 'tmp'),
    '--storage-driver', 'vfs', '--events-backend', 'none', '--cgroup-manager', 'cgroupfs', '--runtime', 'runc'];
}

before(async () => {
  hostStateBefore = HOST_STATE.map((path) => existsSync(path));
  work = mkdtempSync(join(tmpdir(), 'crossroot-image-'));
  root = await fixtureRoot();
});

after(async () => {
  rmSync(work, { recursive: true, force: true });
  for (const [i, path] of HOST_STATE.entries()) if (hostStateBefore[i] === false) rmSync(path, { recursive: true, force: true });
  for (const controller of readdirSync('/sys/fs/cgroup')) {
    const parent = join('/sys/fs/cgroup', controller, `crossroot-image-test-${process.pid}`);
    if (existsSync(parent)) await run(['find', parent, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';']);
  }
});

describe('export: an OCI image of the root, byte for byte reproducible, read by skopeo and umoci', () => {
  let oci = '';
  before(async () => {
    oci = join(work, 'amd64.tar');
    await exportImage({ roots: [root], output: oci, tag: 'crossroot-test/amd64:latest' });
  });

  test('the same root exported twice gives the same bytes; SOURCE_DATE_EPOCH clamps the times', async () => {
    const again = join(work, 'again.tar');
    const result = await exportImage({ roots: [root], output: again, tag: 'crossroot-test/amd64:latest' });
    assert.equal(sha(again), sha(oci));
    assert.equal(result.images[0]?.skipped, 1, 'the device node is left out');
    const clamped = await exportImage({ roots: [root], output: join(work, 'clamped.tar'), sourceDateEpoch: '1000000000' });
    const config = JSON.parse(await ok(['skopeo', 'inspect', '--config', `oci-archive:${join(work, 'clamped.tar')}`])) as { created: string };
    assert.equal(config.created, '2001-09-09T01:46:40Z');
    assert.notEqual(clamped.images[0]?.diffId, result.images[0]?.diffId);
  });

  test('skopeo inspect shows linux/amd64 and the config crossroot wrote', async () => {
    const inspect = JSON.parse(await ok(['skopeo', 'inspect', `oci-archive:${oci}`])) as { Architecture: string; Os: string; Env: string[] };
    assert.equal(inspect.Architecture, 'amd64');
    assert.equal(inspect.Os, 'linux');
    assert.ok(inspect.Env.some((entry) => entry.startsWith('PATH=')));
    const config = JSON.parse(await ok(['skopeo', 'inspect', '--config', `oci-archive:${oci}`])) as { config: { Cmd: string[]; Labels: Record<string, string> }; history: unknown[] };
    assert.deepEqual(config.config.Cmd, ['/bin/bash']);
    assert.equal(config.config.Labels['dev.crossroot.debian-arch'], 'amd64');
    assert.equal(config.history.length, 1);
  });

  test('umoci unpack --rootless gives the same tree: paths, modes, owners (its user.rootlesscontainers), contents, links, xattrs', async () => {
    const layout = join(work, 'layout');
    mkdirSync(layout);
    await ok(['tar', '-xf', oci, '-C', layout]);
    await ok(['umoci', 'unpack', '--rootless', '--image', `${layout}:crossroot-test/amd64:latest`, join(work, 'bundle-rootless')]);
    const expected = await treeListing(root, { exclude: EXCLUDE, skipDevices: true });
    const rootless = await treeListing(join(work, 'bundle-rootless/rootfs'), { rootlessOwners: true });
    assert.deepEqual(rootless, expected, listingDiff(expected, rootless));
  });

  test('create --from-image of the export is the same tree, owners and xattrs included', async () => {
    const dir = join(work, 'imported');
    await importImage({ dir, file: oci });
    const expected = await treeListing(root, { exclude: EXCLUDE, skipDevices: true });
    const imported = await treeListing(dir, { exclude: EXCLUDE });
    assert.deepEqual(imported, expected, listingDiff(expected, imported));
  });

  test('skopeo copies it to docker-archive: and back; both import to the same tree', async () => {
    const docker = join(work, 'skopeo-docker.tar');
    const back = join(work, 'skopeo-back.tar');
    await ok(['skopeo', 'copy', `oci-archive:${oci}`, `docker-archive:${docker}:crossroot-test/amd64:latest`]);
    await ok(['skopeo', 'copy', `docker-archive:${docker}`, `oci-archive:${back}:crossroot-test/amd64:latest`]);
    const expected = await treeListing(root, { exclude: EXCLUDE, skipDevices: true });
    for (const [name, file] of [['from-docker', docker], ['from-back', back]] as const) {
      const dir = join(work, name);
      await importImage({ dir, file });
      const listing = await treeListing(dir, { exclude: EXCLUDE });
      assert.deepEqual(listing, expected, `${name}: ${listingDiff(expected, listing)}`);
    }
  });

  test('podman loads the OCI and the docker format, runs /bin/true in it, and its save imports to the same tree', async () => {
    const storage = join(work, 'podman');
    const podman = podmanArgs(storage);
    const docker = join(work, 'crossroot-docker.tar');
    await exportImage({ roots: [root], output: docker, format: 'docker', tag: 'crossroot-test/amd64-docker:latest' });
    assert.match(await ok([...podman, 'load', '-i', oci]), /crossroot-test\/amd64:latest/);
    assert.match(await ok([...podman, 'load', '-i', docker]), /crossroot-test\/amd64-docker:latest/);
    // This VM's root lacks CAP_SYS_RESOURCE (so podman's default rlimits are refused) and has hybrid cgroups (which crun refuses).
    await ok([...podman, 'run', '--rm', '--network', 'none', '--cgroup-parent', `/crossroot-image-test-${process.pid}`,
      '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', 'localhost/crossroot-test/amd64:latest', '/bin/true']);
    const saved = join(work, 'podman-saved.tar');
    await ok([...podman, 'save', '--format', 'docker-archive', '-o', saved, 'localhost/crossroot-test/amd64:latest']);
    const dir = join(work, 'from-podman');
    await importImage({ dir, file: saved });
    const expected = await treeListing(root, { exclude: EXCLUDE, skipDevices: true });
    const listing = await treeListing(dir, { exclude: EXCLUDE });
    assert.deepEqual(listing, expected, listingDiff(expected, listing));
  });
});

describe('export of an arm64 root', () => {
  test('skopeo sees arm64/v8; imported back, it runs uname -m -> aarch64 under crossroot run', async () => {
    const arm64 = await ensureTestRoot('arm64', { toolchain: true });
    const file = join(work, 'arm64.tar');
    const exported = await run([process.execPath, '--import', TSX, BIN, 'export', arm64, '--output', file, '--json']);
    assert.equal(exported.exitCode, 0, exported.stderr);
    assert.equal((JSON.parse(exported.stdout) as { images: { platform: string }[] }).images[0]?.platform, 'arm64/v8');
    const config = JSON.parse(await ok(['skopeo', 'inspect', '--config', `oci-archive:${file}`])) as { architecture: string; variant: string };
    assert.deepEqual([config.architecture, config.variant], ['arm64', 'v8']);
    const dir = join(work, 'arm64-imported');
    const created = await run([process.execPath, '--import', TSX, BIN, 'create', dir, '--from-image', file]);
    assert.equal(created.exitCode, 0, created.stderr);
    const uname = await run([process.execPath, '--import', TSX, BIN, 'run', dir, '--', 'uname', '-m']);
    assert.equal(uname.exitCode, 0, uname.stderr);
    assert.equal(uname.stdout.trim(), 'aarch64');
  });
});
