import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { perlConfigGuard, planTwins, sameSourceVersion, scanNativeElf, twinGroups, wantedToolsPackages, withoutBinNmu } from './twins.ts';
import type { NativeScan, PackageFiles, TwinInput } from './twins.ts';
import { HOST_MARKERS, TRIPLET_ALLOWED, TWIN_PACKAGES, emulatedPackageReason, emulatedProgramReason, parseKeepEmulated, tripletAllowedReason } from './policy.ts';
import { emulatedToolLines, planAcceleration } from './accelerate-plan.ts';
import { bytesSource } from '../bytes/byte-reader.ts';
import { tree } from './tree.test-fixture.ts';

/** A minimal little-endian ELF64 file with a section table: null, .shstrtab, .rodata. */
function elfWithRodata(machine: number, rodata: string): Uint8Array {
  const names = new TextEncoder().encode('\0.shstrtab\0.rodata\0');
  const data = new TextEncoder().encode(rodata);
  const namesAt = 64;
  const dataAt = namesAt + names.length;
  const shoff = Math.ceil((dataAt + data.length) / 8) * 8;
  const bytes = new Uint8Array(shoff + 3 * 64);
  const view = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  view.setUint16(16, 3, true); // ET_DYN
  view.setUint16(18, machine, true);
  view.setUint32(20, 1, true);
  view.setBigUint64(40, BigInt(shoff), true);
  view.setUint16(52, 64, true);
  view.setUint16(54, 56, true);
  view.setUint16(58, 64, true);
  view.setUint16(60, 3, true);
  view.setUint16(62, 1, true);
  bytes.set(names, namesAt);
  bytes.set(data, dataAt);
  const section = (index: number, name: number, type: number, offset: number, size: number): void => {
    const at = shoff + index * 64;
    view.setUint32(at, name, true);
    view.setUint32(at + 4, type, true);
    view.setBigUint64(at + 24, BigInt(offset), true);
    view.setBigUint64(at + 32, BigInt(size), true);
  };
  section(1, 1, 3, namesAt, names.length);
  section(2, 11, 1, dataAt, data.length);
  return bytes;
}

const pkg = (name: string, version: string, architecture: string, files: string[]): [string, PackageFiles] =>
  [name, { package: name, version, architecture, files }];

/** A merged-/usr arm64 root and an amd64 tools root with the same sed, coreutils and perl, and an older grep (3.11-3 against the root's binNMU 3.11-4+b1). */
function input(overrides: Partial<TwinInput> = {}, scans: Record<string, NativeScan | null> = {}): TwinInput {
  const bins = ['sed', 'grep', 'uname', 'ls', 'perl', 'make', 'which', 'dpkg', 'dpkg-deb', 'pkgconf'];
  const files = Object.fromEntries([['/bin', '->usr/bin'], ...bins.map((bin) => [`/usr/bin/${bin}`, 'x'])]) as Record<string, string>;
  return {
    root: tree('/roots/arm64', files),
    tools: tree('/tools', files),
    rootPackages: new Map([
      pkg('sed', '4.9-2', 'arm64', ['/bin/sed']), pkg('grep', '3.11-4+b1', 'arm64', ['/bin/grep']),
      pkg('coreutils', '9.7-3', 'arm64', ['/usr/bin/ls', '/usr/bin/uname']), pkg('perl-base', '5.40.1-6', 'arm64', ['/usr/bin/perl']),
      pkg('make', '4.4.1-2', 'arm64', ['/usr/bin/make']), pkg('debianutils', '5.23.2', 'arm64', ['/usr/bin/which']),
      pkg('liblocale-gettext-perl', '1.07-7', 'arm64', ['/usr/lib/aarch64-linux-gnu/perl5/5.40/Locale/gettext.pm']),
      pkg('dpkg', '1.22.22', 'arm64', ['/usr/bin/dpkg', '/usr/bin/dpkg-deb']), pkg('debhelper', '13.24.2', 'all', ['/usr/bin/dh']),
      pkg('pkgconf-bin', '1.8.1-4', 'arm64', ['/usr/bin/pkgconf']),
    ]),
    toolsPackages: new Map([
      pkg('sed', '4.9-2', 'amd64', ['/bin/sed']), pkg('grep', '3.11-3', 'amd64', ['/bin/grep']),
      pkg('coreutils', '9.7-3', 'amd64', ['/usr/bin/ls', '/usr/bin/uname']), pkg('perl-base', '5.40.1-6', 'amd64', ['/usr/bin/perl']),
      pkg('make', '4.4.1-2', 'amd64', ['/usr/bin/make']), pkg('debianutils', '5.23.2', 'amd64', ['/usr/bin/which']),
      pkg('liblocale-gettext-perl', '1.07-7', 'amd64', []), pkg('dpkg', '1.22.22', 'amd64', ['/usr/bin/dpkg', '/usr/bin/dpkg-deb']),
    ]),
    multiarch: 'aarch64-linux-gnu',
    debianArch: 'arm64',
    scanNative: (path) => (path in scans ? scans[path] ?? null : { markers: [] }),
    isRootElf: () => true,
    ...overrides,
  };
}

