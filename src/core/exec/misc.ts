// The binfmt_misc handler of the simulator, as fs/binfmt_misc.c
// load_misc_binary: the first enabled entry that matches takes the file; argv
// becomes [interpreter, file, argv[1..]] (argv[0] kept with P); the
// interpreter is opened at exec time, or was opened at registration with F.
import type { BinfmtEntry } from '../binfmt/entry.ts';
import { DEFAULT_BINFMT_DIR } from '../binfmt/entry.ts';
import { findHandler, kernelWindow } from '../binfmt/match.ts';
import { describeElf, isForeignProgram, isNative } from './elf.ts';
import { openExec, reportOpenFailure } from './open.ts';
import type { ExecState, OpenedFile, Round } from './state.ts';
import { quote } from './state.ts';

function flagText(entry: BinfmtEntry): string {
  const letters = `${entry.flags.P ? 'P' : ''}${entry.flags.O || entry.flags.C ? 'O' : ''}${entry.flags.C ? 'C' : ''}${entry.flags.F ? 'F' : ''}`;
  return letters === '' ? 'none' : letters;
}

/** The instance's directory, as the fixes name it (the one given with --binfmt-dir, else the default). */
function instanceDir(state: ExecState): string {
  const dir = state.world.binfmt.dir ?? DEFAULT_BINFMT_DIR;
  return dir.endsWith('/') && dir.length > 1 ? dir.slice(0, -1) : dir;
}

/** The enabled entry that takes the file, with the problems of entries that would but are disabled. */
function matchingEntry(state: ExecState): BinfmtEntry | null {
  const { world, name } = state;
  const buf = kernelWindow(state.file.head);
  const entries = world.binfmt.entries;
  const wouldMatch = findHandler(entries.map((entry) => ({ ...entry, enabled: true })), buf, name);
  if (!world.binfmt.enabled) {
    if (wouldMatch !== null) {
      state.problem('INSTANCE_DISABLED', 'warning',
        `binfmt_misc: entry ${quote(wouldMatch.name)} matches ${quote(name)}, but the whole binfmt_misc instance is disabled`,
        `enable it: echo 1 > ${instanceDir(state)}/status`);
    }
    return null;
  }
  const entry = findHandler(entries, buf, name);
  if (wouldMatch !== null && wouldMatch.name !== entry?.name) {
    state.problem('ENTRY_DISABLED', entry === null ? 'error' : 'warning',
      `binfmt_misc: entry ${quote(wouldMatch.name)} matches ${quote(name)} but is disabled`,
      `enable it: ${instanceDir(state) === DEFAULT_BINFMT_DIR ? 'crossroot binfmt install, or ' : ''}echo 1 > ${instanceDir(state)}/${wouldMatch.name}`);
  }
  return entry;
}

/** Traps of the entry that do not stop this exec. */
function warnAboutEntry(state: ExecState, entry: BinfmtEntry): void {
  const { file, name, world, inRoot } = state;
  if (file.elf !== null && isNative(world.host, file.elf)) {
    state.problem('ENTRY_MATCHES_NATIVE', 'warning',
      `binfmt_misc: entry ${quote(entry.name)} matches the native ${describeElf(file.elf)} file ${quote(name)}: it shadows the kernel's own ELF loader`,
      `give ${quote(entry.name)} a mask that pins the foreign e_machine, class and byte order`);
  }
  if (file.setid && !entry.flags.C) {
    state.problem('SETUID_WITHOUT_C', 'warning',
      `binfmt_misc: ${quote(name)} is setuid/setgid, but entry ${quote(entry.name)} lacks C: the bits are ignored`,
      `re-register ${quote(entry.name)} with flags including C (crossroot binfmt install --flags ...) if the set-id bits must work`);
  }
  if (!entry.flags.F && world.root !== null) {
    state.problem('ENTRY_WITHOUT_F_IN_ROOT', 'warning',
      `binfmt_misc: entry ${quote(entry.name)} has no F flag, so its interpreter ${quote(entry.interpreter)} is looked up at exec time${inRoot}`,
      `re-register the entry with F and a static emulator (crossroot binfmt install), or put a static emulator at ${quote(entry.interpreter)} inside the root`);
  }
}

/** load_misc_binary; null when no enabled entry matches (the search goes on). */
export function loadMisc(state: ExecState): Round | null {
  const entry = matchingEntry(state);
  if (entry === null) return null;
  warnAboutEntry(state, entry);

  // load_misc_binary: argv rewrite, then open the interpreter.
  const examined = state.name;
  const realPath = state.file.realPath;
  state.argv = [entry.interpreter, examined, ...(entry.flags.P ? state.argv : state.argv.slice(1))];
  if (entry.flags.P) state.preserveArgv0 = true;
  state.name = entry.interpreter;
  const how = entry.type === 'extension'
    ? `extension ${quote(`.${entry.extension}`)}`
    : `magic at offset ${entry.offset}${entry.mask === null ? '' : ' with mask'}`;
  const step = { handler: 'binfmt_misc', entry: entry.name, file: examined, realPath, interpreter: entry.interpreter } as const;
  if (state.handedToEmulator === null && state.file.elf !== null && isForeignProgram(state.file, state.world.host)) {
    state.handedToEmulator = { file: examined, elf: state.file.elf, entry: entry.name, emulator: entry.interpreter };
  }

  let next: OpenedFile;
  if (entry.flags.F) {
    const pinned = state.world.pinned(entry);
    if (pinned.kind !== 'file') {
      // The kernel still holds the file it opened; we can no longer look at it.
      state.problem('F_PINNED_GONE', 'warning',
        `binfmt_misc: entry ${quote(entry.name)} pinned ${quote(entry.interpreter)} at registration, and that path no longer exists on the host: the kernel runs the old file`,
        `re-register ${quote(entry.name)} (crossroot binfmt install --force) so it pins the current emulator`);
      state.step({ ...step, result: 'delegated', detail: `${how}; F: runs the file pinned at registration` });
      return { kind: 'loaded', loader: null };
    }
    next = pinned;
  } else {
    const opened = openExec(state.world.lookup(entry.interpreter));
    if (!opened.ok) {
      state.step({ ...step, result: 'failed', errno: opened.errno, detail: `${how}; opening the interpreter fails` });
      reportOpenFailure(opened.lookup, entry.interpreter, 'emulator', state.problem, state.inRoot, entry);
      return { kind: 'error', errno: opened.errno };
    }
    next = opened.file;
  }
  if (entry.flags.O || entry.flags.C) state.haveExecfd = true;
  if (entry.flags.C) state.credentialsFromBinary = true;
  state.pinnedFrom = entry.flags.F ? entry.name : null;
  state.step({
    ...step, result: 'delegated',
    detail: `${how}; flags ${flagText(entry)}${entry.flags.F ? '; F: the interpreter was opened at registration' : ''}`,
  });
  return { kind: 'delegated', next };
}
