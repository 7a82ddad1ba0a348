import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EnvPlanError, envFileName, planToolchainEnv } from './toolchain-env.ts';
import type { EnvTreeFacts } from './toolchain-env.ts';

type Node = 'dir' | { link: string } | { elf: { needed?: string[]; runpath?: string; interpreter?: string } | null };

function fakeTree(nodes: Record<string, Node>): EnvTreeFacts {
  const all = new Map<string, Node>([['/', 'dir']]);
  for (const [path, node] of Object.entries(nodes)) {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) all.set(`/${parts.slice(0, i).join('/')}`, all.get(`/${parts.slice(0, i).join('/')}`) ?? 'dir');
    all.set(path, node);
  }
  return {
    readlink: (path) => {
      const node = all.get(path);
      return node !== undefined && node !== 'dir' && 'link' in node ? node.link : null;
    },
    kind: (path) => {
      const node = all.get(path);
      if (node === undefined) return null;
      return node === 'dir' ? 'dir' : 'link' in node ? 'symlink' : 'file';
    },
    elf: (path) => {
      const node = all.get(path);
      if (node === undefined || node === 'dir' || !('elf' in node) || node.elf === null) return null;
      return { needed: node.elf.needed ?? [], runpath: node.elf.runpath ?? null, interpreter: node.elf.interpreter ?? null };
    },
  };
}

const LOADER = '/lib64/ld-linux-x86-64.so.2';
const LIBS = '/usr/lib/x86_64-linux-gnu';
const program = (...needed: string[]): Node => ({ elf: { needed: [...needed, 'libc.so.6'], interpreter: LOADER } });

