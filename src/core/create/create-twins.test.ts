import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planCreateTwins } from './create-twins.ts';
import type { PackageFiles, TwinInput } from '../accelerate/twins.ts';
import { tree } from '../accelerate/tree.test-fixture.ts';

const pkg = (name: string, version: string, architecture: string, files: string[]): [string, PackageFiles] =>
  [name, { package: name, version, architecture, files }];

const LOADER = '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2';

/** An arm64 root as mmdebstrap's essential phase leaves it, and an amd64 tools root of the same suite. */
function input(rootExtra: Record<string, string> = {}, toolsSed = '4.9-2'): TwinInput {
  const bins = { '/usr/bin/sed': 'x', '/usr/bin/uname': 'x', '/usr/bin/perl': 'x', '/usr/bin/ls': 'x' };
  return {
    root: tree('/srv/root.crossroot-partial-1', { '/bin': '->usr/bin', '/lib': '->usr/lib', '/usr/lib/aarch64-linux-gnu/libc.so.6': 'x', ...bins, ...rootExtra }),
    tools: tree('/var/lib/crossroot/tools/trixie-amd64-twins', {
      '/bin': '->usr/bin', '/lib64': '->usr/lib64', '/usr/lib64/ld-linux-x86-64.so.2': `->${LOADER}`, [LOADER]: 'x', ...bins,
    }),
    rootPackages: new Map([
      pkg('sed', '4.9-2', 'arm64', ['/bin/sed']), pkg('coreutils', '9.7-3', 'arm64', ['/usr/bin/ls', '/usr/bin/uname']),
      pkg('perl-base', '5.40.1-6', 'arm64', ['/usr/bin/perl']),
    ]),
    toolsPackages: new Map([
      pkg('sed', toolsSed, 'amd64', ['/bin/sed']), pkg('coreutils', '9.7-3', 'amd64', ['/usr/bin/ls', '/usr/bin/uname']),
      pkg('perl-base', '5.40.1-6', 'amd64', ['/usr/bin/perl']),
    ]),
    multiarch: 'aarch64-linux-gnu',
    debianArch: 'arm64',
    scanNative: () => ({ markers: [] }),
    isRootElf: () => true,
  };
}

describe('planCreateTwins', () => {
  it('places the runtime as entries of the partial tree, then binds the twins; perl stays emulated', () => {
    const plan = planCreateTwins(input());
    assert.equal(plan.refused, null);
    assert.equal(plan.natives, 2);
    assert.deepEqual(plan.steps, [
      { op: 'mkdir', path: '/lib64' },
      { op: 'symlink', path: '/lib64/ld-linux-x86-64.so.2', target: LOADER },
      { op: 'mkdir', path: '/usr/lib/x86_64-linux-gnu' },
      { op: 'bind', source: '/var/lib/crossroot/tools/trixie-amd64-twins/usr/lib/x86_64-linux-gnu', target: '/usr/lib/x86_64-linux-gnu', why: 'native runtime libraries' },
      { op: 'bind', source: '/var/lib/crossroot/tools/trixie-amd64-twins/usr/bin/sed', target: '/usr/bin/sed', why: 'twin /bin/sed (sed 4.9-2)' },
      { op: 'bind', source: '/var/lib/crossroot/tools/trixie-amd64-twins/usr/bin/ls', target: '/usr/bin/ls', why: 'twin /usr/bin/ls (coreutils 9.7-3)' },
    ]);
    const perl = plan.twins.find((twin) => twin.program === '/usr/bin/perl');
    assert.equal(perl?.status, 'emulated');
    assert.match(perl?.reason ?? '', /^policy: create: /);
    assert.equal(plan.twins.find((twin) => twin.program === '/usr/bin/uname')?.status, 'emulated');
  });

  it('adds only the loader link to an existing /lib64', () => {
    const plan = planCreateTwins(input({ '/lib64': '->usr/lib64', '/usr/lib64/ld64.so.2': 'x' }));
    assert.deepEqual(plan.steps.slice(0, 2), [
      { op: 'symlink', path: '/usr/lib64/ld-linux-x86-64.so.2', target: LOADER },
      { op: 'mkdir', path: '/usr/lib/x86_64-linux-gnu' },
    ]);
  });

  it('refuses when the runtime collides with the root, or nothing has a same-version twin', () => {
    const collision = planCreateTwins(input({ '/usr/lib/x86_64-linux-gnu/libfoo.so': 'x' }));
    assert.deepEqual(collision.steps, []);
    assert.match(collision.refused ?? '', /collision/);
    const none = planCreateTwins({ ...input({}, '4.8-1'), toolsPackages: new Map([pkg('sed', '4.8-1', 'amd64', ['/bin/sed'])]) });
    assert.deepEqual(none.steps, []);
    assert.match(none.refused ?? '', /no program/);
  });
});
