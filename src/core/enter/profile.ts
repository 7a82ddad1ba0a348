// `crossroot run --profile`: which programs spent the CPU time of a run, and
// whether they ran emulated. crossroot samples the run's processes from
// outside its PID namespace about every 100 ms (runner/enter/profile-sampler.ts,
// the host's /proc); this module is the pure
// part: /proc/PID/stat and cmdline text and exit records in, a per-program table out.
//
// How a program is named: a natively running process (an accelerated cc1, an
// amd64 root) is its /proc/PID/exe with the root's path stripped. An emulated
// one's exe is the emulator (qemu-aarch64-static), and its cmdline is the
// emulator's argv as binfmt_misc built it: [emulator, program path, (argv0
// with flag P), args...], so argv[1] is the program's path inside the root.
//
// What is counted: utime + stime (clock ticks) of every process seen, split at
// each exec (the name in /proc/PID/stat changes). A process that starts and
// ends between two samples is not seen by a sample, but (where crossroot may
// turn on the kernel's process accounting, as root) it leaves an exit record
// (process-accounting.ts) with its name and CPU time: what no sample saw is
// shared out over those records. Without records it shows as 'unsampled'
// (the command's cumulative children time minus what was sampled).

import { bytesSource } from '../bytes/byte-reader.ts';
import { looksLikeElf, readHeader } from '../elf/header.ts';
import { parseShebang } from '../exec/shebang.ts';
import type { NativeMachine } from '../exec/world.ts';
import type { ExitRecord } from './process-accounting.ts';
import { estimatedCpuTicks } from './process-accounting.ts';

/** USER_HZ: the unit of /proc/PID/stat times; 100 on every Linux architecture crossroot runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;
export const PROFILE_INTERVAL_MS = 100;

export interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  /** Field 3: R, S, D, Z (zombie: exited, not yet reaped; its exe and cmdline are gone), ... */
  readonly state?: string;
  /** utime + stime, in clock ticks. */
  readonly cpuTicks: number;
  /** cutime + cstime: waited-for children, in clock ticks. */
  readonly childTicks: number;
  /** Start time after boot, in clock ticks (with pid: one process, even when pids are reused). */
  readonly startTicks: number;
}

/** Parses /proc/PID/stat; null when malformed. The name (field 2) may hold spaces and parentheses. */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open <= 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  // Fields from 3 (state) on; utime is field 14, stime 15, cutime 16, cstime 17, starttime 22.
  const fields = text.slice(close + 2).split(' ');
  const field = (n: number): number => Number(fields[n - 3]);
  const values = [field(14), field(15), field(16), field(17), field(22)];
  if (!Number.isInteger(pid) || values.some((value) => !Number.isFinite(value) || value < 0)) return null;
  const [utime = 0, stime = 0, cutime = 0, cstime = 0, start = 0] = values;
  return { pid, comm: text.slice(open + 1, close), state: fields[0] ?? '', cpuTicks: utime + stime, childTicks: cutime + cstime, startTicks: start };
}

export type RunMode = 'emulated' | 'native';

/** The program a process runs and how, from its exe link (as stage 2 sees it) and cmdline (NUL-separated). */
export function programOf(exe: string | null, cmdline: string, rootDir: string, comm: string): { program: string; mode: RunMode } {
  const argv = cmdline.split('\0').filter((arg, index, all) => arg !== '' || index < all.length - 1);
  // exe is unreadable for a process whose emulator the kernel opened outside the run (flag F): argv[0] tells then.
  if (isEmulator(exe) || (exe === null && isEmulator(argv[0] ?? null))) {
    return { program: argv[1] ?? argv[0] ?? `[${comm}]`, mode: 'emulated' };
  }
  if (exe === null) return { program: argv[0] ?? `[${comm}]`, mode: 'native' };
  const root = rootDir.endsWith('/') ? rootDir.slice(0, -1) : rootDir;
  const path = exe.replace(/ \(deleted\)$/, '');
  return { program: path.startsWith(`${root}/`) ? path.slice(root.length) : path, mode: 'native' };
}

