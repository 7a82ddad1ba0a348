import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  daemonCommand, driverWrapper, fallbackLines, formatScheduler, icecreamEnvironment, icecreamSteps, icecreamVersion, localDaemonArgv,
  parseListcs, parseScheduler, planIcecreamRoot, schedulerCheck, summarizeClientLog,
} from './icecream-plan.ts';
import type { EntryKind, TreeFacts } from '../accelerate/accelerate-plan.ts';

type Node = 'dir' | 'file' | { link: string };

/** An in-memory root: every parent directory of a listed path exists. */
function fakeRoot(nodes: Record<string, Node>): TreeFacts {
  const all = new Map<string, Node>([['/', 'dir']]);
  for (const [path, node] of Object.entries(nodes)) {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) all.set(`/${parts.slice(0, i).join('/')}`, all.get(`/${parts.slice(0, i).join('/')}`) ?? 'dir');
    all.set(path, node);
  }
  const kind = (path: string): EntryKind | null => {
    const node = all.get(path);
    return node === undefined ? null : typeof node === 'string' ? node : 'symlink';
  };
  return {
    hostDir: '/roots/arm64',
    readlink: (path) => {
      const node = all.get(path);
      return node !== undefined && typeof node !== 'string' ? node.link : null;
    },
    kind,
    list: (dir) => [...all.keys()].filter((path) => path !== '/' && path.slice(0, path.lastIndexOf('/') || 1) === dir)
      .map((path) => path.slice(path.lastIndexOf('/') + 1)).sort(),
    owner: () => null,
  };
}

const TRIXIE_BIN: Record<string, Node> = {
  '/bin': { link: 'usr/bin' },
  '/usr/bin/aarch64-linux-gnu-gcc-14': 'file',
  '/usr/bin/aarch64-linux-gnu-g++-14': 'file',
  '/usr/bin/aarch64-linux-gnu-gcc': { link: 'aarch64-linux-gnu-gcc-14' },
  '/usr/bin/gcc-14': { link: 'aarch64-linux-gnu-gcc-14' },
  '/usr/bin/gcc': { link: 'gcc-14' },
  '/usr/bin/cc': { link: '/etc/alternatives/cc' },
  '/etc/alternatives/cc': { link: '/usr/bin/gcc' },
  '/usr/bin/g++-14': { link: 'aarch64-linux-gnu-g++-14' },
  '/usr/bin/make': 'file',
};

describe('parseScheduler', () => {
  const cases: [string, { host: string; port: number } | null][] = [
    ['10.0.0.1', { host: '10.0.0.1', port: 8765 }],
    ['build.lan:9000', { host: 'build.lan', port: 9000 }],
    ['[fd00::1]:8765', { host: 'fd00::1', port: 8765 }],
    ['[fd00::1]', { host: 'fd00::1', port: 8765 }],
    ['host:0', null],
    ['host:65536', null],
    ['', null],
    ['-s', null],
    ['a b', null],
    ['host:8765:1', null],
  ];
  for (const [text, expected] of cases) {
    it(`'${text}'`, () => assert.deepEqual(parseScheduler(text), expected));
  }
  it('formats back, with brackets for IPv6', () => {
    assert.equal(formatScheduler({ host: 'fd00::1', port: 8765 }), '[fd00::1]:8765');
    assert.equal(formatScheduler({ host: 'a', port: 1 }), 'a:1');
  });
});

