// What "binfmt_misc is not mounted" means, one definition for `doctor` and
// `binfmt status` alike. With private instances (Linux >= 6.7) `run`,
// `create` and `binfmt test` mount an instance of their own in a user
// namespace, so only host-wide registrations (`binfmt install`) need the
// host's mount: a warning, and nothing is broken. Without private instances
// nothing foreign runs until it is mounted: an error.
import { hasPrivateBinfmt } from '../host/kernel-release.ts';
import { DEFAULT_BINFMT_DIR } from './entry.ts';

export interface UnmountedVerdict {
  readonly severity: 'warning' | 'error';
  /** "binfmt_misc is not mounted at 'DIR': ...", without the fix. */
  readonly message: string;
  /** The command that mounts it. */
  readonly fix: string;
}

/** The mount command for `dir` (the default path as is, any other quoted). */
export function mountCommand(dir: string): string {
  return `mount -t binfmt_misc binfmt_misc ${dir === DEFAULT_BINFMT_DIR ? dir : `'${dir}'`}`;
}

export function unmountedVerdict(dir: string, kernelRelease: string): UnmountedVerdict {
  const fix = mountCommand(dir);
  if (hasPrivateBinfmt(kernelRelease)) {
    return {
      severity: 'warning',
      message: `binfmt_misc is not mounted at '${dir}': host-wide registrations (binfmt install) need it; run, create and binfmt test use a private instance`,
      fix,
    };
  }
  return {
    severity: 'error',
    message: `binfmt_misc is not mounted at '${dir}': nothing foreign runs (Linux ${kernelRelease} has no private instances, they need 6.7)`,
    fix,
  };
}
