// Carries out core/create/create-twins.ts in the build namespace, when
// mmdebstrap's essential hook asks (create-stage.ts), and takes it all off
// again when its customize hook asks. Mounts by path with mount(8) rather than
// through crossroot-enter's descriptors: they exist only in the build's own
// mount namespace, which dies with the create, and while a hook runs nothing
// else runs in the partial tree (mmdebstrap waits for the hook), so no
// concurrent process can swap a path the planner resolved.
import { mkdirSync, rmdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { planCreateTwins } from '../../core/create/create-twins.ts';
import type { CreateTwinStep } from '../../core/create/create-twins.ts';
import { treeFacts } from '../accelerate/accelerate.ts';
import { ensureTwinPackages, twinFacts } from '../accelerate/twins.ts';
import { runChecked } from '../process/process.ts';

/** What the essential hook needs to plan the twins (StageInput.twins). */
export interface CreateTwinsSetup {
  /** The partial tree mmdebstrap builds. */
  readonly rootDir: string;
  readonly toolsRoot: string;
  readonly multiarch: string;
  readonly debianArch: string;
  /** Install the root's versions into the tools root first (as host root only: its apt runs chrooted there). */
  readonly installMissing: boolean;
}

export interface TwinsOn {
  readonly applied: readonly CreateTwinStep[];
  /** Programs that run natively. */
  readonly substituted: number;
  readonly refused: string | null;
}

function hostPath(rootDir: string, path: string): string {
  return `${rootDir.replace(/\/+$/, '')}${path}`;
}

async function apply(rootDir: string, step: CreateTwinStep, env: Readonly<Record<string, string>>): Promise<void> {
  const at = hostPath(rootDir, step.op === 'bind' ? step.target : step.path);
  if (step.op === 'mkdir') mkdirSync(at, { mode: 0o755 });
  else if (step.op === 'symlink') symlinkSync(step.target, at);
  else await runChecked(['mount', '--no-canonicalize', '-o', 'bind,ro', step.source, at], { code: 'CREATE_FAILED', action: `bind '${step.source}' on '${at}'` }, { env });
}

async function undo(rootDir: string, step: CreateTwinStep, env: Readonly<Record<string, string>>): Promise<void> {
  const at = hostPath(rootDir, step.op === 'bind' ? step.target : step.path);
  if (step.op === 'mkdir') rmdirSync(at);
  else if (step.op === 'symlink') unlinkSync(at);
  else await runChecked(['umount', '--no-canonicalize', at], { code: 'CREATE_FAILED', action: `unmount '${at}'` }, { env });
}

/** Takes `applied` off, last first; returns the first failure's message (the rest is still tried). */
export async function takeTwinsOff(rootDir: string, applied: readonly CreateTwinStep[], env: Readonly<Record<string, string>>): Promise<string | null> {
  let failure: string | null = null;
  for (const step of [...applied].reverse()) {
    try {
      await undo(rootDir, step, env);
    } catch (error) {
      failure ??= error instanceof Error ? error.message : String(error);
    }
  }
  return failure;
}

/** Plans the twins of the partial tree as the essential phase left it and puts them on; on a failure takes off what was put on. */
export async function putTwinsOn(setup: CreateTwinsSetup, env: Readonly<Record<string, string>>): Promise<TwinsOn> {
  if (setup.installMissing) await ensureTwinPackages(setup.rootDir, setup.toolsRoot, setup.multiarch);
  const tools = treeFacts(setup.toolsRoot);
  const facts = twinFacts(setup.rootDir, setup.toolsRoot, tools, setup.multiarch, setup.debianArch);
  const plan = planCreateTwins({ ...facts, root: treeFacts(setup.rootDir) });
  facts.save();
  if (plan.refused !== null) return { applied: [], substituted: 0, refused: plan.refused };
  const applied: CreateTwinStep[] = [];
  try {
    for (const step of plan.steps) {
      await apply(setup.rootDir, step, env);
      applied.push(step);
    }
  } catch (error) {
    await takeTwinsOff(setup.rootDir, applied, env);
    throw error;
  }
  return { applied, substituted: plan.natives, refused: null };
}
