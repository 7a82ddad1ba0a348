import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { commandChain, defaultEnvironment } from './command-chain.ts';

describe('commandChain', () => {
  test('root: unshare chroots, changes directory and sets ids', () => {
    assert.deepEqual(commandChain({ rootDir: '/r', personality: null, user: { uid: 0, gid: 0, groups: [] }, workdir: '/w', argv: ['id'] }),
      ['unshare', '--root', '/r', '--wd', '/w', '--setgid', '0', '--setuid', '0', '--', 'id']);
  });
  test('supplementary groups go through setpriv; linux32 comes first', () => {
    assert.deepEqual(commandChain({ rootDir: '/r', personality: 'linux32', user: { uid: 1000, gid: 1000, groups: [50] }, workdir: '/', argv: ['sh'] }),
      ['setarch', 'linux32', 'setpriv', '--regid', '1000', '--groups', '1000,50', '--', 'unshare', '--root', '/r', '--wd', '/', '--setuid', '1000', '--', 'sh']);
  });
});

describe('defaultEnvironment', () => {
  test('defaultEnvironment keeps only TERM and a portable LANG from the host', () => {
    const env = defaultEnvironment({ name: 'builder', uid: 1000, home: '/home/builder', shell: '/bin/bash' },
      { TERM: 'xterm', LANG: 'de_DE.UTF-8', SECRET: 'x' });
    assert.deepEqual(env, {
      PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/home/builder', SHELL: '/bin/bash', USER: 'builder', LOGNAME: 'builder', TERM: 'xterm', LANG: 'C.UTF-8',
    });
    assert.equal(defaultEnvironment({ name: null, uid: 0, home: '/root', shell: '/bin/sh' }, { LANG: 'C.UTF-8' })['LANG'], 'C.UTF-8');
  });
});
