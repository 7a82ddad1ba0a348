// --profile: samples the run's processes from outside its PID namespace
// (the host's /proc lists them all; a process belongs to the run when its
// PID namespace is the run's) every PROFILE_INTERVAL_MS, and turns what was
// seen into CPU time per program (core/enter/profile.ts). The run's PID 1
// itself is left out: it only waits.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ProfileReport } from '../../core/enter/profile.ts';
import { PROFILE_INTERVAL_MS, ProfileRecorder, parseProcStat, programOf } from '../../core/enter/profile.ts';

export class ProfileSampler {
  private readonly recorder = new ProfileRecorder();
  private readonly timer: NodeJS.Timeout;
  private readonly namespace: string | null;

  constructor(private readonly initPid: number, private readonly rootDir: string) {
    this.namespace = readLink(`/proc/${String(initPid)}/ns/pid`);
    this.timer = setInterval(() => { this.sample(); }, PROFILE_INTERVAL_MS);
  }

  /** One look at every process of the run. */
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
      const read = (file: string): string | null => {
        try {
          return readFileSync(`/proc/${name}/${file}`, 'latin1');
        } catch {
          return null;
        }
      };
      const stat = parseProcStat(read('stat') ?? '');
      if (stat === null) continue;
      this.recorder.see(stat, () => programOf(readLink(`/proc/${name}/exe`), read('cmdline') ?? '', this.rootDir, stat.comm));
    }
  }

  /** Stops sampling; `totalTicks` is the CPU time of everything the run's PID 1 reaped. */
  stop(totalTicks: number): ProfileReport {
    clearInterval(this.timer);
    return this.recorder.report(totalTicks);
  }
}

function readLink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}
