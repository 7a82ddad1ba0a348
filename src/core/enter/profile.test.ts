import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProfileRecorder, parseProcStat, programOf, renamePrograms, renderProfile } from './profile.ts';

/** A /proc/PID/stat line with the given name and times (other fields as the kernel writes them). */
function stat(pid: number, comm: string, utime: number, stime: number, start: number, cutime = 0, cstime = 0): string {
  return `${pid} (${comm}) R 1 ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 1 0 ${start} 1000 100 18446744073709551615\n`;
}

describe('parseProcStat', () => {
  it('reads times and the name, even with spaces and parentheses in it', () => {
    assert.deepEqual(parseProcStat(stat(42, 'cc1', 250, 30, 9000, 7, 3)), { pid: 42, comm: 'cc1', state: 'R', cpuTicks: 280, childTicks: 10, startTicks: 9000 });
    assert.equal(parseProcStat(stat(7, 'a) b (c', 1, 2, 3))?.comm, 'a) b (c');
  });
  it('rejects malformed text', () => {
    for (const text of ['', 'garbage', '12 (x) R 1', '(x) R']) assert.equal(parseProcStat(text), null, text);
  });
});

describe('programOf', () => {
  const root = '/roots/arm64';
  it('an emulated process: argv[1] of the emulator, with or without flag P', () => {
    assert.deepEqual(programOf('/usr/libexec/qemu-binfmt/aarch64-binfmt-P', 'q\0/usr/bin/ls\0', root, 'ls'), { program: '/usr/bin/ls', mode: 'emulated' });
    assert.deepEqual(programOf('/usr/bin/qemu-aarch64-static', '/usr/bin/qemu-aarch64-static\0/usr/libexec/gcc/aarch64-linux-gnu/14/cc1\0cc1\0-quiet\0', root, 'cc1'),
      { program: '/usr/libexec/gcc/aarch64-linux-gnu/14/cc1', mode: 'emulated' });
    assert.deepEqual(programOf('/usr/bin/qemu-aarch64-static', '/usr/bin/qemu-aarch64-static\0/usr/bin/make\0-j2\0', root, 'make'),
      { program: '/usr/bin/make', mode: 'emulated' });
  });
  it('a native process: its exe, the root stripped', () => {
    assert.deepEqual(programOf('/roots/arm64/usr/libexec/gcc/aarch64-linux-gnu/14/cc1', 'cc1\0', root, 'cc1'),
      { program: '/usr/libexec/gcc/aarch64-linux-gnu/14/cc1', mode: 'native' });
    assert.deepEqual(programOf('/usr/bin/unshare (deleted)', '', root, 'unshare'), { program: '/usr/bin/unshare', mode: 'native' });
    assert.deepEqual(programOf(null, '', root, 'kworker'), { program: '[kworker]', mode: 'native' });
    assert.deepEqual(programOf(null, 'make\0-j2\0', root, 'make'), { program: 'make', mode: 'native' });
  });
  it('an emulated process whose exe cannot be read (emulator opened outside the run): argv[0] is the emulator', () => {
    assert.deepEqual(programOf(null, '/usr/libexec/qemu-binfmt/aarch64-binfmt-P\0/bin/busybox\0sh\0-c\0', root, 'sh'), { program: '/bin/busybox', mode: 'emulated' });
  });
});

