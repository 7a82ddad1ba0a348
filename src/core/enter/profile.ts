// `crossroot run --profile`: which programs spent the CPU time of a run, and
// whether they ran emulated. crossroot samples the run's processes from
// outside its PID namespace about every 100 ms (runner/enter/profile-sampler.ts,
// the host's /proc); this module is the pure
// part: /proc/PID/stat and cmdline text in, a per-program table out.
//
// How a program is named: a natively running process (an accelerated cc1, an
// amd64 root) is its /proc/PID/exe with the root's path stripped. An emulated
// one's exe is the emulator (qemu-aarch64-static), and its cmdline is the
// emulator's argv as binfmt_misc built it: [emulator, program path, (argv0
// with flag P), args...], so argv[1] is the program's path inside the root.
//
// What is counted: utime + stime (clock ticks) of every process seen, split at
// each exec (the name in /proc/PID/stat changes). A process that starts and
// ends between two samples is not seen; its time shows as 'unsampled' (the
// command's cumulative children time minus what was sampled).

/** USER_HZ: the unit of /proc/PID/stat times; 100 on every Linux architecture crossroot runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;
export const PROFILE_INTERVAL_MS = 100;

export interface ProcStat {
  readonly pid: number;
  readonly comm: string;
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
  return { pid, comm: text.slice(open + 1, close), cpuTicks: utime + stime, childTicks: cutime + cstime, startTicks: start };
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

/** qemu-aarch64-static, or Debian's /usr/libexec/qemu-binfmt/aarch64-binfmt-P (a link the kernel may not resolve). */
function isEmulator(path: string | null): boolean {
  if (path === null) return false;
  const name = path.slice(path.lastIndexOf('/') + 1);
  return name.startsWith('qemu-') || path.startsWith('/usr/libexec/qemu-binfmt/');
}

export interface ProfileRow {
  readonly program: string;
  readonly mode: RunMode;
  readonly cpuSeconds: number;
  readonly processes: number;
}

export interface ProfileReport {
  readonly intervalMs: number;
  /** CPU time of the command and every descendant it waited for. */
  readonly totalCpuSeconds: number;
  /** Part of the total no sample saw (processes shorter than the interval). */
  readonly unsampledCpuSeconds: number;
  /** Most CPU time first. */
  readonly programs: readonly ProfileRow[];
}

interface Segment {
  program: string;
  mode: RunMode;
  comm: string;
  /** cpuTicks when this program was first seen in the process (after an exec). */
  baseTicks: number;
  lastTicks: number;
}

/** Accumulates samples: feed it every process seen, then ask for the report. */
export class ProfileRecorder {
  private readonly live = new Map<string, Segment>();
  private readonly done: Segment[] = [];

  /** One process in one sample; `describe` is called only for a process (or exec) not seen before. */
  see(stat: ProcStat, describe: () => { program: string; mode: RunMode }): void {
    const key = `${String(stat.pid)}:${String(stat.startTicks)}`;
    const segment = this.live.get(key);
    if (segment !== undefined && segment.comm === stat.comm) {
      segment.lastTicks = Math.max(segment.lastTicks, stat.cpuTicks);
      return;
    }
    if (segment !== undefined) this.done.push(segment); // exec'd another program: its time from here on is the new one's
    const { program, mode } = describe();
    // A process seen for the first time had no earlier program in the run that we know of: all its time is this one's.
    const base = segment === undefined ? 0 : segment.lastTicks;
    this.live.set(key, { program, mode, comm: stat.comm, baseTicks: base, lastTicks: stat.cpuTicks });
  }

  report(totalTicks: number): ProfileReport {
    const rows = new Map<string, { program: string; mode: RunMode; ticks: number; processes: number }>();
    let sampled = 0;
    for (const segment of [...this.done, ...this.live.values()]) {
      const ticks = Math.max(0, segment.lastTicks - segment.baseTicks);
      sampled += ticks;
      const key = `${segment.mode}\0${segment.program}`;
      const row = rows.get(key) ?? { program: segment.program, mode: segment.mode, ticks: 0, processes: 0 };
      row.ticks += ticks;
      row.processes += 1;
      rows.set(key, row);
    }
    const seconds = (ticks: number): number => Math.round((ticks / CLOCK_TICKS_PER_SECOND) * 100) / 100;
    const total = Math.max(totalTicks, sampled);
    return {
      intervalMs: PROFILE_INTERVAL_MS,
      totalCpuSeconds: seconds(total),
      unsampledCpuSeconds: seconds(total - sampled),
      programs: [...rows.values()]
        .sort((a, b) => b.ticks - a.ticks || b.processes - a.processes || (a.program < b.program ? -1 : 1))
        .map((row) => ({ program: row.program, mode: row.mode, cpuSeconds: seconds(row.ticks), processes: row.processes })),
    };
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
    ...(report.unsampledCpuSeconds > 0 ? [`${report.unsampledCpuSeconds.toFixed(2)} s in processes shorter than ${String(report.intervalMs)} ms (not attributed)`] : []),
    ...(hidden > 0 ? [`${String(hidden)} more program(s) not shown`] : []),
  ];
  return `${['crossroot: profile (CPU time by program):', ...lines.map((line) => `  ${line}`), ...footer.map((line) => `  ${line}`)].join('\n')}\n`;
}