describe('planIcecreamRoot', () => {
  it('covers the two real drivers, keeps the originals in /usr/bin under icecc-friendly names, replicates the rest', () => {
    const verdict = planIcecreamRoot(fakeRoot(TRIXIE_BIN), 'aarch64-linux-gnu', '14');
    assert.equal(verdict.refused, null);
    const plan = verdict.plan;
    assert.ok(plan !== null);
    assert.deepEqual(plan.drivers, [
      { path: '/usr/bin/aarch64-linux-gnu-gcc-14', original: '/usr/bin/aarch64-linux-gnu-icecream.gcc', language: 'c' },
      { path: '/usr/bin/aarch64-linux-gnu-g++-14', original: '/usr/bin/aarch64-linux-gnu-icecream.g++', language: 'c++' },
    ]);
    const [shadow] = plan.mounts;
    assert.ok(shadow?.kind === 'shadow-dir');
    assert.equal(shadow.target, '/usr/bin');
    assert.deepEqual(shadow.keep.map((entry) => entry.name), ['aarch64-linux-gnu-gcc', 'cc', 'g++-14', 'gcc', 'gcc-14', 'make']);
    assert.deepEqual(shadow.keep.find((entry) => entry.name === 'cc'), { name: 'cc', kind: 'symlink', target: '/etc/alternatives/cc' });
    assert.deepEqual(shadow.add.map((entry) => `${entry.kind} ${entry.path}`), [
      'file aarch64-linux-gnu-icecream.gcc', 'script aarch64-linux-gnu-gcc-14', 'file aarch64-linux-gnu-icecream.g++', 'script aarch64-linux-gnu-g++-14',
    ]);
    assert.deepEqual(shadow.add[0], { kind: 'file', path: 'aarch64-linux-gnu-icecream.gcc', source: '/usr/bin/aarch64-linux-gnu-gcc-14', from: 'root' });
  });

  it('refuses a root without the driver, a driver that is a link out of /usr/bin, and a name collision', () => {
    const missing = { ...TRIXIE_BIN };
    delete missing['/usr/bin/aarch64-linux-gnu-g++-14'];
    assert.match(planIcecreamRoot(fakeRoot(missing), 'aarch64-linux-gnu', '14').refused ?? '', /no driver '\/usr\/bin\/aarch64-linux-gnu-g\+\+-14'/);
    const elsewhere = { ...TRIXIE_BIN, '/usr/bin/aarch64-linux-gnu-gcc-14': { link: '/opt/gcc' }, '/opt/gcc': 'file' as const };
    assert.match(planIcecreamRoot(fakeRoot(elsewhere), 'aarch64-linux-gnu', '14').refused ?? '', /a regular file in \/usr\/bin/);
    const taken = { ...TRIXIE_BIN, '/usr/bin/aarch64-linux-gnu-icecream.gcc': 'file' as const };
    assert.match(planIcecreamRoot(fakeRoot(taken), 'aarch64-linux-gnu', '14').refused ?? '', /collision/);
  });

  it('the wrapper runs the host icecc with its own loader and libraries on the original driver, quoted', () => {
    assert.equal(driverWrapper("/usr/bin/it's-gcc").trimEnd().split('\n').at(-1),
      "exec '/run/crossroot-icecream/lib/ld-linux-x86-64.so.2' --library-path '/run/crossroot-icecream/lib' '/run/crossroot-icecream/icecc' '/usr/bin/it'\\''s-gcc' \"$@\"");
  });
});

describe('the run\'s environment, steps and daemon', () => {
  it('ICECC_VERSION names the x86-64 tarball for the triplet the drivers\' names carry', () => {
    assert.equal(icecreamVersion('/run/crossroot-icecream/e.tar.gz', 'aarch64-linux-gnu'), 'x86_64:/run/crossroot-icecream/e.tar.gz=aarch64-linux-gnu');
    assert.deepEqual(Object.keys(icecreamEnvironment('/x.tar.gz', 't')).sort(), ['ICECC_DEBUG', 'ICECC_LOGFILE', 'ICECC_VERSION']);
  });

  it('binds the client, libraries and tarball into the host directory, then the directory and the socket into the run\'s /run', () => {
    const steps = icecreamSteps('/r', '/run', '/tmp/h', { client: '/usr/bin/icecc', lib: '/usr/lib/x86_64-linux-gnu', tarball: '/c/e.tar.gz', tarballName: 'e.tar.gz' });
    assert.deepEqual(steps.map((step) => (step.op === 'mount' ? `${step.source} -> ${step.target} ${step.options}` : `${step.op} ${'path' in step ? step.path : ''}`)), [
      '/usr/bin/icecc -> /tmp/h/icecc bind,ro',
      '/usr/lib/x86_64-linux-gnu -> /tmp/h/lib bind,ro',
      '/c/e.tar.gz -> /tmp/h/e.tar.gz bind,ro',
      'mkdir /r/run/crossroot-icecream',
      '/tmp/h -> /r/run/crossroot-icecream rbind',
      'mkdir /r/run/icecc',
      '/tmp/h/daemon -> /r/run/icecc bind',
    ]);
  });

  it('the daemon dies with crossroot (parent-death signal), rootless too; as root it runs as the given ids', () => {
    const argv = localDaemonArgv({ host: 'h', port: 1 }, '/d', 'n');
    assert.deepEqual(daemonCommand('/usr/sbin/iceccd', argv, null), ['setpriv', '--pdeathsig', 'SIGKILL', '--', '/usr/sbin/iceccd', ...argv.slice(1)]);
    assert.deepEqual(daemonCommand('/usr/sbin/iceccd', argv, { uid: 5, gid: 6 }).slice(0, 8),
      ['setpriv', '--reuid=5', '--regid=6', '--clear-groups', '--inh-caps=-all', '--pdeathsig', 'SIGKILL', '--']);
  });

  it('the daemon takes no remote jobs and offers no slots of its own', () => {
    assert.deepEqual(localDaemonArgv({ host: '10.0.0.1', port: 8765 }, '/d', 'n'), ['iceccd', '--no-remote', '-m', '0', '-s', '10.0.0.1:8765', '-l', '/d/daemon.log', '-vv', '-N', 'n']);
  });
});

