// --profile: samples the run's processes from outside its PID namespace
// (the host's /proc lists them all; a process belongs to the run when its
// PID namespace is the run's) every PROFILE_INTERVAL_MS, and turns what was
// seen into CPU time per program (core/enter/profile.ts). The run's PID 1
// itself is left out: it only waits.
//
// Processes shorter than the interval are caught by their exit records
// (process-accounting.ts turns the kernel's accounting on, as root): read
// at every sample, while the run still lives, so that a name no sample saw
// can be looked up in the run's own view of the root (/proc/PID/root, with
// the run's binds, such as the accelerated twins).
import { closeSync, readFileSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { endianness } from 'node:os';
import type { ProfileReport, ProgramSeen } from '../../core/enter/profile.ts';
import { PROFILE_INTERVAL_MS, ProfileRecorder, innermostPid, parseProcStat, programOf, verdictOfHead } from '../../core/enter/profile.ts';
import { parseExitRecords } from '../../core/enter/process-accounting.ts';
import type { NativeMachine } from '../../core/exec/world.ts';
import { readRegularFileHead } from '../fs/file-head.ts';
import { resolveHostPathInRoot } from '../fs/root-fs.ts';
import { nativeMachines } from '../host/native.ts';

/** Where a short process's name is looked for: the directories of the run's default PATH. */
const PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export class ProfileSampler {
  private readonly recorder: ProfileRecorder;
  private readonly timer: NodeJS.Timeout;
  private readonly namespace: string | null;
  private readonly native: readonly NativeMachine[] = nativeMachines();
  private readonly names = new Map<string, ProgramSeen>();
  private pending = new Uint8Array(0);

  /** `accountingFd`: the run's exit records, open for reading (null: none, the samples alone count). */
  constructor(private readonly initPid: number, private readonly rootDir: string, private readonly accountingFd: number | null) {
    this.recorder = new ProfileRecorder(bootSeconds(), accountingFd !== null);
    this.namespace = readLink(`/proc/${String(initPid)}/ns/pid`);
    this.timer = setInterval(() => { this.sample(); }, PROFILE_INTERVAL_MS);
  }

  /** One look at every process of the run, then at the records of those that ended. */
  sample(): void {
    if (this.namespace === null) return;
    let names: string[];
    try {
      names = readdirSync('/proc');
    } catch {
      return;
    }
    for (const name of names) {
      if (!/^\d+$/.test(name) || name === String(this.initPid)) continue;
      if (readLink(`/proc/${name}/ns/pid`) !== this.namespace) continue;
      const read = (file: string): string | null => readText(`/proc/${name}/${file}`);
      const stat = parseProcStat(read('stat') ?? '');
      if (stat === null) continue;
      this.recorder.see(stat, () => ({
        ...programOf(readLink(`/proc/${name}/exe`), read('cmdline') ?? '', this.rootDir, stat.comm),
        nsPid: innermostPid(read('status') ?? ''),
      }));
    }
    this.readRecords();
  }

  /** Stops sampling (after the run ended); `totalTicks` is the CPU time of everything the run's PID 1 reaped. */
  stop(totalTicks: number): ProfileReport {
    clearInterval(this.timer);
    this.readRecords();
    if (this.accountingFd !== null) closeSync(this.accountingFd);
    return this.recorder.report(totalTicks);
  }

  private readRecords(): void {
    if (this.accountingFd === null) return;
    const chunk = new Uint8Array(64 * 1024);
    for (let got = readSync(this.accountingFd, chunk); got > 0; got = readSync(this.accountingFd, chunk)) {
      const bytes = Buffer.concat([this.pending, chunk.subarray(0, got)]);
      const { records, consumed } = parseExitRecords(bytes, endianness() === 'LE');
      this.pending = bytes.slice(consumed);
      this.recorder.exited(records, (comm) => this.resolve(comm));
    }
  }

  /** The program a short process's name means in the run (cached): the first match on the PATH, scripts by their interpreter. */
  private resolve(comm: string): ProgramSeen {
    const known = this.names.get(comm);
    if (known !== undefined) return known;
    const found = comm.includes('/') ? null : PATH_DIRS.map((dir) => this.modeOf(`${dir}/${comm}`, 3)).find((seen) => seen !== null);
    const seen = found ?? { program: `[${comm}]`, mode: 'unknown' as const };
    this.names.set(comm, seen);
    return seen;
  }

  private modeOf(path: string, hops: number): ProgramSeen | null {
    // PID 1 is not chrooted: its root is the host's / in the run's mount namespace, where the root's binds are.
    const runRoot = `/proc/${String(this.initPid)}/root${this.rootDir}`;
    const head = readRegularFileHead(resolveHostPathInRoot(runRoot, path).hostPath, 256);
    const verdict = head === null ? null : verdictOfHead(head, this.native);
    if (verdict === null) return null;
    if ('mode' in verdict) return { program: path, mode: verdict.mode };
    const interpreter = hops > 0 ? this.modeOf(verdict.interpreter, hops - 1) : null;
    return interpreter === null ? null : { program: path, mode: interpreter.mode };
  }
}

/** The boot time, seconds since the epoch ("btime" in /proc/stat): start times in /proc/PID/stat count from it. */
function bootSeconds(): number {
  return Number(/^btime (\d+)$/m.exec(readText('/proc/stat') ?? '')?.[1] ?? 0);
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

function readLink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}