/** A merged-usr amd64 tools root with the aarch64 cross gcc 14, as mmdebstrap makes it. */
const TOOLS: Record<string, Node> = {
  '/lib64': { link: 'usr/lib64' },
  '/usr/lib64/ld-linux-x86-64.so.2': { link: '../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
  [`${LIBS}/ld-linux-x86-64.so.2`]: { elf: {} },
  [`${LIBS}/libc.so.6`]: { elf: { needed: ['ld-linux-x86-64.so.2'] } },
  [`${LIBS}/libm.so.6`]: { elf: { needed: ['libc.so.6'] } },
  [`${LIBS}/libgmp.so.10`]: { link: 'libgmp.so.10.5.0' },
  [`${LIBS}/libgmp.so.10.5.0`]: { elf: { needed: ['libc.so.6'] } },
  [`${LIBS}/aarch64-linux-gnu/libbfd.so`]: { elf: { needed: ['libc.so.6'] } },
  '/usr/bin/aarch64-linux-gnu-gcc-14': program(),
  '/usr/bin/aarch64-linux-gnu-g++-14': program(),
  '/usr/bin/aarch64-linux-gnu-as': { elf: { needed: ['libbfd.so', 'libc.so.6'], runpath: `$ORIGIN/../lib/x86_64-linux-gnu/aarch64-linux-gnu`, interpreter: LOADER } },
  '/usr/aarch64-linux-gnu/bin/as': { link: '../../bin/aarch64-linux-gnu-as' },
  '/usr/libexec/gcc-cross/aarch64-linux-gnu/14/cc1': program('libgmp.so.10', 'libm.so.6'),
  '/usr/libexec/gcc-cross/aarch64-linux-gnu/14/cc1plus': program('libgmp.so.10', 'libm.so.6'),
  '/usr/bin/true': program(),
  '/usr/bin/dash': program(),
  '/bin/sh': { link: '/usr/bin/dash' },
  '/usr/bin/sed': program(),
};

describe('planToolchainEnv', () => {
  it('lays the cross compiler out as icecc-create-env does, with the library closure found like the loader finds it', () => {
    const plan = planToolchainEnv(fakeTree(TOOLS), 'aarch64-linux-gnu', '14');
    const files = plan.entries.filter((entry) => entry.kind === 'file').map((entry) => `${entry.path} <- ${entry.source ?? ''}`);
    assert.deepEqual(files, [
      '/bin/sh <- /usr/bin/dash',
      '/bin/true <- /usr/bin/true',
      `${LOADER} <- ${LIBS}/ld-linux-x86-64.so.2`,
      '/usr/aarch64-linux-gnu/bin/as.real <- /usr/bin/aarch64-linux-gnu-as',
      '/usr/bin/g++.real <- /usr/bin/aarch64-linux-gnu-g++-14',
      '/usr/bin/gcc.real <- /usr/bin/aarch64-linux-gnu-gcc-14',
      '/usr/bin/sed <- /usr/bin/sed',
      '/usr/bin/true <- /usr/bin/true',
      '/usr/lib/x86_64-linux-gnu/aarch64-linux-gnu/libbfd.so <- /usr/lib/x86_64-linux-gnu/aarch64-linux-gnu/libbfd.so',
      `${LIBS}/ld-linux-x86-64.so.2 <- ${LIBS}/ld-linux-x86-64.so.2`,
      `${LIBS}/libc.so.6 <- ${LIBS}/libc.so.6`,
      `${LIBS}/libgmp.so.10 <- ${LIBS}/libgmp.so.10.5.0`,
      `${LIBS}/libm.so.6 <- ${LIBS}/libm.so.6`,
      '/usr/libexec/gcc-cross/aarch64-linux-gnu/14/cc1 <- /usr/libexec/gcc-cross/aarch64-linux-gnu/14/cc1',
      '/usr/libexec/gcc-cross/aarch64-linux-gnu/14/cc1plus <- /usr/libexec/gcc-cross/aarch64-linux-gnu/14/cc1plus',
    ]);
    // The drivers and the assembler iceccd runs are scripts around the real ones.
    assert.deepEqual(plan.entries.filter((entry) => entry.kind === 'script').map((entry) => entry.path),
      ['/usr/aarch64-linux-gnu/bin/as', '/usr/bin/as', '/usr/bin/g++', '/usr/bin/gcc']);
    const dirs = plan.entries.filter((entry) => entry.kind === 'dir').map((entry) => entry.path);
    // The driver reaches 'as' through lib/gcc-cross/<triplet>/<major>/../../../../<triplet>/bin/as: that directory must exist.
    assert.ok(dirs.includes('/usr/lib/gcc-cross/aarch64-linux-gnu/14'));
    assert.ok(dirs.includes('/lib64'));
    // Sorted, directories before what they hold: the tarball's order.
    assert.deepEqual(plan.entries.map((entry) => entry.path), [...plan.entries.map((entry) => entry.path)].sort());
  });

  it('names what is missing', () => {
    const noCc1plus = { ...TOOLS };
    delete noCc1plus['/usr/libexec/gcc-cross/aarch64-linux-gnu/14/cc1plus'];
    assert.throws(() => planToolchainEnv(fakeTree(noCc1plus), 'aarch64-linux-gnu', '14'), (error: unknown) => error instanceof EnvPlanError && /cc1plus of gcc 14/.test(error.message));
    const noLib = Object.fromEntries(Object.entries(TOOLS).filter(([path]) => path !== `${LIBS}/libgmp.so.10`));
    assert.throws(() => planToolchainEnv(fakeTree(noLib), 'aarch64-linux-gnu', '14'), /no library 'libgmp\.so\.10' needed by/);
    assert.throws(() => planToolchainEnv(fakeTree(TOOLS), 'aarch64-linux-gnu', '13'), /'\/usr\/bin\/aarch64-linux-gnu-gcc-13'/);
  });

  it('its scripts need nothing the chroot lacks: no /dev, and sed by its path in the environment', () => {
    const plan = planToolchainEnv(fakeTree(TOOLS), 'aarch64-linux-gnu', '14');
    const scripts = plan.entries.filter((entry) => entry.kind === 'script');
    assert.equal(scripts.length, 4);
    for (const script of scripts) {
      assert.doesNotMatch(script.text ?? '', /\/dev\//, script.path);
      assert.doesNotMatch(script.text ?? '', /(^|[ |;(])sed /m, script.path);
    }
    assert.ok(plan.entries.some((entry) => entry.path === '/usr/bin/sed'));
  });

  it('the environment\'s name comes from the tarball\'s hash', () => {
    assert.equal(envFileName('ab'.repeat(32)), `crossroot-${'ab'.repeat(16)}.tar.gz`);
  });
});
