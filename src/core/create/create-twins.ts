// The twins of a first `create`: once mmdebstrap has installed the essential
// packages, the same same-version native programs a run gets (the shells,
// coreutils, sed, grep, dpkg-deb ...: core/accelerate/twins.ts) are bound over
// the partial root's own files for the rest of the bootstrap, so that dpkg's
// unpacking and the maintainer scripts of apt, build-essential and the
// --include packages run natively; before the root is finished everything
// comes off again, and the finished root is the one a create without twins
// makes.
//
// Unlike a run's, create's runtime needs no shadow directories: the partial
// tree is crossroot's own until it is renamed into place, so the native
// runtime's mount points (/usr/lib/x86_64-linux-gnu, the loader link) are
// entries crossroot creates in it and removes again, and /usr/lib stays
// writable for dpkg. Pure: tree facts in, steps out.
import { planRuntime } from '../accelerate/accelerate-plan.ts';
import type { AccelerateMount, AddedEntry } from '../accelerate/accelerate-plan.ts';
import { planTwins } from '../accelerate/twins.ts';
import type { TwinInput, TwinReport } from '../accelerate/twins.ts';

/** One change to the partial tree; paths are root-relative and resolved, sources are host paths. */
export type CreateTwinStep =
  | { readonly op: 'mkdir'; readonly path: string }
  | { readonly op: 'symlink'; readonly path: string; readonly target: string }
  | { readonly op: 'bind'; readonly source: string; readonly target: string; readonly why: string };

export interface CreateTwinsPlan {
  /** In order; taken off in reverse. */
  readonly steps: readonly CreateTwinStep[];
  readonly twins: readonly TwinReport[];
  /** Programs bound natively (a run's guarded twins, whose wrappers live in a /usr/lib shadow, stay emulated here). */
  readonly natives: number;
  /** Why the create runs without twins, or null. */
  readonly refused: string | null;
}

/**
 * Packages a create keeps emulated although a run twins them: native perl
 * answers `Config` through a guard module in a /usr/lib shadow, and a create
 * builds no shadows (dpkg writes /usr/lib while the twins are on).
 */
export const CREATE_KEEPS_EMULATED = ['perl-base', 'perl'] as const;
const CREATE_KEEPS_EMULATED_WHY = 'create: native perl needs its Config guard, which lives in a /usr/lib shadow, and a create builds none (dpkg writes /usr/lib)';

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function entryStep(dir: string, entry: AddedEntry): CreateTwinStep | null {
  if (entry.kind === 'dir') return { op: 'mkdir', path: join(dir, entry.path) };
  if (entry.kind === 'symlink') return { op: 'symlink', path: join(dir, entry.path), target: entry.target };
  return null;
}

/** The steps that put the twins on after the essential phase; see the file comment. */
export function planCreateTwins(input: TwinInput): CreateTwinsPlan {
  const entries: CreateTwinStep[] = [];
  const runtimeBinds: AccelerateMount[] = [];
  let unplaceable: string | null = null;
  const problem = planRuntime(input.root, input.tools, {
    add: (dir, entry) => {
      const step = entryStep(dir, entry);
      if (step === null) unplaceable = `the runtime wants a '${entry.kind}' entry in '${dir}'`;
      else entries.push(step);
    },
  }, runtimeBinds);
  const refusal = problem ?? unplaceable;
  if (refusal !== null) return { steps: [], twins: [], natives: 0, refused: refusal };
  const plan = planTwins({
    ...input,
    keepEmulated: [...(input.keepEmulated ?? []), ...CREATE_KEEPS_EMULATED],
    keptEmulatedWhy: CREATE_KEEPS_EMULATED_WHY,
  });
  const binds = [...runtimeBinds, ...plan.binds].flatMap((mount): CreateTwinStep[] =>
    (mount.kind === 'bind' && mount.sourceInRoot !== true ? [{ op: 'bind', source: mount.source, target: mount.target, why: mount.why }] : []));
  const natives = binds.length - runtimeBinds.length;
  if (natives === 0) {
    return { steps: [], twins: plan.twins, natives, refused: 'no program of the root has a same-version native twin in the tools root' };
  }
  return { steps: [...entries, ...binds], twins: plan.twins, natives, refused: null };
}