describe('planTwins', () => {
  it('binds same-version native programs over the root\'s files; a mismatch, the policy and host markers keep programs emulated', () => {
    const plan = planTwins(input({}, {
      '/usr/bin/make': { markers: ['x86_64-pc-linux-gnu'] }, '/usr/bin/which': { markers: ['amd64'] }, '/usr/bin/dpkg-deb': { markers: ['amd64'] },
    }));
    const status = Object.fromEntries(plan.twins.map((twin) => [twin.program, `${twin.status} ${twin.kind}`]));
    assert.deepEqual(status, {
      '/bin/sed': 'substituted same', '/bin/grep': 'emulated version', '/usr/bin/ls': 'substituted same', '/usr/bin/uname': 'emulated policy',
      '/usr/bin/perl': 'substituted same', '/usr/bin/make': 'substituted same', '/usr/bin/which': 'emulated embeds-host', '*': 'emulated policy',
      '/usr/bin/dpkg': 'emulated policy', '/usr/bin/dpkg-deb': 'substituted same',
    });
    assert.match(plan.twins.find((twin) => twin.program === '/usr/bin/dpkg')?.reason ?? '', /architecture compiled into libdpkg/);
    assert.match(plan.twins.find((twin) => twin.program === '/usr/bin/which')?.reason ?? '', /names the host \('amd64'\)/);
    assert.match(plan.twins.find((twin) => twin.program === '/usr/bin/make')?.reason ?? '', /allowed although it names the host: embeds MAKE_HOST/);
    assert.equal(plan.twins.find((twin) => twin.program === '*')?.package, 'pkgconf-bin');
    const binds = plan.binds.map((mount) => (mount.kind === 'bind' ? [mount.source, mount.target] : []));
    // Targets are the root's resolved files; sources the tools root's (host paths); the perl guard last, from the root's /usr/lib shadow.
    assert.deepEqual(binds, [
      ['/tools/usr/bin/make', '/usr/bin/make'], ['/tools/usr/bin/sed', '/usr/bin/sed'], ['/tools/usr/bin/ls', '/usr/bin/ls'],
      ['/tools/usr/bin/perl', '/usr/bin/perl'], ['/tools/usr/bin/dpkg-deb', '/usr/bin/dpkg-deb'], ['/usr/lib/crossroot-accelerate/Config.pm', '/usr/lib/x86_64-linux-gnu/perl-base/Config.pm'],
    ]);
    assert.deepEqual(plan.usrLibEntries.map((entry) => `${entry.kind} ${entry.path}`), ['dir crossroot-accelerate', 'script crossroot-accelerate/Config.pm']);
  });

  it('a binNMU is the same source version: grep 3.11-4+b1 of the root has the twin 3.11-4 (and +b2), not 3.11-3', () => {
    const base = input();
    const judged = (toolsVersion: string): string => {
      const tools = new Map(base.toolsPackages);
      const grep = tools.get('grep');
      assert.ok(grep !== undefined);
      tools.set('grep', { ...grep, version: toolsVersion });
      const twin = planTwins({ ...base, toolsPackages: tools }).twins.find((entry) => entry.program === '/bin/grep');
      return `${twin?.status ?? ''} ${twin?.kind ?? ''}`;
    };
    assert.equal(judged('3.11-4'), 'substituted same');
    assert.equal(judged('3.11-4+b2'), 'substituted same');
    assert.equal(judged('3.11-3'), 'emulated version');
    assert.equal(judged('3.11-4+b1.1'), 'emulated version');
    assert.equal(sameSourceVersion('1:2.3-1+b10', '1:2.3-1'), true);
    assert.equal(sameSourceVersion('2.3-1+deb12u1', '2.3-1'), false, 'a stable update is another source version');
    assert.equal(withoutBinNmu('3.11-4+b1'), '3.11-4');
  });

  it('keeps perl emulated when an arch-dependent perl module of the root has no same-version native build', () => {
    const base = input();
    const tools = new Map(base.toolsPackages);
    tools.delete('liblocale-gettext-perl');
    const plan = planTwins({ ...base, toolsPackages: tools });
    const perl = plan.twins.find((twin) => twin.program === '/usr/bin/perl');
    assert.equal(perl?.status, 'emulated');
    assert.match(perl?.reason ?? '', /liblocale-gettext-perl/);
    assert.equal(plan.usrLibEntries.length, 0);
    assert.ok(!plan.binds.some((mount) => mount.target.includes('perl')));
  });

  it('a preload library of the root without its same-version native build keeps every twin emulated', () => {
    const base = input();
    const root = new Map(base.rootPackages);
    root.set('libfakeroot', { package: 'libfakeroot', version: '1.37.1.1-1', architecture: 'arm64', files: [] });
    const lost = planTwins({ ...base, rootPackages: root });
    assert.ok(lost.twins.every((twin) => twin.status === 'emulated'));
    assert.match(lost.twins.find((twin) => twin.program === '/bin/sed')?.reason ?? '', /preload library would be lost: the root has libfakeroot 1\.37\.1\.1-1/);
    assert.deepEqual(lost.binds, []);
    const tools = new Map(base.toolsPackages);
    tools.set('libfakeroot', { package: 'libfakeroot', version: '1.37.1.1-1', architecture: 'amd64', files: [] });
    const kept = planTwins({ ...base, rootPackages: root, toolsPackages: tools });
    assert.equal(kept.twins.find((twin) => twin.program === '/bin/sed')?.status, 'substituted');
    // armhf's faked speaks another struct layout than an x86-64 libfakeroot: no twin there, even with the same version.
    const armhf = planTwins({ ...base, rootPackages: root, toolsPackages: tools, debianArch: 'armhf', multiarch: 'arm-linux-gnueabihf' });
    assert.ok(armhf.twins.every((twin) => twin.status === 'emulated'));
    assert.match(armhf.twins.find((twin) => twin.program === '/bin/sed')?.reason ?? '', /protocol with the root's daemon differs between 'armhf' and amd64/);
  });

  it('a native file that is not an x86-64 program, or packages asked to stay emulated, stay emulated', () => {
    const plan = planTwins(input({ keepEmulated: parseKeepEmulated('perl-base, perl,bad name') }, { '/usr/bin/sed': null }));
    const byProgram = new Map(plan.twins.map((twin) => [twin.program, twin]));
    assert.equal(byProgram.get('/bin/sed')?.kind, 'not-native');
    assert.match(byProgram.get('/usr/bin/perl')?.reason ?? '', /kept emulated on request/);
    assert.deepEqual(parseKeepEmulated('perl-base, perl,bad name'), ['perl-base', 'perl']);
  });

  it('wants the root\'s versions of the twin packages, its perl module and preload packages, never the policy\'s or arch-all ones', () => {
    assert.deepEqual(wantedToolsPackages(input().rootPackages, 'aarch64-linux-gnu').map((want) => `${want.package}=${want.version}`), [
      'coreutils=9.7-3', 'debianutils=5.23.2', 'dpkg=1.22.22', 'grep=3.11-4+b1', 'liblocale-gettext-perl=1.07-7', 'make=4.4.1-2', 'perl-base=5.40.1-6', 'sed=4.9-2',
    ]);
  });

  it('groups the twins by package for the listing', () => {
    const groups = twinGroups(planTwins(input()).twins);
    const coreutils = groups.find((group) => group.package === 'coreutils');
    assert.deepEqual(coreutils?.substituted, ['/usr/bin/ls']);
    assert.deepEqual(coreutils?.emulated.map((entry) => entry.programs), [['/usr/bin/uname']]);
    assert.deepEqual(groups.map((group) => group.package), ['coreutils', 'debianutils', 'dpkg', 'grep', 'make', 'perl-base', 'pkgconf-bin', 'sed']);
  });
});

describe('planAcceleration with twins', () => {
  it('a root without gcc (any architecture with a Debian port) still gets its twins, and says the compiler stays emulated', () => {
    const base = input();
    const runtime = { '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2': 'x', '/lib64/ld-linux-x86-64.so.2': '->/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' };
    const files = Object.fromEntries(['sed', 'ls', 'perl', 'make'].map((bin) => [`/usr/bin/${bin}`, 'x']));
    const tools = tree('/tools', { '/bin': '->usr/bin', ...files, ...runtime });
    const root = tree('/roots/riscv64', { '/bin': '->usr/bin', ...files, '/usr/lib/riscv64-linux-gnu/libc.so.6': 'x' });
    const plan = planAcceleration({ debianArch: 'riscv64', root, candidates: [], twins: { ...base, tools, multiarch: 'riscv64-linux-gnu', debianArch: 'riscv64' } });
    assert.equal(plan.refused, null);
    assert.match(plan.compilerRefused ?? '', /no gcc/);
    assert.equal(plan.source, 'tools-root');
    assert.ok(plan.mounts.some((mount) => mount.kind === 'bind' && mount.target === '/usr/bin/sed' && mount.source === '/tools/usr/bin/sed'));
    assert.ok(plan.mounts.some((mount) => mount.kind === 'bind' && mount.target === '/usr/lib/x86_64-linux-gnu'));
    assert.match(emulatedToolLines(plan)[0] ?? '', /^compiler tools stay emulated \(only twins run natively\)/);
  });
});

describe('policy', () => {
  it('names a reason for every entry; the compilers, dpkg, pkg-config and python stay emulated', () => {
    for (const entry of [...TWIN_PACKAGES, ...TRIPLET_ALLOWED]) assert.ok(entry.why.length > 10, JSON.stringify(entry));
    for (const name of ['dpkg-dev', 'pkgconf', 'python3.13', 'python3.13-minimal', 'gcc-14', 'g++-14', 'cpp-14']) {
      assert.notEqual(emulatedPackageReason(name), null, name);
    }
    assert.equal(emulatedPackageReason('sed'), null);
    assert.equal(emulatedPackageReason('cmake'), null, 'cmake asks the (emulated) uname program for the processor');
    assert.notEqual(emulatedProgramReason('/usr/bin/dpkg', 'dpkg'), null, 'of dpkg, only dpkg-deb is twinned');
    assert.notEqual(emulatedProgramReason('/usr/bin/dpkg-query', 'dpkg'), null);
    assert.equal(emulatedProgramReason('/usr/bin/dpkg-deb', 'dpkg'), null);
    assert.notEqual(tripletAllowedReason('/usr/bin/perl5.40.1'), null);
    assert.equal(tripletAllowedReason('/usr/bin/msgfmt'), null);
    assert.deepEqual([...HOST_MARKERS], ['x86_64-linux-gnu', 'x86_64-pc-linux-gnu', 'amd64']);
  });

  it('a guarded twin (msgfmt names the host for --java/--csharp only) is a wrapper: native, or the root\'s own for those options', () => {
    const files = { '/usr/bin/msgfmt': 'x' };
    const plan = planTwins({
      root: tree('/roots/arm64', files), tools: tree('/tools', files),
      rootPackages: new Map([pkg('gettext', '0.23.1-2', 'arm64', ['/usr/bin/msgfmt'])]),
      toolsPackages: new Map([pkg('gettext', '0.23.1-2', 'amd64', ['/usr/bin/msgfmt'])]),
      multiarch: 'aarch64-linux-gnu', debianArch: 'arm64',
      scanNative: () => ({ markers: ['x86_64-linux-gnu'] }), isRootElf: () => true,
    });
    assert.equal(plan.twins[0]?.status, 'substituted');
    assert.match(plan.twins[0]?.reason ?? '', /the root's own runs for '--j\*'/);
    assert.deepEqual(plan.binds, [{ kind: 'bind', source: '/usr/lib/crossroot-accelerate/msgfmt', target: '/usr/bin/msgfmt', why: 'twin /usr/bin/msgfmt (gettext 0.23.1-2), guarded', sourceInRoot: true }]);
    assert.deepEqual(plan.usrLibEntries.map((entry) => `${entry.kind} ${entry.path}${entry.kind === 'file' ? ` ${entry.from}:${entry.source}` : ''}`), [
      'dir crossroot-accelerate', 'file crossroot-accelerate/msgfmt.native host:/tools/usr/bin/msgfmt',
      'file crossroot-accelerate/msgfmt.emulated root:/usr/bin/msgfmt', 'script crossroot-accelerate/msgfmt',
    ]);
    const script = plan.usrLibEntries.find((entry) => entry.kind === 'script');
    assert.match(script?.kind === 'script' ? script.text : '', /--j\*\|--cs\*\|-j\*\|-\[!-\]\*j\*\) exec '\/usr\/lib\/crossroot-accelerate\/msgfmt\.emulated' "\$@"/);
  });

  it('the perl guard loads the root\'s Config and serves Config_heavy.pl and Config_git.pl from the root', () => {
    const text = perlConfigGuard('/usr/lib/aarch64-linux-gnu/perl-base');
    assert.match(text, /my \$dir = '\/usr\/lib\/aarch64-linux-gnu\/perl-base';/);
    assert.match(text, /do "\$dir\/Config\.pm"/);
    assert.match(text, /Config_heavy\.pl" \|\| \$file eq "Config_git\.pl"/);
  });
});

describe('scanNativeElf', () => {
  it('finds host markers in .rodata of an x86-64 program only', () => {
    const rodata = 'GNU Make 4.4.1\0Built for x86_64-pc-linux-gnu\0';
    assert.deepEqual(scanNativeElf(bytesSource(elfWithRodata(62, rodata))), { markers: ['x86_64-pc-linux-gnu'] });
    assert.deepEqual(scanNativeElf(bytesSource(elfWithRodata(62, 'sed 4.9\0'))), { markers: [] });
    assert.equal(scanNativeElf(bytesSource(elfWithRodata(183, rodata))), null); // aarch64
    assert.equal(scanNativeElf(bytesSource(new TextEncoder().encode('#!/bin/sh\necho x86_64-linux-gnu\n'))), null);
  });
});