/** How a file found for a short process's name runs: by its ELF machine, or through its script's interpreter. */
export type HeadVerdict = { readonly mode: RunMode } | { readonly interpreter: string } | null;

/** What the first bytes of a program say about how it runs on a host of `native` machines (null: neither ELF nor script). */
export function verdictOfHead(head: Uint8Array, native: readonly NativeMachine[]): HeadVerdict {
  if (looksLikeElf(head)) {
    try {
      const header = readHeader(bytesSource(head));
      return { mode: native.some((m) => m.machine === header.machine && m.class === header.class) ? 'native' : 'emulated' };
    } catch {
      return null;
    }
  }
  const script = parseShebang(head);
  return script?.ok === true ? { interpreter: script.interpreter } : null;
}

/** The PID a process has inside the innermost PID namespace, from /proc/PID/status ("NSpid:" line). */
export function innermostPid(statusText: string): number | null {
  const line = /^NSpid:\s*(.*)$/m.exec(statusText);
  const last = line?.[1]?.trim().split(/\s+/).at(-1);
  const pid = Number(last);
  return last !== undefined && Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** qemu-aarch64-static, or Debian's /usr/libexec/qemu-binfmt/aarch64-binfmt-P (a link the kernel may not resolve). */
function isEmulator(path: string | null): boolean {
  if (path === null) return false;
  const name = path.slice(path.lastIndexOf('/') + 1);
  return name.startsWith('qemu-') || path.startsWith('/usr/libexec/qemu-binfmt/');
}

export interface ProfileRow {
  readonly program: string;
  /** 'unknown': a short process known only by its name, which the run's PATH did not resolve. */
  readonly mode: RunMode | 'unknown';
  readonly cpuSeconds: number;
  readonly processes: number;
}

export interface ProfileReport {
  readonly intervalMs: number;
  /** CPU time of the command and every descendant it waited for. */
  readonly totalCpuSeconds: number;
  /** Part of the total attributed to no program (processes shorter than the interval, when there are no exit records). */
  readonly unsampledCpuSeconds: number;
  /** Processes known only from their exit record (the kernel's process accounting); null when accounting was unavailable. */
  readonly shortProcesses: number | null;
  /** Most CPU time first. */
  readonly programs: readonly ProfileRow[];
}

/** What a process runs, as the runner tells it; `nsPid` is its PID inside the run (to match its exit record). */
export interface ProgramSeen {
  readonly program: string;
  readonly mode: RunMode | 'unknown';
  readonly nsPid?: number | null;
}

interface Segment {
  program: string;
  mode: RunMode | 'unknown';
  comm: string;
  /** cpuTicks when this program was first seen in the process (after an exec). */
  baseTicks: number;
  lastTicks: number;
}

interface Unseen {
  readonly comm: string;
  readonly seen: ProgramSeen;
  readonly weight: number;
}

/**
 * Accumulates samples and exit records: feed it every process seen and every
 * record read, then ask for the report. A record of a sampled process adds
 * the time it spent after its last sample; a record of a process never
 * sampled is a short process, named after the sampled processes of the same
 * task name, or as `resolve` says.
 */
export class ProfileRecorder {
  private readonly live = new Map<string, Segment>();
  private readonly done: Segment[] = [];
  /** "nsPid:start second" -> the key of the process's entry in `live`. */
  private readonly byNsPid = new Map<string, string>();
  private readonly unseen: Unseen[] = [];
  /** Task name -> "mode\0program" -> how many sampled segments ran it (kept as segments start, read per record). */
  private readonly byComm = new Map<string, Map<string, { seen: ProgramSeen; count: number }>>();
  /** Exit records counted; null when the run has none (no accounting). */
  private records: number | null;

  /** `bootSeconds`: the host's boot time (the records' start times are wall-clock); `exitRecords`: whether records will come. */
  constructor(private readonly bootSeconds = 0, exitRecords = false) {
    this.records = exitRecords ? 0 : null;
  }

  /** One process in one sample; `describe` is called only for a process (or exec) not seen before. */
  see(stat: ProcStat, describe: () => ProgramSeen): void {
    const key = `${String(stat.pid)}:${String(stat.startTicks)}`;
    const segment = this.live.get(key);
    if (segment !== undefined && segment.comm === stat.comm) {
      segment.lastTicks = Math.max(segment.lastTicks, stat.cpuTicks);
      return;
    }
    // A zombie first seen cannot tell what it ran (its exe and cmdline are gone): its exit record will.
    if (stat.state === 'Z' && this.records !== null) return;
    if (segment !== undefined) this.done.push(segment); // exec'd another program: its time from here on is the new one's
    const seen = describe();
    if (seen.nsPid !== undefined && seen.nsPid !== null) this.byNsPid.set(this.recordKey(seen.nsPid, this.startSecond(stat.startTicks)), key);
    // A process seen for the first time had no earlier program in the run that we know of: all its time is this one's.
    const base = segment === undefined ? 0 : segment.lastTicks;
    this.live.set(key, { program: seen.program, mode: seen.mode, comm: stat.comm, baseTicks: base, lastTicks: stat.cpuTicks });
    this.countComm(stat.comm, { program: seen.program, mode: seen.mode });
  }

  /** Exit records of the run's processes (those of processes outside the run, ppid 0, are left out). */
  exited(records: readonly ExitRecord[], resolve: (comm: string) => ProgramSeen): void {
    for (const record of records) {
      if (record.ppid === 0) continue;
      this.records = (this.records ?? 0) + 1;
      const key = [0, -1, 1].map((skew) => this.byNsPid.get(this.recordKey(record.pid, record.startSeconds + skew))).find((found) => found !== undefined);
      const segment = key === undefined ? undefined : this.live.get(key);
      if (segment?.comm === record.comm) {
        segment.lastTicks = Math.max(segment.lastTicks, record.cpuTicks);
        continue;
      }
      // Never sampled, or sampled before it exec'd what it ended as (a forked shell that became `true`).
      const named = this.sampledAs(record.comm);
      const weight = Math.max(0, estimatedCpuTicks(record) - (segment?.lastTicks ?? 0));
      this.unseen.push({ comm: record.comm, seen: named ?? resolve(record.comm), weight });
    }
  }

  report(totalTicks: number): ProfileReport {
    const rows = new Map<string, { program: string; mode: RunMode | 'unknown'; ticks: number; processes: number }>();
    const add = (program: string, mode: RunMode | 'unknown', ticks: number): void => {
      const key = `${mode}\0${program}`;
      const row = rows.get(key) ?? { program, mode, ticks: 0, processes: 0 };
      row.ticks += ticks;
      row.processes += 1;
      rows.set(key, row);
    };
    let sampled = 0;
    for (const segment of [...this.done, ...this.live.values()]) {
      const ticks = Math.max(0, segment.lastTicks - segment.baseTicks);
      sampled += ticks;
      add(segment.program, segment.mode, ticks);
    }
    const total = Math.max(totalTicks, sampled);
    // The records' times are rounded down per process: their estimates share out exactly what no sample saw.
    const weights = this.unseen.reduce((sum, entry) => sum + entry.weight, 0);
    const rest = total - sampled;
    for (const entry of this.unseen) {
      const seen = this.sampledAs(entry.comm) ?? entry.seen;
      add(seen.program, seen.mode, weights > 0 ? (rest * entry.weight) / weights : rest / this.unseen.length);
    }
    const seconds = (ticks: number): number => Math.round((ticks / CLOCK_TICKS_PER_SECOND) * 100) / 100;
    return {
      intervalMs: PROFILE_INTERVAL_MS,
      totalCpuSeconds: seconds(total),
      unsampledCpuSeconds: this.unseen.length > 0 ? 0 : seconds(rest),
      shortProcesses: this.records === null ? null : this.unseen.length,
      programs: [...rows.values()]
        .sort((a, b) => b.ticks - a.ticks || b.processes - a.processes || (a.program < b.program ? -1 : 1))
        .map((row) => ({ program: row.program, mode: row.mode, cpuSeconds: seconds(row.ticks), processes: row.processes })),
    };
  }

  private countComm(comm: string, seen: ProgramSeen): void {
    const programs = this.byComm.get(comm) ?? new Map<string, { seen: ProgramSeen; count: number }>();
    const key = `${seen.mode}\0${seen.program}`;
    const entry = programs.get(key) ?? { seen, count: 0 };
    entry.count += 1;
    programs.set(key, entry);
    this.byComm.set(comm, programs);
  }

  /** The program most sampled processes with this task name ran, or null when none was sampled. */
  private sampledAs(comm: string): ProgramSeen | null {
    let best: { seen: ProgramSeen; count: number } | null = null;
    for (const entry of this.byComm.get(comm)?.values() ?? []) if (best === null || entry.count > best.count) best = entry;
    return best?.seen ?? null;
  }

  private startSecond(startTicks: number): number {
    return Math.floor(this.bootSeconds + startTicks / CLOCK_TICKS_PER_SECOND);
  }

  private recordKey(nsPid: number, second: number): string {
    return `${String(nsPid)}:${String(second)}`;
  }
}

/**
 * The report with programs renamed (`names`: path -> the path the root knows
 * it by, e.g. an accelerated wrapper's native compiler -> the root's cc1),
 * rows of the same program and mode merged.
 */
export function renamePrograms(report: ProfileReport, names: ReadonlyMap<string, string>): ProfileReport {
  const rows = new Map<string, ProfileRow>();
  for (const row of report.programs) {
    const program = names.get(row.program) ?? row.program;
    const key = `${row.mode}\0${program}`;
    const seen = rows.get(key);
    rows.set(key, seen === undefined ? { ...row, program }
      : { ...seen, cpuSeconds: Math.round((seen.cpuSeconds + row.cpuSeconds) * 100) / 100, processes: seen.processes + row.processes });
  }
  return { ...report, programs: [...rows.values()].sort((a, b) => b.cpuSeconds - a.cpuSeconds || b.processes - a.processes || (a.program < b.program ? -1 : 1)) };
}

/** The table `--profile` prints on stderr: the `limit` programs with the most CPU time. */
export function renderProfile(report: ProfileReport, limit = 15): string {
  const shown = report.programs.slice(0, limit);
  const rows = [['CPU s', 'MODE', 'PROCS', 'PROGRAM'],
    ...shown.map((row) => [row.cpuSeconds.toFixed(2), row.mode, String(row.processes), row.program])];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const lines = rows.map((row) => [
    (row[0] ?? '').padStart(widths[0] ?? 0), (row[1] ?? '').padEnd(widths[1] ?? 0), (row[2] ?? '').padStart(widths[2] ?? 0), row[3] ?? '',
  ].join('  '));
  const hidden = report.programs.length - shown.length;
  const emulated = report.programs.filter((row) => row.mode === 'emulated').reduce((sum, row) => sum + row.cpuSeconds, 0);
  const footer = [
    `total ${report.totalCpuSeconds.toFixed(2)} s CPU, ${emulated.toFixed(2)} s of it emulated`,
    ...(report.unsampledCpuSeconds > 0 ? [`${report.unsampledCpuSeconds.toFixed(2)} s in processes shorter than ${String(report.intervalMs)} ms (not attributed${report.shortProcesses === null ? ': exit records need root' : ''})`] : []),
    ...(report.shortProcesses !== null && report.shortProcesses > 0 ? [`${String(report.shortProcesses)} process(es) shorter than ${String(report.intervalMs)} ms attributed by name from their exit records`] : []),
    ...(hidden > 0 ? [`${String(hidden)} more program(s) not shown`] : []),
  ];
  return `${['crossroot: profile (CPU time by program):', ...lines.map((line) => `  ${line}`), ...footer.map((line) => `  ${line}`)].join('\n')}\n`;
}
