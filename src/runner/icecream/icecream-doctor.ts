// `crossroot doctor --icecream SCHEDULER[:PORT]`: is the scheduler reachable,
// and how many helpers and cores does it offer (its `listcs` answer).
import type { DoctorCheck } from '../../core/host/doctor.ts';
import { formatScheduler, parseScheduler, schedulerCheck } from '../../core/icecream/icecream-plan.ts';
import { UsageError } from '../../core/errors.ts';
import { askScheduler } from './icecream-run.ts';

export async function icecreamDoctorCheck(scheduler: string): Promise<DoctorCheck> {
  const address = parseScheduler(scheduler);
  if (address === null) throw new UsageError(`parse --icecream '${scheduler}': give SCHEDULER[:PORT]`);
  let answer: { listcs: string } | { problem: string };
  try {
    answer = { listcs: await askScheduler(address, 'listcs') };
  } catch (error) {
    answer = { problem: (error as Error).message };
  }
  const verdict = schedulerCheck(formatScheduler(address), answer);
  return { id: 'icecream-scheduler', ok: verdict.ok, severity: 'error', message: verdict.message, fix: verdict.fix, packages: [] };
}
