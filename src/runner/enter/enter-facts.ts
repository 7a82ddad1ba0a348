// The facts a run is planned from, read from the host and the root: what the
// root is, how its architecture can run here (kernel, user namespaces,
// emulators, the host's binfmt_misc entries) and the caller's terminal.
// Reads only; every in-root path is resolved inside the root (runner/fs/root-fs.ts).
import { readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { release } from 'node:os';
import type { Architecture } from '../../core/arch/arch.ts';
import type { BinfmtEntry } from '../../core/binfmt/entry.ts';
import { findHandler } from '../../core/binfmt/match.ts';
import { referenceHead } from '../../core/binfmt/install-plan.ts';
import { parseElf } from '../../core/elf/elf.ts';
import type { EmulationChoice, EmulationFacts } from '../../core/enter/emulation.ts';
import type { PathKind } from '../../core/enter/setup-steps.ts';
import { PRIVATE_BINFMT_KERNEL, hasPrivateBinfmt } from '../../core/host/kernel-release.ts';
import { kindOf } from '../fs/kind.ts';
import { DEFAULT_BINFMT_DIR, isBinfmtDir, readInstance } from '../../kernel/binfmt-fs.ts';
import type { Emulator } from '../host/emulators.ts';
import { QEMU_BINFMT_DIR, describeEmulator, emulatorFileNames, honoursPreserveArgv0 } from '../host/emulators.ts';
import { withFileSource } from '../fs/file-source.ts';
import { resolveHostPathInRoot } from '../fs/root-fs.ts';

/** Reads of the root's small text files stop here (a hostile root may hold anything). */
const MAX_TEXT_FILE = 4 * 1024 * 1024;

/** runner/fs/kind.ts's kindOf in the plan's words (a symlink is 'link' there). */
export function pathKind(hostPath: string): PathKind {
  const kind = kindOf(hostPath);
  return kind === 'symlink' ? 'link' : kind;
}


/** Reads a root file resolved within the root; null when missing, not regular or too big. */
export function readRootText(rootDir: string, path: string): string | null {
  try {
    const { hostPath } = resolveHostPathInRoot(rootDir, path);
    const stat = statSync(hostPath);
    if (!stat.isFile() || stat.size > MAX_TEXT_FILE) return null;
    return readFileSync(hostPath, 'utf8');
  } catch {
    return null;
  }
}



/** Why user namespaces cannot be used, or null when they look available. */
function usernsBlocker(): string | null {
  const read = (path: string): string | null => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      return null;
    }
  };
  if (read('/proc/sys/user/max_user_namespaces') === '0') return 'user.max_user_namespaces is 0';
  if (process.geteuid?.() !== 0) {
    if (read('/proc/sys/kernel/unprivileged_userns_clone') === '0') return 'kernel.unprivileged_userns_clone is 0';
  }
  return null;
}


/**
 * The emulator files of one architecture, best first (static first, then PATH order, then
 * /usr/libexec/qemu-binfmt): emulators.ts's search, limited to one architecture because every
 * candidate found is opened and parsed, and run startup time matters.
 */
function emulatorCandidatesFor(arch: Architecture, hostPath: string): Emulator[] {
  const { pathNames, binfmtName } = emulatorFileNames(arch);
  const dirs = hostPath.split(':').filter((dir) => dir.startsWith('/'));
  const found: Emulator[] = [];
  const seen = new Set<string>();
  const add = (path: string, source: 'path' | 'qemu-binfmt'): void => {
    if (seen.has(path)) return;
    seen.add(path);
    const emulator = describeEmulator(arch.name, path, source);
    if (emulator !== null) found.push(emulator);
  };
  for (const dir of dirs) for (const name of pathNames) add(`${dir}/${name}`, 'path');
  add(`${QEMU_BINFMT_DIR}/${binfmtName}`, 'qemu-binfmt');
  return [...found.filter((emulator) => emulator.static), ...found.filter((emulator) => !emulator.static)];
}

export async function emulationFacts(arch: Architecture, rootDir: string, native: boolean, choice: EmulationChoice, hostPath: string): Promise<EmulationFacts> {
  const kernelOk = hasPrivateBinfmt(release());
  const userns = usernsBlocker();
  const privateBlocker = !kernelOk
    ? `Linux ${release()} has no private binfmt_misc instances (needs >= ${PRIVATE_BINFMT_KERNEL.join('.')})`
    : userns;
  if (native) {
    return { native, privateBlocker, emulator: null, dynamicEmulatorOnly: null, hostEntry: null, hostInterpreterStatic: null, hostInterpreterInRoot: false };
  }
  const candidates = emulatorCandidatesFor(arch, hostPath);
  const statics = candidates.filter((candidate) => candidate.static);
  // A `-binfmt-P` name honours P without asking QEMU its version (a spawn saved).
  const best = statics.find((candidate) => candidate.requiresP) ?? statics[0] ?? null;
  const emulator = best === null ? null : {
    path: best.path,
    realPath: best.realPath,
    honoursP: best.requiresP || (await honoursPreserveArgv0(best)) === true,
  };
  let hostEntry: BinfmtEntry | null = null;
  let hostInterpreterStatic: boolean | null = null;
  let hostInterpreterInRoot = false;
  const needHost = choice !== 'private' && !(choice === 'auto' && privateBlocker === null && emulator !== null);
  if (needHost && isBinfmtDir(DEFAULT_BINFMT_DIR)) {
    try {
      const instance = readInstance(DEFAULT_BINFMT_DIR);
      hostEntry = findHandler(instance.entries, referenceHead(arch), '/bin/sh', instance.enabled);
    } catch {
      hostEntry = null;
    }
  }
  if (hostEntry !== null) {
    const interpreter = hostEntry.interpreter;
    if (hostEntry.flags.F) {
      try {
        hostInterpreterStatic = withFileSource(realpathSync(interpreter), (source) => parseElf(source).interpreter === null);
      } catch {
        hostInterpreterStatic = null;
      }
    }
    try {
      hostInterpreterInRoot = statSync(resolveHostPathInRoot(rootDir, interpreter).hostPath).isFile();
    } catch {
      hostInterpreterInRoot = false;
    }
  }
  return {
    native,
    privateBlocker,
    emulator,
    dynamicEmulatorOnly: best === null ? candidates[0]?.path ?? null : null,
    hostEntry,
    hostInterpreterStatic,
    hostInterpreterInRoot,
  };
}

/** The host pty on stdin (/dev/pts/N), or null: not a terminal, or one the run cannot show. */
export function terminalOnStdin(): string | null {
  try {
    const path = readlinkSync('/proc/self/fd/0');
    return /^\/dev\/pts\/\d+$/.test(path) && statSync(path).isCharacterDevice() ? path : null;
  } catch {
    return null;
  }
}

