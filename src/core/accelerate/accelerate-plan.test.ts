import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCELERATED_ARCHES, emulatedToolLines, matchVersions, planAcceleration,
  compilerWrapper, nativeIncludeDirs, sourceUploadVersion, substitutedToolLines, toolsRootPackages,
} from './accelerate-plan.ts';
import { accelerationSteps, accelerationUnmounts, withCreatedEntries } from './mount-steps.ts';
import type { AcceleratePlan, EntryKind, PackageOwner, TreeFacts } from './accelerate-plan.ts';
import { resolveArch } from '../arch/arch.ts';

type Node = 'dir' | { link: string } | { file: PackageOwner | null };

/** An in-memory tree: every parent directory of a listed path exists. */
function fakeTree(hostDir: string, nodes: Record<string, Node>): TreeFacts {
  const all = new Map<string, Node>([['/', 'dir']]);
  for (const [path, node] of Object.entries(nodes)) {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const parent = `/${parts.slice(0, i).join('/')}`;
      if (!all.has(parent)) all.set(parent, 'dir');
    }
    all.set(path, node);
  }
  const kind = (path: string): EntryKind | null => {
    const node = all.get(path);
    if (node === undefined) return null;
    if (node === 'dir') return 'dir';
    return 'link' in node ? 'symlink' : 'file';
  };
  return {
    hostDir,
    readlink: (path) => {
      const node = all.get(path);
      return node !== undefined && node !== 'dir' && 'link' in node ? node.link : null;
    },
    kind,
    list: (dir) => [...all.keys()].filter((path) => path !== '/' && path.slice(0, path.lastIndexOf('/') || 1) === dir)
      .map((path) => path.slice(path.lastIndexOf('/') + 1)).sort(),
    owner: (path) => {
      const node = all.get(path);
      return node !== undefined && node !== 'dir' && 'file' in node ? node.file : null;
    },
  };
}

const own = (pkg: string, version: string, architecture: string): { file: PackageOwner } => ({ file: { package: pkg, version, architecture } });

/** A bookworm-like arm64 root: merged-usr, gcc 12 in usr/lib/gcc, binutils with as/ld links. */
function bookwormRoot(gccVersion = '12.2.0-14', extra: Record<string, Node> = {}): TreeFacts {
  const t = 'aarch64-linux-gnu';
  const lib = `/usr/lib/gcc/${t}/12`;
  return fakeTree('/roots/arm64', {
    '/bin': { link: 'usr/bin' }, '/lib': { link: 'usr/lib' }, '/etc': 'dir', '/tmp': 'dir',
    [`/usr/lib/${t}/libc.so.6`]: own('libc6', '2.36-9', 'arm64'),
    '/usr/lib/ld-linux-aarch64.so.1': own('libc6', '2.36-9', 'arm64'),
    [`${lib}/cc1`]: own('cpp-12', gccVersion, 'arm64'),
    [`${lib}/cc1plus`]: own('g++-12', gccVersion, 'arm64'),
    [`${lib}/lto1`]: own('gcc-12', gccVersion, 'arm64'),
    [`${lib}/lto-wrapper`]: own('gcc-12', gccVersion, 'arm64'),
    [`${lib}/collect2`]: own('gcc-12', gccVersion, 'arm64'),
    [`${lib}/liblto_plugin.so`]: own('gcc-12', gccVersion, 'arm64'),
    [`${lib}/include/stddef.h`]: own('gcc-12', gccVersion, 'arm64'),
    [`/usr/bin/${t}-as`]: own(`binutils-${t}`, '2.40-2', 'arm64'),
    '/usr/bin/as': { link: `${t}-as` },
    [`/usr/bin/${t}-ld.bfd`]: own(`binutils-${t}`, '2.40-2', 'arm64'),
    [`/usr/bin/${t}-ld`]: { link: `${t}-ld.bfd` },
    '/usr/bin/ld': { link: `${t}-ld` },
    [`/usr/bin/${t}-ld.gold`]: own(`binutils-${t}`, '2.40-2', 'arm64'),
    '/usr/bin/gcc-12': own('gcc-12', gccVersion, 'arm64'),
    ...extra,
  });
}

