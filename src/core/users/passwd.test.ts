import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGroup, parsePasswd, resolveUser } from './passwd.ts';
import { isCrossrootError } from '../errors.ts';

const passwd = parsePasswd([
  'root:x:0:0:root:/root:/bin/bash',
  'builder:x:1000:1000:B:/home/builder:/bin/sh',
  '# a comment:x:1:1:::',
  'broken:x:notanumber:1::/:/bin/sh',
  'short:x:5',
  'huge:x:99999999999:1::/:/bin/sh',
  'nohome:x:2000:2000::relative:',
].join('\n'));
const groups = parseGroup(['root:x:0:', 'staff:x:50:builder,other', 'sudo:x:27: builder ', 'builder:x:1000:builder', 'bad:x:y:'].join('\n'));

test('parsePasswd skips malformed lines', () => {
  assert.deepEqual(passwd.map((entry) => entry.name), ['root', 'builder', 'nohome']);
});

test('resolveUser: names, numbers, groups', () => {
  const cases: { spec: string; uid: number; gid: number; groups: number[]; home: string; shell: string }[] = [
    { spec: 'root', uid: 0, gid: 0, groups: [], home: '/root', shell: '/bin/bash' },
    { spec: '0', uid: 0, gid: 0, groups: [], home: '/root', shell: '/bin/bash' },
    { spec: 'builder', uid: 1000, gid: 1000, groups: [27, 50], home: '/home/builder', shell: '/bin/sh' },
    { spec: 'builder:staff', uid: 1000, gid: 50, groups: [27, 1000], home: '/home/builder', shell: '/bin/sh' },
    { spec: '4242', uid: 4242, gid: 4242, groups: [], home: '/', shell: '/bin/sh' },
    { spec: '4242:7', uid: 4242, gid: 7, groups: [], home: '/', shell: '/bin/sh' },
    { spec: 'nohome', uid: 2000, gid: 2000, groups: [], home: '/', shell: '/bin/sh' },
  ];
  for (const { spec, ...expected } of cases) {
    const user = resolveUser(spec, passwd, groups);
    assert.deepEqual({ uid: user.uid, gid: user.gid, groups: user.groups, home: user.home, shell: user.shell }, expected, spec);
  }
});

test('resolveUser: unknown names are USER_NOT_FOUND with a hint', () => {
  for (const spec of ['nobody-here', 'builder:nogroup']) {
    try {
      resolveUser(spec, passwd, groups);
      assert.fail(spec);
    } catch (error) {
      assert.ok(isCrossrootError(error));
      assert.equal(error.code, 'USER_NOT_FOUND');
      assert.ok(error.hint);
    }
  }
});
