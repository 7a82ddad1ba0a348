// The records of the kernel's BSD process accounting, version 3 (struct
// acct_v3 in include/uapi/linux/acct.h; CONFIG_BSD_PROCESS_ACCT_V3). `run
// --profile` turns accounting on for the run's PID namespace, so every process
// that exits there leaves one 64-byte record, however short it lived: the
// profile's samples miss processes shorter than their interval, the records
// do not. Times are in AHZ (100 per second) as comp_t: 13 bits of mantissa,
// 3 bits of base-8 exponent. The kernel writes the numbers in its own byte
// order (the host's).

export const ACCT_RECORD_SIZE = 64;
const ACCT_VERSION = 3;
const ACCT_COMM_OFFSET = 48;
const ACCT_COMM_LENGTH = 16;
/** ac_flag: forked but did not exec (a subshell, a helper fork). */
export const AFORK = 0x01;

export interface ExitRecord {
  /** PID in the run's PID namespace. */
  readonly pid: number;
  /** Its parent's PID there: 0 when the parent is outside the run (the run's PID 1, the accounting switch). */
  readonly ppid: number;
  /** Start time, seconds since the epoch. */
  readonly startSeconds: number;
  /** utime + stime at exit, in clock ticks (100 per second); each part rounded down by the kernel. */
  readonly cpuTicks: number;
  /** Wall-clock time from start to exit, in clock ticks (rounded down). */
  readonly elapsedTicks: number;
  /** The task's name: the last exec'd file's name, at most 15 bytes. */
  readonly comm: string;
  readonly forkedOnly: boolean;
}

/** comp_t: 3-bit base-8 exponent over a 13-bit mantissa. */
export function decodeCompT(value: number): number {
  return (value & 0x1fff) * 8 ** ((value >> 13) & 0x7);
}

/**
 * The whole records in `bytes` (a trailing partial record is left for the
 * next read: `consumed` says how far to go on from). Records of another
 * version are skipped.
 */
export function parseExitRecords(bytes: Uint8Array, littleEndian: boolean): { records: ExitRecord[]; consumed: number } {
  const records: ExitRecord[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  for (; offset + ACCT_RECORD_SIZE <= bytes.length; offset += ACCT_RECORD_SIZE) {
    if (view.getUint8(offset + 1) !== ACCT_VERSION) continue;
    const u32 = (at: number): number => view.getUint32(offset + at, littleEndian);
    const comp = (at: number): number => decodeCompT(view.getUint16(offset + at, littleEndian));
    const name = bytes.subarray(offset + ACCT_COMM_OFFSET, offset + ACCT_COMM_OFFSET + ACCT_COMM_LENGTH);
    const end = name.indexOf(0);
    records.push({
      pid: u32(16),
      ppid: u32(20),
      startSeconds: u32(24),
      cpuTicks: comp(32) + comp(34),
      elapsedTicks: view.getFloat32(offset + 28, littleEndian),
      comm: String.fromCharCode(...name.subarray(0, end < 0 ? name.length : end)),
      forkedOnly: (view.getUint8(offset) & AFORK) !== 0,
    });
  }
  return { records, consumed: offset };
}

/**
 * The best guess of a record's CPU time in ticks: the kernel rounded utime
 * and stime down, so the truth lies in [cpu, cpu + 2); a short process
 * (what the records are for) mostly computes while it lives, so its elapsed
 * time, taken within that range, is the guess.
 */
export function estimatedCpuTicks(record: Pick<ExitRecord, 'cpuTicks' | 'elapsedTicks'>): number {
  return Math.min(Math.max(record.elapsedTicks + 0.5, record.cpuTicks), record.cpuTicks + 2);
}