/** An amd64 tools root with the cross compiler of a given version. */
function toolsRoot(crossVersion = '12.2.0-14cross1', binutils = '2.40-2', extra: Record<string, Node> = {}): TreeFacts {
  const t = 'aarch64-linux-gnu';
  const lib = `/usr/lib/gcc-cross/${t}/12`;
  return fakeTree('/var/lib/crossroot/tools/bookworm', {
    '/lib': { link: 'usr/lib' }, '/lib64': { link: 'usr/lib64' },
    '/usr/lib64/ld-linux-x86-64.so.2': { link: '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
    '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2': own('libc6', '2.36-9', 'amd64'),
    '/usr/lib/x86_64-linux-gnu/libisl.so.23': own('libisl23', '0.25-1', 'amd64'),
    [`${lib}/cc1`]: own(`cpp-12-${t}`, crossVersion, 'amd64'),
    [`${lib}/cc1plus`]: own(`g++-12-${t}`, crossVersion, 'amd64'),
    [`${lib}/lto1`]: own(`gcc-12-${t}`, crossVersion, 'amd64'),
    [`${lib}/lto-wrapper`]: own(`gcc-12-${t}`, crossVersion, 'amd64'),
    [`${lib}/collect2`]: own(`gcc-12-${t}`, crossVersion, 'amd64'),
    [`${lib}/liblto_plugin.so`]: own(`gcc-12-${t}`, crossVersion, 'amd64'),
    [`/usr/bin/${t}-as`]: own(`binutils-${t}`, binutils, 'amd64'),
    [`/usr/bin/${t}-ld.bfd`]: own(`binutils-${t}`, binutils, 'amd64'),
    [`/usr/bin/${t}-ld.gold`]: own(`binutils-${t}`, binutils, 'amd64'),
    ...extra,
  });
}

function statusOf(plan: AcceleratePlan): Record<string, string> {
  return Object.fromEntries(plan.tools.map((tool) => [tool.tool, tool.status]));
}

describe('version rule', () => {
  const cases: [string, string, boolean][] = [
    ['12.2.0-14', '12.2.0-14cross1', true],
    ['12.2.0-14+deb12u1', '12.2.0-14+deb12u1cross1', true],
    ['14.2.0-19', '14.2.0-19cross2', true],
    ['2.40-2', '2.40-2', true],
    ['12.2.0-14', '12.2.0-14+deb12u1cross1', false],
    ['12.2.0-14+deb12u1', '12.2.0-14cross1', false],
    ['14.2.0-19', '12.2.0-14cross1', false],
    ['12.2.0-14', '12.2.0-13cross1', false],
    ['2.40-2', '2.40-2cross', false],
  ];
  for (const [root, native, match] of cases) {
    it(`${root} vs ${native}: ${match ? 'match' : 'no match'}`, () => {
      assert.equal(matchVersions(root, native).match, match);
    });
  }
  it('strips only a trailing crossN', () => {
    assert.equal(sourceUploadVersion('12.2.0-14cross1'), '12.2.0-14');
    assert.equal(sourceUploadVersion('1.0cross1-2'), '1.0cross1-2');
  });
});

describe('architecture table', () => {
  it('every triplet is a GNU name of the catalog architecture', () => {
    for (const arch of ACCELERATED_ARCHES) {
      const catalog = resolveArch(arch.debian);
      assert.ok(catalog.debian.includes(arch.debian), arch.debian);
      assert.ok(catalog.gnu.includes(arch.triplet), `${arch.debian}: ${arch.triplet} not in ${catalog.gnu.join(',')}`);
    }
  });
  it('no target multiarch dir collides with the native one', () => {
    for (const arch of ACCELERATED_ARCHES) assert.notEqual(arch.multiarch, 'x86_64-linux-gnu');
  });
  it('tools root packages', () => {
    assert.deepEqual(toolsRootPackages('aarch64-linux-gnu', '14'),
      ['gcc-14-aarch64-linux-gnu', 'g++-14-aarch64-linux-gnu', 'binutils-aarch64-linux-gnu']);
  });
});

describe('planAcceleration', () => {
  it('substitutes every tool of an exactly matching tools root', () => {
    const plan = planAcceleration({ debianArch: 'arm64', root: bookwormRoot(), candidates: [{ source: 'tools-root', facts: toolsRoot() }] });
    assert.equal(plan.refused, null);
    assert.equal(plan.source, 'tools-root');
    assert.deepEqual(plan.gccMajors, ['12']);
    assert.deepEqual(statusOf(plan), {
      cc1: 'substituted', cc1plus: 'substituted', lto1: 'substituted', 'lto-wrapper': 'substituted', collect2: 'substituted',
      'liblto_plugin.so': 'substituted', as: 'substituted', 'ld.bfd': 'substituted', 'ld.gold': 'substituted',
      ar: 'absent', ranlib: 'absent', nm: 'absent', objcopy: 'absent', objdump: 'absent', strip: 'absent', readelf: 'absent',
    });
    const binds = plan.mounts.filter((m) => m.kind === 'bind').map((m) => [m.source, m.target]);
    assert.deepEqual(binds, [
      ['/var/lib/crossroot/tools/bookworm/usr/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu'],
      // cc1 and cc1plus: wrappers made in the /usr/lib shadow (the root's include chains)
      ['/usr/lib/gcc-cross/aarch64-linux-gnu/cc1-12', '/usr/lib/gcc/aarch64-linux-gnu/12/cc1'],
      ['/usr/lib/gcc-cross/aarch64-linux-gnu/cc1plus-12', '/usr/lib/gcc/aarch64-linux-gnu/12/cc1plus'],
      ['/var/lib/crossroot/tools/bookworm/usr/lib/gcc-cross/aarch64-linux-gnu/12/lto1', '/usr/lib/gcc/aarch64-linux-gnu/12/lto1'],
      ['/var/lib/crossroot/tools/bookworm/usr/lib/gcc-cross/aarch64-linux-gnu/12/lto-wrapper', '/usr/lib/gcc/aarch64-linux-gnu/12/lto-wrapper'],
      ['/var/lib/crossroot/tools/bookworm/usr/lib/gcc-cross/aarch64-linux-gnu/12/collect2', '/usr/lib/gcc/aarch64-linux-gnu/12/collect2'],
      ['/var/lib/crossroot/tools/bookworm/usr/lib/gcc-cross/aarch64-linux-gnu/12/liblto_plugin.so', '/usr/lib/gcc/aarch64-linux-gnu/12/liblto_plugin.so'],
      ['/var/lib/crossroot/tools/bookworm/usr/bin/aarch64-linux-gnu-as', '/usr/bin/aarch64-linux-gnu-as'],
      ['/var/lib/crossroot/tools/bookworm/usr/bin/aarch64-linux-gnu-ld.bfd', '/usr/bin/aarch64-linux-gnu-ld.bfd'],
      ['/var/lib/crossroot/tools/bookworm/usr/bin/aarch64-linux-gnu-ld.gold', '/usr/bin/aarch64-linux-gnu-ld.gold'],
    ]);
    const shadows = plan.mounts.filter((m) => m.kind === 'shadow-dir');
    assert.deepEqual(shadows.map((m) => m.target), ['/', '/usr/lib']);
    const top = shadows[0];
    assert.ok(top?.kind === 'shadow-dir');
    assert.deepEqual(top.add, [
      { kind: 'dir', path: 'lib64' },
      { kind: 'symlink', path: 'lib64/ld-linux-x86-64.so.2', target: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
    ]);
    // The top-level links are kept as links, directories as directories.
    assert.deepEqual(top.keep.find((e) => e.name === 'lib'), { name: 'lib', kind: 'symlink', target: 'usr/lib' });
    assert.deepEqual(top.keep.find((e) => e.name === 'usr'), { name: 'usr', kind: 'dir' });
    const usrLib = shadows[1];
    assert.ok(usrLib?.kind === 'shadow-dir');
    assert.deepEqual(usrLib.add.map((e) => e.path), ['x86_64-linux-gnu', 'gcc-cross', 'gcc-cross/aarch64-linux-gnu', 'gcc-cross/aarch64-linux-gnu/12',
      'gcc-cross/aarch64-linux-gnu/cc1-12-native', 'gcc-cross/aarch64-linux-gnu/cc1-12-emulated', 'gcc-cross/aarch64-linux-gnu/cc1-12',
      'gcc-cross/aarch64-linux-gnu/cc1plus-12-native', 'gcc-cross/aarch64-linux-gnu/cc1plus-12-emulated', 'gcc-cross/aarch64-linux-gnu/cc1plus-12']);
    assert.deepEqual(usrLib.add[3], { kind: 'symlink', path: 'gcc-cross/aarch64-linux-gnu/12', target: '/usr/lib/gcc/aarch64-linux-gnu/12' });
  });

  it('a mismatched compiler version leaves every gcc tool emulated; matching binutils alone are substituted', () => {
    const plan = planAcceleration({
      debianArch: 'arm64', root: bookwormRoot('12.2.0-14+deb12u1'),
      candidates: [{ source: 'tools-root', facts: toolsRoot('12.2.0-14cross1') }],
    });
    assert.equal(plan.refused, null);
    const s = statusOf(plan);
    for (const tool of ['cc1', 'cc1plus', 'lto1', 'lto-wrapper', 'collect2', 'liblto_plugin.so']) assert.equal(s[tool], 'emulated', tool);
    assert.equal(s['as'], 'substituted');
    // The emulated driver hands ld the root's (arm64) LTO plugin: a native ld cannot load it.
    for (const tool of ['ld.bfd', 'ld.gold']) assert.equal(s[tool], 'emulated', tool);
    assert.match(plan.tools.find((t) => t.tool === 'ld.bfd')?.reason ?? '', /liblto_plugin/);
    assert.match(plan.tools.find((t) => t.tool === 'cc1')?.reason ?? '', /version mismatch/);
    assert.ok(!plan.mounts.some((m) => m.target.includes('/gcc/')));
    assert.ok(!plan.mounts.some((m) => m.kind === 'shadow-dir' && m.add.some((e) => e.path.startsWith('gcc-cross'))));
  });

  it('nothing matching at all: refused, no mounts', () => {
    const plan = planAcceleration({
      debianArch: 'arm64', root: bookwormRoot('12.2.0-14+deb12u1'),
      candidates: [{ source: 'tools-root', facts: toolsRoot('12.2.0-14cross1', '2.40-1') }],
    });
    assert.notEqual(plan.refused, null);
    assert.deepEqual(plan.mounts, []);
    assert.ok(plan.tools.every((t) => t.status !== 'substituted'));
  });

  it('another major (a trixie tools root for a bookworm root) is no candidate at all', () => {
    const t = 'aarch64-linux-gnu';
    const trixie = fakeTree('/tools/trixie', {
      '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2': own('libc6', '2.41-12', 'amd64'),
      '/lib64': { link: 'usr/lib64' }, '/usr/lib64/ld-linux-x86-64.so.2': { link: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
      [`/usr/libexec/gcc-cross/${t}/14/cc1`]: own(`cpp-14-${t}`, '14.2.0-19cross1', 'amd64'),
    });
    const plan = planAcceleration({ debianArch: 'arm64', root: bookwormRoot(), candidates: [{ source: 'tools-root', facts: trixie }] });
    assert.notEqual(plan.refused, null);
    assert.equal(plan.tools.find((t2) => t2.tool === 'cc1')?.status, 'emulated');
    assert.match(plan.tools.find((t2) => t2.tool === 'cc1')?.reason ?? '', /no native cross tool/);
  });

  it('the host is used only when it matches exactly; otherwise the tools root', () => {
    const hostOld = toolsRoot('12.2.0-13cross1');
    const plan = planAcceleration({
      debianArch: 'arm64', root: bookwormRoot(),
      candidates: [{ source: 'host', facts: fakeTree('/', {}) }, { source: 'host', facts: hostOld }, { source: 'tools-root', facts: toolsRoot() }],
    });
    assert.equal(plan.source, 'tools-root');
    const host = planAcceleration({ debianArch: 'arm64', root: bookwormRoot(), candidates: [{ source: 'host', facts: toolsRoot() }] });
    assert.equal(host.source, 'host');
  });

  it('cc1 and cc1plus run through wrappers that search /usr/local/include like the root\'s compiler (a cross cc1 never does)', () => {
    const root = bookwormRoot('12.2.0-14', { '/usr/local/include/mylib.h': { file: null } });
    const plan = planAcceleration({ debianArch: 'arm64', root, candidates: [{ source: 'tools-root', facts: toolsRoot() }] });
    for (const tool of ['cc1', 'cc1plus']) {
      assert.equal(statusOf(plan)[tool], 'substituted');
      assert.match(plan.tools.find((t) => t.tool === tool)?.reason ?? '', /wrapper that gives it the root's C(\+\+)? include chain/);
    }
    assert.deepEqual(plan.mounts.flatMap((m) => (m.kind === 'bind' && m.sourceInRoot === true ? [[m.source, m.target]] : [])), [
      ['/usr/lib/gcc-cross/aarch64-linux-gnu/cc1-12', '/usr/lib/gcc/aarch64-linux-gnu/12/cc1'],
      ['/usr/lib/gcc-cross/aarch64-linux-gnu/cc1plus-12', '/usr/lib/gcc/aarch64-linux-gnu/12/cc1plus'],
    ]);
  });

  it('binutils of another version stay emulated while the compiler is substituted', () => {
    const plan = planAcceleration({ debianArch: 'arm64', root: bookwormRoot(), candidates: [{ source: 'tools-root', facts: toolsRoot(undefined, '2.40-1') }] });
    assert.equal(plan.refused, null);
    const s = statusOf(plan);
    assert.equal(s['cc1'], 'substituted');
    assert.equal(s['as'], 'emulated');
    assert.ok(!plan.mounts.some((m) => m.kind === 'bind' && m.target.endsWith('-as')));
  });

  it('an unowned root file is never substituted', () => {
    const root = bookwormRoot('12.2.0-14', { '/usr/lib/gcc/aarch64-linux-gnu/12/cc1plus': { file: null } });
    const plan = planAcceleration({ debianArch: 'arm64', root, candidates: [{ source: 'tools-root', facts: toolsRoot() }] });
    assert.equal(statusOf(plan)['cc1plus'], 'emulated');
  });

  it('refuses when the root already has the native runtime paths', () => {
    for (const extra of [
      { '/usr/lib/x86_64-linux-gnu/libc.so.6': own('libc6', '2.36-9', 'amd64') },
      { '/lib64/ld-linux-x86-64.so.2': own('libc6', '2.36-9', 'amd64') },
      { '/usr/lib/gcc-cross/aarch64-linux-gnu/12/cc1': { file: null } },
    ] as Record<string, Node>[]) {
      const plan = planAcceleration({ debianArch: 'arm64', root: bookwormRoot('12.2.0-14', extra), candidates: [{ source: 'tools-root', facts: toolsRoot() }] });
      assert.match(plan.refused ?? '', /collision/, JSON.stringify(extra));
      assert.deepEqual(plan.mounts, []);
      assert.ok(plan.tools.every((t) => t.status !== 'substituted'));
    }
  });

  it('a root whose own /lib64 is a directory (ppc64el) gets the loader link in a shadow of it', () => {
    const root = bookwormRoot('12.2.0-14', { '/lib64': { link: 'usr/lib64' }, '/usr/lib64/ld64.so.2': { file: null } });
    const plan = planAcceleration({ debianArch: 'arm64', root, candidates: [{ source: 'tools-root', facts: toolsRoot() }] });
    assert.equal(plan.refused, null);
    const lib64 = plan.mounts.find((m) => m.kind === 'shadow-dir' && m.target === '/usr/lib64');
    assert.ok(lib64?.kind === 'shadow-dir');
    assert.deepEqual(lib64.keep, [{ name: 'ld64.so.2', kind: 'file' }]);
    assert.deepEqual(lib64.add, [{ kind: 'symlink', path: 'ld-linux-x86-64.so.2', target: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' }]);
  });

  it('hostile links never make a mount target leave the root', () => {
    const root = bookwormRoot('12.2.0-14', {
      '/usr/bin/aarch64-linux-gnu-as': { link: '/../../../../etc/passwd' },
      '/usr/lib/gcc/aarch64-linux-gnu/12/cc1plus': { link: '../../../../../../../../usr/bin/gcc-12' },
    });
    const plan = planAcceleration({ debianArch: 'arm64', root, candidates: [{ source: 'tools-root', facts: toolsRoot() }] });
    for (const mount of plan.mounts) {
      assert.ok(mount.target.startsWith('/') && !mount.target.includes('..'), mount.target);
    }
    // cc1plus resolves (inside the root) to the driver gcc-12: never covered by the native cc1plus.
    assert.equal(statusOf(plan)['cc1plus'], 'absent');
    assert.ok(!plan.mounts.some((m) => m.target === '/usr/bin/gcc-12'));
    assert.equal(statusOf(plan)['as'], 'absent'); // /etc/passwd inside the root does not exist here
  });

  it('trixie layout: tools in usr/libexec, headers in usr/lib', () => {
    const t = 'aarch64-linux-gnu';
    const root = fakeTree('/r', {
      '/lib': { link: 'usr/lib' },
      [`/usr/libexec/gcc/${t}/14/cc1`]: own(`cpp-14-${t}`, '14.2.0-19', 'arm64'),
      [`/usr/lib/gcc/${t}/14/include/stddef.h`]: own(`gcc-14-${t}`, '14.2.0-19', 'arm64'),
    });
    const tools = fakeTree('/t', {
      '/lib64': { link: 'usr/lib64' }, '/usr/lib64/ld-linux-x86-64.so.2': { link: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
      '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2': own('libc6', '2.41-12', 'amd64'),
      [`/usr/libexec/gcc-cross/${t}/14/cc1`]: own(`cpp-14-${t}`, '14.2.0-19cross1', 'amd64'),
    });
    const plan = planAcceleration({ debianArch: 'arm64', root, candidates: [{ source: 'tools-root', facts: tools }] });
    assert.equal(plan.refused, null);
    assert.deepEqual(plan.gccMajors, ['14']);
    // cc1 through its wrapper: the native cc1 from usr/libexec/gcc-cross, the wrapper over the root's usr/libexec/gcc cc1.
    assert.ok(plan.mounts.some((m) => m.kind === 'shadow-dir' && m.add.some((e) => e.kind === 'file' && e.source === `/t/usr/libexec/gcc-cross/${t}/14/cc1`)));
    assert.ok(plan.mounts.some((m) => m.kind === 'bind' && m.source === `/usr/lib/gcc-cross/${t}/cc1-14` && m.target === `/usr/libexec/gcc/${t}/14/cc1`));
  });

  it('unsupported architectures and roots without gcc are refused with a reason', () => {
    assert.match(planAcceleration({ debianArch: 'sparc64', root: bookwormRoot(), candidates: [] }).refused ?? '', /no Debian cross toolchain/);
    assert.match(planAcceleration({ debianArch: 'armhf', root: bookwormRoot(), candidates: [] }).refused ?? '', /no gcc/);
  });
});

describe('accelerationSteps', () => {
  const plan = planAcceleration({ debianArch: 'arm64', root: bookwormRoot(), candidates: [{ source: 'tools-root', facts: toolsRoot() }] });
  const steps = accelerationSteps(plan.mounts, '/roots/arm64', '/tmp/crossroot-accel-x');

  it('builds each shadow in the scratch dir, read-only, then binds it over the directory; tools after', () => {
    assert.deepEqual(steps.slice(0, 3), [
      { op: 'mount', what: 'acceleration scratch', source: 'crossroot-accel', target: '/tmp/crossroot-accel-x', fstype: 'tmpfs', options: 'mode=0700' },
      { op: 'mount', what: 'accelerate: handle on /', source: '/roots/arm64', target: '/tmp/crossroot-accel-x/handle-0', fstype: 'none', options: 'rbind,X-mount.mkdir=0700' },
      { op: 'mount', what: 'accelerate: shadow of /', source: 'crossroot-shadow', target: '/tmp/crossroot-accel-x/shadow-0', fstype: 'tmpfs', options: 'mode=0755,X-mount.mkdir=0700' },
    ]);
    assert.ok(steps.some((step) => step.op === 'symlink' && step.path === '/tmp/crossroot-accel-x/shadow-0/lib' && step.target === 'usr/lib'));
    assert.ok(steps.some((step) => step.op === 'mount' && step.source === '/tmp/crossroot-accel-x/handle-0/usr' && step.target === '/tmp/crossroot-accel-x/shadow-0/usr' && step.options === 'rbind'));
    const readOnly = steps.findIndex((step) => step.op === 'mount' && step.target === '/tmp/crossroot-accel-x/shadow-0' && step.options === 'remount,ro');
    const inPlace = steps.findIndex((step) => step.op === 'mount' && step.source === '/tmp/crossroot-accel-x/shadow-0' && step.target === '/roots/arm64');
    assert.ok(readOnly > 0 && inPlace === readOnly + 1, 'read-only before it is put in place');
    assert.deepEqual(steps.at(-1), {
      op: 'mount', what: 'accelerate: ld.gold', source: '/var/lib/crossroot/tools/bookworm/usr/bin/aarch64-linux-gnu-ld.gold',
      target: '/roots/arm64/usr/bin/aarch64-linux-gnu-ld.gold', fstype: 'none', options: 'bind,ro',
    });
  });

  it('creates entries only in the scratch dir and mounts only under the root or the scratch dir', () => {
    for (const step of steps) {
      if (step.op === 'register' || step.op === 'copy') assert.fail('unexpected step');
      if (step.op === 'mount') assert.ok(step.target.startsWith('/roots/arm64') || step.target.startsWith('/tmp/crossroot-accel-x'), step.target);
      else assert.ok(step.path.startsWith('/tmp/crossroot-accel-x/shadow-'), step.path);
    }
  });

  it('unmounts the shadows deepest first, then the scratch dir', () => {
    assert.deepEqual(accelerationUnmounts(plan.mounts, '/roots/arm64', '/tmp/crossroot-accel-x'), ['/roots/arm64/usr/lib', '/roots/arm64', '/tmp/crossroot-accel-x']);
  });
});

describe('cc1 and cc1plus through wrappers', () => {
  const plan = planAcceleration({ debianArch: 'arm64', root: bookwormRoot(), candidates: [{ source: 'tools-root', facts: toolsRoot() }] });
  const usrLib = plan.mounts.find((mount) => mount.kind === 'shadow-dir' && mount.target === '/usr/lib');

  it('the native cc1plus, the root\'s own and the wrapper appear beside gcc-cross/<triplet>/<major>; the wrapper covers cc1plus', () => {
    assert.ok(usrLib?.kind === 'shadow-dir');
    assert.deepEqual(usrLib.add.filter((entry) => entry.kind === 'file' && entry.path.includes('cc1plus')), [
      { kind: 'file', path: 'gcc-cross/aarch64-linux-gnu/cc1plus-12-native', source: '/var/lib/crossroot/tools/bookworm/usr/lib/gcc-cross/aarch64-linux-gnu/12/cc1plus', from: 'host' },
      { kind: 'file', path: 'gcc-cross/aarch64-linux-gnu/cc1plus-12-emulated', source: '/usr/lib/gcc/aarch64-linux-gnu/12/cc1plus', from: 'root' },
    ]);
    const bind = plan.mounts.find((mount) => mount.kind === 'bind' && mount.target === '/usr/lib/gcc/aarch64-linux-gnu/12/cc1plus');
    assert.deepEqual(bind, { kind: 'bind', source: '/usr/lib/gcc-cross/aarch64-linux-gnu/cc1plus-12', target: '/usr/lib/gcc/aarch64-linux-gnu/12/cc1plus', why: 'cc1plus (gcc 12) wrapper', sourceInRoot: true });
    const steps = accelerationSteps(plan.mounts, '/r', '/s');
    const wrapper = steps.find((step) => step.op === 'write' && step.path.endsWith('cc1plus-12'));
    assert.ok(wrapper?.op === 'write' && wrapper.path === '/s/shadow-1/gcc-cross/aarch64-linux-gnu/cc1plus-12' && wrapper.mode === 0o755);
    assert.ok(steps.some((step) => step.op === 'mount' && step.source === '/r/usr/lib/gcc/aarch64-linux-gnu/12/cc1plus' && step.target === '/s/shadow-1/gcc-cross/aarch64-linux-gnu/cc1plus-12-emulated'));
    assert.ok(steps.some((step) => step.op === 'mount' && step.source === '/r/usr/lib/gcc-cross/aarch64-linux-gnu/cc1plus-12' && step.target === '/r/usr/lib/gcc/aarch64-linux-gnu/12/cc1plus'));
  });

  it('the wrapper: root\'s chain after the caller\'s options; -nostdinc runs the native one as is; unmodelled options the root\'s own', () => {
    const script = compilerWrapper('/n/cc1plus', "/o/it's", nativeIncludeDirs('cc1plus', 'aarch64-linux-gnu', 'aarch64-linux-gnu', '14'));
    assert.ok(script.startsWith('#!/bin/sh\n'));
    assert.match(script, /^ {4}-nostdinc\) exec '\/n\/cc1plus' "\$@" ;;$/m);
    assert.match(script, /^ {4}-nostdinc\+\+\|-isysroot\*\|--sysroot\*\|-iprefix\*\|-iwithprefix\*\|-imultilib\*\) exec '\/o\/it'\\''s' "\$@" ;;$/m);
    assert.match(script, /^for dir in '\/usr\/include\/c\+\+\/14' '\/usr\/include\/aarch64-linux-gnu\/c\+\+\/14' '\/usr\/include\/c\+\+\/14\/backward' '\/usr\/lib\/gcc\/aarch64-linux-gnu\/14\/include' '\/usr\/local\/include\/aarch64-linux-gnu' '\/usr\/local\/include' /m);
    assert.match(script, /'\/usr\/lib\/gcc\/aarch64-linux-gnu\/14\/\.\.\/\.\.\/\.\.\/\.\.\/aarch64-linux-gnu\/include' '\/usr\/include\/aarch64-linux-gnu' '\/usr\/include'; do$/m);
    assert.match(script, /^set -- "\$@" -nostdinc\n/m);
    assert.ok(script.endsWith(`exec '/n/cc1plus' "$@"\n`));
    assert.deepEqual(nativeIncludeDirs('cc1', 'i686-linux-gnu', 'i386-linux-gnu', '14'), [
      '/usr/lib/gcc/i686-linux-gnu/14/include', '/usr/local/include/i386-linux-gnu', '/usr/local/include',
      '/usr/lib/gcc/i686-linux-gnu/14/include-fixed/i386-linux-gnu', '/usr/lib/gcc/i686-linux-gnu/14/include-fixed',
      '/usr/lib/gcc/i686-linux-gnu/14/../../../../i686-linux-gnu/include', '/usr/include/i386-linux-gnu', '/usr/include',
    ]);
  });
});

describe('withCreatedEntries', () => {
  it('a shadow keeps what the run created in its directory before it (a --bind destination, a missing /proc)', () => {
    const plan = planAcceleration({ debianArch: 'arm64', root: bookwormRoot(), candidates: [{ source: 'tools-root', facts: toolsRoot() }] });
    const mounts = withCreatedEntries(plan.mounts, [
      { path: '/src', kind: 'dir' }, { path: '/proc', kind: 'dir' }, { path: '/etc/resolv.conf', kind: 'file' },
      { path: '/tmp', kind: 'dir' }, { path: '/usr/lib/x', kind: 'symlink', target: 'y' },
    ]);
    const top = mounts.find((mount) => mount.kind === 'shadow-dir' && mount.target === '/');
    assert.ok(top?.kind === 'shadow-dir');
    assert.deepEqual(top.keep.filter((entry) => ['src', 'proc', 'tmp'].includes(entry.name)), [
      { name: 'proc', kind: 'dir' }, { name: 'src', kind: 'dir' }, { name: 'tmp', kind: 'dir' },
    ]);
    assert.equal(top.keep.filter((entry) => entry.name === 'tmp').length, 1, 'an entry already kept is not doubled');
    const usrLib = mounts.find((mount) => mount.kind === 'shadow-dir' && mount.target === '/usr/lib');
    assert.ok(usrLib?.kind === 'shadow-dir');
    assert.deepEqual(usrLib.keep.find((entry) => entry.name === 'x'), { name: 'x', kind: 'symlink', target: 'y' });
    assert.ok(!mounts.some((mount) => mount.kind === 'shadow-dir' && mount.keep.some((entry) => entry.name === 'resolv.conf')));
  });
});

describe('what run --accelerate says', () => {
  it('nothing when every tool the root has runs natively', () => {
    const plan = planAcceleration({ debianArch: 'arm64', root: bookwormRoot(), candidates: [{ source: 'tools-root', facts: toolsRoot() }] });
    assert.deepEqual(emulatedToolLines(plan), []);
    assert.ok(substitutedToolLines(plan).some((line) => line.startsWith('cc1 (gcc 12) runs natively: /var/lib/crossroot/tools/bookworm/usr/lib/gcc-cross/aarch64-linux-gnu/12/cc1 over /usr/lib/gcc/aarch64-linux-gnu/12/cc1')));
  });

  it('a version mismatch: one line per reason, naming the tools', () => {
    const plan = planAcceleration({
      debianArch: 'arm64', root: bookwormRoot('12.2.0-14+deb12u1'),
      candidates: [{ source: 'tools-root', facts: toolsRoot('12.2.0-14cross1') }],
    });
    const lines = emulatedToolLines(plan);
    assert.ok(lines.includes("cc1 (gcc 12), cc1plus (gcc 12), lto1 (gcc 12), lto-wrapper (gcc 12), collect2 (gcc 12), liblto_plugin.so (gcc 12) stay emulated: version mismatch: root has '12.2.0-14+deb12u1', native cross tool has '12.2.0-14cross1'"), lines.join('\n'));
    assert.ok(lines.some((line) => line.startsWith('ld.bfd, ld.gold stay emulated: ')));
    assert.equal(lines.length, 2);
  });

  it('a root without a compiler: the refusal', () => {
    const plan = planAcceleration({ debianArch: 'armhf', root: bookwormRoot(), candidates: [] });
    assert.deepEqual(emulatedToolLines(plan), ["nothing accelerated: the root has no gcc for 'arm-linux-gnueabihf' (no cc1)"]);
  });
});