describe('summarizeClientLog', () => {
  const log = [
    'ICECC[101] 2026-12-02 01:13:08: local build forced by remote exception: Error 1 - command needs stdout/stderr workaround, recompiling locally',
    'ICECC[102] 2026-12-02 01:13:09: got exception Error 18 - remote_daemon unexpected EOF (10.0.0.3) ',
    'ICECC[103] 2026-12-02 01:13:09: local build forced by remote exception: Error 1 - command needs stdout/stderr workaround, recompiling locally',
    'ICECC[104] 2026-12-02 01:13:10: no local daemon found',
    'ICECC[105] 2026-12-02 01:13:10: something else',
    '',
  ].join('\n');
  it('counts the jobs compiled locally and keeps each reason once', () => {
    const summary = summarizeClientLog(log);
    assert.equal(summary.localJobs, 4);
    assert.deepEqual(summary.reasons, [
      'Error 1 - command needs stdout/stderr workaround, recompiling locally',
      'Error 18 - remote_daemon unexpected EOF (10.0.0.3)',
      'no local icecream daemon',
    ]);
    assert.deepEqual(fallbackLines(summary), [
      "4 compile job(s) fell back to local accelerated compiles: 'Error 1 - command needs stdout/stderr workaround, recompiling locally', 'Error 18 - remote_daemon unexpected EOF (10.0.0.3)', 'no local icecream daemon'",
    ]);
  });
  it('counts apart the jobs the wrapper kept here, with their reasons', () => {
    const summary = summarizeClientLog(`${log}crossroot: compiled here: macro debug info (-g3)\ncrossroot: compiled here: LTO (-flto)\ncrossroot: compiled here: LTO (-flto)\n`);
    assert.equal(summary.localJobs, 4);
    assert.equal(summary.keptJobs, 3);
    assert.deepEqual(summary.keptReasons, ['macro debug info (-g3)', 'LTO (-flto)']);
    assert.equal(fallbackLines(summary)[1], "3 compile job(s) compiled locally, accelerated, as a helper's object would differ: 'macro debug info (-g3)', 'LTO (-flto)'");
  });
  it('says nothing when every job went to the cluster', () => {
    assert.deepEqual(fallbackLines(summarizeClientLog('')), []);
  });
});

describe('the scheduler\'s listcs answer', () => {
  const answer = [
    '200-ICECC 1.4.0: 33s uptime, 4 hosts, 0 jobs in queue (0 total).',
    "200 Use 'help' for help and 'quit' to quit.",
    ' helper2 (10.213.7.3:10245) [x86_64] speed=0.00 jobs=0/2 load=1000',
    ' helper3 (10.213.7.4:10245) [x86_64] speed=12.50 jobs=1/4 load=120',
    '   job 7 ...',
    ' crossroot-vm-1 (10.213.7.5:0) [x86_64] speed=0.00 jobs=0/0 load=0',
    ' pi (10.213.7.9:10245) [aarch64] speed=1.00 jobs=0/4 load=0',
    '200 done',
  ].join('\n');
  it('parses every compile server', () => {
    assert.deepEqual(parseListcs(answer).map((helper) => `${helper.name} ${helper.address} ${helper.platform} ${String(helper.jobs)}/${String(helper.maxJobs)}`), [
      'helper2 10.213.7.3:10245 x86_64 0/2', 'helper3 10.213.7.4:10245 x86_64 1/4', 'crossroot-vm-1 10.213.7.5:0 x86_64 0/0', 'pi 10.213.7.9:10245 aarch64 0/4',
    ]);
  });
  it('doctor counts x86-64 helpers with slots and their cores', () => {
    const verdict = schedulerCheck('s:8765', { listcs: answer });
    assert.equal(verdict.ok, true);
    assert.equal(verdict.message, "icecream scheduler 's:8765' offers 2 helper(s) with 6 job slot(s): helper2, helper3");
    assert.equal(schedulerCheck('s:8765', { listcs: '200 done\n' }).ok, false);
    const gone = schedulerCheck('s:8765', { problem: 'ECONNREFUSED' });
    assert.equal(gone.ok, false);
    assert.match(gone.message, /unreachable on its text port: ECONNREFUSED/);
  });
});
