import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCELERATED_ARCHES, accelerationCommands, matchVersions, planAcceleration, sourceUploadVersion, toolsRootPackages,
} from './accelerate-plan.ts';
import type { AcceleratePlan, EntryKind, PackageOwner, TreeFacts } from './accelerate-plan.ts';
import { resolveArch } from './arch.ts';

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
      cc1: 'substituted', cc1plus: 'emulated', lto1: 'substituted', 'lto-wrapper': 'substituted', collect2: 'substituted',
      'liblto_plugin.so': 'substituted', as: 'substituted', 'ld.bfd': 'substituted', 'ld.gold': 'substituted',
    });
    const binds = plan.mounts.filter((m) => m.kind === 'bind').map((m) => [m.source, m.target]);
    assert.deepEqual(binds, [
      ['/var/lib/crossroot/tools/bookworm/usr/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu'],
      ['/var/lib/crossroot/tools/bookworm/usr/lib/gcc-cross/aarch64-linux-gnu/12/cc1', '/usr/lib/gcc/aarch64-linux-gnu/12/cc1'],
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
    assert.deepEqual(usrLib.add.map((e) => e.path), ['x86_64-linux-gnu', 'gcc-cross', 'gcc-cross/aarch64-linux-gnu', 'gcc-cross/aarch64-linux-gnu/12']);
    assert.deepEqual(usrLib.add.at(-1), { kind: 'symlink', path: 'gcc-cross/aarch64-linux-gnu/12', target: '/usr/lib/gcc/aarch64-linux-gnu/12' });
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

  it('cc1 stays emulated when the root has headers in /usr/local/include (a cross cc1 never searches it)', () => {
    const root = bookwormRoot('12.2.0-14', { '/usr/local/include/mylib.h': { file: null } });
    const plan = planAcceleration({ debianArch: 'arm64', root, candidates: [{ source: 'tools-root', facts: toolsRoot() }] });
    assert.equal(statusOf(plan)['cc1'], 'emulated');
    assert.match(plan.tools.find((t) => t.tool === 'cc1')?.reason ?? '', /usr\/local\/include/);
    assert.equal(statusOf(plan)['as'], 'substituted');
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
    assert.ok(plan.mounts.some((m) => m.kind === 'bind' && m.source === `/t/usr/libexec/gcc-cross/${t}/14/cc1` && m.target === `/usr/libexec/gcc/${t}/14/cc1`));
  });

  it('unsupported architectures and roots without gcc are refused with a reason', () => {
    assert.match(planAcceleration({ debianArch: 'sparc64', root: bookwormRoot(), candidates: [] }).refused ?? '', /no Debian cross toolchain/);
    assert.match(planAcceleration({ debianArch: 'armhf', root: bookwormRoot(), candidates: [] }).refused ?? '', /no gcc/);
  });
});

describe('accelerationCommands', () => {
  it('shadows first, read-only binds after, all under the root', () => {
    const plan = planAcceleration({ debianArch: 'arm64', root: bookwormRoot(), candidates: [{ source: 'tools-root', facts: toolsRoot() }] });
    const commands = accelerationCommands(plan.mounts, '/roots/arm64', '/run/x');
    assert.deepEqual(commands.slice(0, 3), [
      ['mkdir', '-p', '/run/x/shadow-0'],
      ['mount', '--rbind', '/roots/arm64', '/run/x/shadow-0'],
      ['mount', '-t', 'tmpfs', '-o', 'mode=0755', 'crossroot-shadow', '/roots/arm64'],
    ]);
    assert.ok(commands.some((c) => c.join(' ') === 'ln -s usr/lib /roots/arm64/lib'));
    assert.ok(commands.some((c) => c.join(' ') === 'mount --rbind /run/x/shadow-0/usr /roots/arm64/usr'));
    assert.deepEqual(commands.at(-2), ['mount', '--bind', '/var/lib/crossroot/tools/bookworm/usr/bin/aarch64-linux-gnu-ld.gold', '/roots/arm64/usr/bin/aarch64-linux-gnu-ld.gold']);
    assert.deepEqual(commands.at(-1), ['mount', '-o', 'remount,bind,ro', '/roots/arm64/usr/bin/aarch64-linux-gnu-ld.gold']);
    for (const command of commands) {
      if (command[0] === 'mount' && command[1] === '--bind') assert.ok(command[3]?.startsWith('/roots/arm64/'));
    }
  });
});

describe('accelerationSteps', () => {
  it('mirrors accelerationCommands as stage 2 steps, all mount targets under the root or the scratch dir', async () => {
    const { accelerationSteps } = await import('./accelerate-plan.ts');
    const plan = planAcceleration({ debianArch: 'arm64', root: bookwormRoot(), candidates: [{ source: 'tools-root', facts: toolsRoot() }] });
    const steps = accelerationSteps(plan.mounts, '/roots/arm64', '/run/crossroot-x');
    assert.deepEqual(steps[0], { op: 'mount', what: 'acceleration scratch', source: 'crossroot-accel', target: '/run/crossroot-x', fstype: 'tmpfs', options: 'mode=0700' });
    for (const step of steps) {
      if (step.op === 'register' || step.op === 'copy') assert.fail('unexpected step');
      const path = step.op === 'mount' ? step.target : step.path;
      assert.ok(path.startsWith('/roots/arm64') || path.startsWith('/run/crossroot-x'), path);
    }
    assert.deepEqual(steps.at(-1), {
      op: 'mount', what: 'accelerate: ld.gold', source: '/var/lib/crossroot/tools/bookworm/usr/bin/aarch64-linux-gnu-ld.gold',
      target: '/roots/arm64/usr/bin/aarch64-linux-gnu-ld.gold', fstype: 'none', options: 'bind,ro',
    });
  });
});
