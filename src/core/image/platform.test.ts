import { test } from 'node:test';
import assert from 'node:assert/strict';
import { debianArchsOfPlatform, formatPlatform, platformMatches, platformOfDebianArch } from './platform.ts';

test('Debian ports map to the OCI architecture and variant image tools expect', () => {
  const cases: [string, string][] = [
    ['arm64', 'arm64/v8'], ['armhf', 'arm/v7'], ['armel', 'arm/v5'], ['i386', '386'], ['ppc64el', 'ppc64le'],
    ['amd64', 'amd64'], ['s390x', 's390x'], ['riscv64', 'riscv64'], ['mips64el', 'mips64le'],
  ];
  for (const [debianArch, expected] of cases) {
    const platform = platformOfDebianArch(debianArch);
    assert.equal(platform?.os, 'linux');
    assert.equal(platform === null ? null : formatPlatform(platform), expected, debianArch);
  }
  assert.equal(platformOfDebianArch('hurd-i386'), null);
});

test('a stated platform fits a port: a missing variant fits, a wrong one does not', () => {
  assert.equal(platformMatches({ architecture: 'arm64' }, 'arm64'), true);
  assert.equal(platformMatches({ architecture: 'arm', variant: 'v7' }, 'armhf'), true);
  assert.equal(platformMatches({ architecture: 'arm', variant: 'v7' }, 'armel'), false);
  assert.equal(platformMatches({ architecture: 'amd64' }, 'arm64'), false);
  assert.deepEqual(debianArchsOfPlatform({ architecture: 'arm' }), ['armhf', 'armel']);
});
