// The progress display of a long step (creating a root): on a terminal one
// line redrawn in place, whose clock ticks every second even while nothing
// is printed; elsewhere (a log, a pipe, --progress plain) one plain line per
// stage. Quiet prints nothing. Like docker buildx's --progress auto|plain|tty.
import type { Io } from '../context.ts';
import { renderProgress } from '../../core/create/create-plan.ts';
import type { ProgressState } from '../../core/create/create-plan.ts';

export const PROGRESS_MODES = ['auto', 'plain', 'tty'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/**
 * The stages of a bootstrap in the order they come (mmdebstrap's, then
 * crossroot's own), for "step 3/8". A stage not listed is counted, not placed.
 */
const KNOWN_STAGES = [
  'running apt-get update',
  'downloading packages with apt',
  'extracting archives',
  'installing essential packages',
  'installing remaining packages inside the chroot',
  'cleaning package lists and apt cache',
  'saving a copy for the next root',
  'finishing',
] as const;

export interface ProgressReporter {
  readonly update: (state: ProgressState, seconds: number) => void;
  /** Clears the line (terminal) and stops the clock. */
  readonly done: () => void;
}

/** "step 4/8 installing essential packages" for a known stage, "step 5 <stage>" for another. */
export function stepLabel(stage: string, seen: readonly string[]): string {
  const known = (KNOWN_STAGES as readonly string[]).indexOf(stage);
  if (known >= 0) return `step ${known + 1}/${KNOWN_STAGES.length} ${stage}`;
  const index = seen.indexOf(stage);
  return `step ${(index < 0 ? seen.length : index) + 1} ${stage}`;
}

/** Whether the redrawn line is used: tty forces it, plain refuses it, auto asks stderr. */
export function drawsInPlace(io: Io, mode: ProgressMode): boolean {
  return mode === 'tty' || (mode === 'auto' && io.stderrIsTTY === true);
}

export function progressReporter(io: Io, options: { quiet?: boolean; mode?: ProgressMode | undefined } = {}): ProgressReporter {
  if (options.quiet === true) return { update: () => { /* quiet */ }, done: () => { /* quiet */ } };
  const tty = drawsInPlace(io, options.mode ?? 'auto');
  const seen: string[] = [];
  let last: { state: ProgressState; seconds: number; at: number } | null = null;
  let timer: NodeJS.Timeout | null = null;
  let drawn = false;
  const label = (state: ProgressState): ProgressState => {
    if (state.stage !== '' && !seen.includes(state.stage)) seen.push(state.stage);
    return { ...state, stage: stepLabel(state.stage, seen) };
  };
  const draw = (): void => {
    if (last === null) return;
    const seconds = last.seconds + (Date.now() - last.at) / 1000;
    const width = Math.max(40, (io.columns ?? 100) - 1);
    io.stderr(`\r\x1b[K${renderProgress(label(last.state), seconds, width)}`);
    drawn = true;
  };
  return {
    update: (state, seconds) => {
      const stageChanged = last === null || state.stage !== last.state.stage;
      last = { state, seconds, at: Date.now() };
      if (!tty) {
        if (stageChanged) io.stderr(`${renderProgress({ ...label(state), current: '' }, seconds)}\n`);
        return;
      }
      draw();
      if (timer === null) {
        timer = setInterval(draw, 1000);
        timer.unref();
      }
    },
    done: () => {
      if (timer !== null) clearInterval(timer);
      timer = null;
      if (drawn) io.stderr('\r\x1b[K');
    },
  };
}
