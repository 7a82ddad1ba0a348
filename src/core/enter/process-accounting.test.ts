import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ACCT_RECORD_SIZE, decodeCompT, estimatedCpuTicks, parseExitRecords } from './process-accounting.ts';

/** One acct_v3 record as the kernel writes it (little-endian). */
function exitRecordBytes(fields: { pid: number; ppid: number; start: number; utime: number; stime: number; elapsed: number; comm: string; flag?: number; version?: number }): Uint8Array {
  const bytes = new Uint8Array(ACCT_RECORD_SIZE);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, fields.flag ?? 0);
  view.setUint8(1, fields.version ?? 3);
  view.setUint32(16, fields.pid, true);
  view.setUint32(20, fields.ppid, true);
  view.setUint32(24, fields.start, true);
  view.setFloat32(28, fields.elapsed, true);
  view.setUint16(32, fields.utime, true);
  view.setUint16(34, fields.stime, true);
  bytes.set(new TextEncoder().encode(fields.comm).subarray(0, 16), 48);
  return bytes;
}

describe('decodeCompT', () => {
  it('reads the 13-bit mantissa and the base-8 exponent', () => {
    assert.equal(decodeCompT(0), 0);
    assert.equal(decodeCompT(8191), 8191);
    assert.equal(decodeCompT((1 << 13) | 1024), 8192); // 1024 * 8
    assert.equal(decodeCompT((7 << 13) | 1), 8 ** 7);
  });
});

describe('parseExitRecords', () => {
  it('reads whole records, skips other versions, leaves a partial record for later', () => {
    const one = exitRecordBytes({ pid: 12, ppid: 3, start: 1_800_000_000, utime: 4, stime: (1 << 13) | 2, elapsed: 30, comm: 'sed', flag: 0 });
    const old = exitRecordBytes({ pid: 13, ppid: 3, start: 1, utime: 1, stime: 1, elapsed: 1, comm: 'x', version: 2 });
    const forked = exitRecordBytes({ pid: 14, ppid: 12, start: 1_800_000_001, utime: 0, stime: 0, elapsed: 0.25, comm: 'a-name-of-15-ch', flag: 1 });
    const all = new Uint8Array([...one, ...old, ...forked, ...forked.subarray(0, 20)]);
    const { records, consumed } = parseExitRecords(all, true);
    assert.equal(consumed, 3 * ACCT_RECORD_SIZE);
    assert.deepEqual(records, [
      { pid: 12, ppid: 3, startSeconds: 1_800_000_000, cpuTicks: 20, elapsedTicks: 30, comm: 'sed', forkedOnly: false },
      { pid: 14, ppid: 12, startSeconds: 1_800_000_001, cpuTicks: 0, elapsedTicks: 0.25, comm: 'a-name-of-15-ch', forkedOnly: true },
    ]);
  });
  it('an empty or short input is no record', () => {
    assert.deepEqual(parseExitRecords(new Uint8Array(0), true), { records: [], consumed: 0 });
    assert.deepEqual(parseExitRecords(new Uint8Array(63), true), { records: [], consumed: 0 });
  });
});

describe('estimatedCpuTicks', () => {
  it('takes the elapsed time within the range the rounding left', () => {
    assert.equal(estimatedCpuTicks({ cpuTicks: 0, elapsedTicks: 0 }), 0.5);
    assert.equal(estimatedCpuTicks({ cpuTicks: 3, elapsedTicks: 3.2 }), 3.7);
    assert.equal(estimatedCpuTicks({ cpuTicks: 0, elapsedTicks: 100 }), 2, 'a sleeper: at most the rounding');
    assert.equal(estimatedCpuTicks({ cpuTicks: 8, elapsedTicks: 4 }), 8, 'threads: CPU beyond wall time is real');
  });
});