describe('ProfileRecorder', () => {
  it('sums the last sample of each process per program, splits a process at exec, and counts the unsampled rest', () => {
    const recorder = new ProfileRecorder();
    const cc1 = { program: '/usr/libexec/gcc/aarch64-linux-gnu/14/cc1', mode: 'emulated' as const };
    const described: string[] = [];
    const see = (text: string, program: { program: string; mode: 'emulated' | 'native' }): void => {
      const parsed = parseProcStat(text);
      assert.ok(parsed !== null);
      recorder.see(parsed, () => { described.push(program.program); return program; });
    };
    see(stat(10, 'cc1', 100, 10, 500), cc1);
    see(stat(10, 'cc1', 300, 20, 500), cc1); // same process, later
    see(stat(11, 'cc1', 50, 0, 600), cc1); // another cc1
    see(stat(12, 'sh', 5, 0, 700), { program: '/usr/bin/sh', mode: 'emulated' });
    see(stat(12, 'as', 45, 5, 700), { program: '/usr/bin/aarch64-linux-gnu-as', mode: 'native' }); // sh exec'd as
    see(stat(10, 'cc1', 1, 0, 900), cc1); // pid 10 reused by a new process
    assert.equal(described.length, 5, 'a process is described once per program');
    const report = recorder.report(600);
    assert.deepEqual(report.programs, [
      { program: '/usr/libexec/gcc/aarch64-linux-gnu/14/cc1', mode: 'emulated', cpuSeconds: 3.71, processes: 3 },
      { program: '/usr/bin/aarch64-linux-gnu-as', mode: 'native', cpuSeconds: 0.45, processes: 1 },
      { program: '/usr/bin/sh', mode: 'emulated', cpuSeconds: 0.05, processes: 1 },
    ]);
    assert.equal(report.totalCpuSeconds, 6);
    assert.equal(report.unsampledCpuSeconds, 1.79);
  });

  it('exit records: a sampled process gets its time after the last sample, an unsampled one shares out the rest by name', () => {
    const boot = 1_800_000_000;
    const recorder = new ProfileRecorder(boot, true);
    const make = { program: '/usr/bin/make', mode: 'emulated' as const };
    recorder.see({ pid: 100, comm: 'make', cpuTicks: 40, childTicks: 0, startTicks: 250 }, () => ({ ...make, nsPid: 2 }));
    const sed = { program: '/usr/bin/sed', mode: 'native' as const };
    recorder.see({ pid: 101, comm: 'sed', cpuTicks: 30, childTicks: 0, startTicks: 300 }, () => ({ ...sed, nsPid: 3 }));
    const resolved: string[] = [];
    const resolve = (comm: string): { program: string; mode: 'emulated' | 'unknown' } => {
      resolved.push(comm);
      return comm === 'm4' ? { program: '/usr/bin/m4', mode: 'emulated' } : { program: `[${comm}]`, mode: 'unknown' };
    };
    const record = (pid: number, ppid: number, startSeconds: number, cpuTicks: number, elapsedTicks: number, comm: string) =>
      ({ pid, ppid, startSeconds, cpuTicks, elapsedTicks, comm, forkedOnly: false });
    recorder.exited([
      record(2, 1, boot + 2, 50, 60, 'make'), // make, sampled at 40 ticks: 10 more after its last sample
      record(4, 2, boot + 3, 1, 1.5, 'sed'), // another sed, never sampled: named like the sampled one
      record(5, 2, boot + 3, 0, 0.5, 'm4'),
      record(6, 2, boot + 3, 0, 0.5, 'oddname'),
      record(3, 0, boot + 3, 0, 0.5, 'crossroot-enter'), // outside the run
    ], resolve);
    assert.deepEqual(resolved, ['m4', 'oddname'], 'a name the samples know is not resolved again');
    const report = recorder.report(100); // 50 + 30 sampled; 20 ticks for the three unsampled (weights 2, 1, 1)
    assert.equal(report.shortProcesses, 3);
    assert.equal(report.unsampledCpuSeconds, 0);
    assert.deepEqual(report.programs, [
      { program: '/usr/bin/make', mode: 'emulated', cpuSeconds: 0.5, processes: 1 },
      { program: '/usr/bin/sed', mode: 'native', cpuSeconds: 0.4, processes: 2 },
      { program: '/usr/bin/m4', mode: 'emulated', cpuSeconds: 0.05, processes: 1 },
      { program: '[oddname]', mode: 'unknown', cpuSeconds: 0.05, processes: 1 },
    ]);
    assert.match(renderProfile(report), /3 process\(es\) shorter than 100 ms attributed by name/);
  });

  it('without exit records the rest stays unattributed and the report says why', () => {
    const recorder = new ProfileRecorder();
    recorder.see({ pid: 5, comm: 'cc1', cpuTicks: 50, childTicks: 0, startTicks: 1 }, () => ({ program: '/x/cc1', mode: 'emulated' }));
    const report = recorder.report(80);
    assert.equal(report.shortProcesses, null);
    assert.equal(report.unsampledCpuSeconds, 0.3);
    assert.match(renderProfile(report), /not attributed: exit records need root/);
  });

  it('renders a table with the emulated share', () => {
    const recorder = new ProfileRecorder();
    recorder.see({ pid: 5, comm: 'cc1', cpuTicks: 1234, childTicks: 0, startTicks: 1 }, () => ({ program: '/usr/libexec/gcc/x/14/cc1', mode: 'emulated' }));
    const text = renderProfile(recorder.report(0));
    assert.match(text, /^crossroot: profile/);
    assert.match(text, /12\.34 {2}emulated +1 {2}\/usr\/libexec\/gcc\/x\/14\/cc1/);
    assert.match(text, /total 12\.34 s CPU, 12\.34 s of it emulated/);
  });
});

describe('renamePrograms', () => {
  it('names a wrapped native compiler as the root does and merges rows', () => {
    const renamed = renamePrograms({
      intervalMs: 100, totalCpuSeconds: 5, unsampledCpuSeconds: 0, shortProcesses: null, programs: [
        { program: '/usr/lib/gcc-cross/t/cc1-14-native', mode: 'native', cpuSeconds: 2.5, processes: 2 },
        { program: '/usr/bin/make', mode: 'emulated', cpuSeconds: 1.5, processes: 1 },
        { program: '/usr/libexec/gcc/t/14/cc1', mode: 'native', cpuSeconds: 1, processes: 1 },
      ],
    }, new Map([['/usr/lib/gcc-cross/t/cc1-14-native', '/usr/libexec/gcc/t/14/cc1']]));
    assert.deepEqual(renamed.programs, [
      { program: '/usr/libexec/gcc/t/14/cc1', mode: 'native', cpuSeconds: 3.5, processes: 3 },
      { program: '/usr/bin/make', mode: 'emulated', cpuSeconds: 1.5, processes: 1 },
    ]);
  });
});
