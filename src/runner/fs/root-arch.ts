// A root's architecture: that of its /bin/sh (or, when that is missing or not
// ELF, another program every root has), each resolved inside the root so that
// a symlink in it never points the question at a host file.
import type { Architecture } from '../../core/arch/arch.ts';
import { archOfElf, debianArchOf } from '../../core/arch/arch.ts';
import { parseElf } from '../../core/elf/elf.ts';
import { withFileSource } from './file-source.ts';
import { resolveHostPathInRoot } from './root-fs.ts';

const ESSENTIAL_PROGRAMS = ['/bin/sh', '/usr/bin/sh', '/usr/bin/env', '/bin/busybox'] as const;

export interface RootArch {
  readonly arch: Architecture;
  /** The Debian port of the program (armhf vs armel by its flags), or null when Debian has none. */
  readonly debianArch: string | null;
}

/** The architecture of the first essential program of the root that is an ELF file, or null. */
export function detectRootArch(rootDir: string): RootArch | null {
  for (const path of ESSENTIAL_PROGRAMS) {
    try {
      const { hostPath } = resolveHostPathInRoot(rootDir, path);
      const elf = withFileSource(hostPath, (source) => parseElf(source));
      const arch = archOfElf(elf);
      if (arch !== null) return { arch, debianArch: debianArchOf(elf) };
    } catch {
      // missing or not ELF: try the next one
    }
  }
  return null;
}
