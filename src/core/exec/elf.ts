// The ELF handler of the simulator, as fs/binfmt_elf.c load_elf_binary: a
// native ET_EXEC or ET_DYN with loadable program headers is loaded; its
// PT_INTERP loader is opened directly (no binfmt_misc, no #!, no rewrite
// count) and must be a native ELF of the same class.
import { archOfElf } from '../arch/arch.ts';
import { looksLikeElf } from '../elf/header.ts';
import { EHDR, ET } from '../elf/layout.ts';
import { elfMachineName } from '../elf/machines.ts';
import { openExec, reportOpenFailure } from './open.ts';
import type { ExecErrno } from './prediction.ts';
import type { ExecState, OpenedFile, Round } from './state.ts';
import { quote } from './state.ts';
import type { ElfFacts, ExecWorld } from './world.ts';

/** The catalog's (QEMU) name for an ELF file's architecture, for advice ("crossroot binfmt install aarch64"). */
export function qemuTargetOf(elf: Pick<ElfFacts, 'machine' | 'class' | 'endian' | 'flags'>): string | null {
  return archOfElf({ class: elf.class, endian: elf.endian, machine: elf.machine, flags: elf.flags ?? 0 })?.name ?? null;
}

export function describeElf(elf: ElfFacts): string {
  const type = elf.type === ET.EXEC ? 'EXEC' : elf.type === ET.DYN ? 'DYN' : `type ${elf.type}`;
  return `ELF ${elf.class}-bit ${elf.endian === 'little' ? 'LSB' : 'MSB'} ${elfMachineName(elf.machine)} ${type}`;
}

export function isNative(host: ExecWorld['host'], elf: Pick<ElfFacts, 'machine' | 'class'>): boolean {
  return host.native.some((native) => native.machine === elf.machine && native.class === elf.class);
}

export function isProgram(elf: ElfFacts): boolean {
  return elf.type === ET.EXEC || elf.type === ET.DYN;
}

/** A foreign program: an ELF executable this kernel does not run natively (binfmt_misc's business). */
export function isForeignProgram(file: OpenedFile, host: ExecWorld['host']): boolean {
  return looksLikeElf(file.head) && file.elf !== null && isProgram(file.elf) && !isNative(host, file.elf);
}

/** load_elf_binary; null when it declines (ENOEXEC: the search goes on). */
export function loadElf(state: ExecState): Round | null {
  const { file, name } = state;
  if (!looksLikeElf(file.head)) return null;
  const elf = file.elf;
  const decline = (detail: string): null => {
    state.step({ handler: 'elf', file: name, realPath: file.realPath, result: 'declined', errno: 'ENOEXEC', detail });
    return null;
  };
  if (elf === null) return decline('ELF magic, but the header cannot be read');
  if (!isProgram(elf)) {
    state.problem('ELF_NOT_EXECUTABLE_TYPE', 'error',
      `exec: ${quote(name)} is an ELF ${elf.type === ET.REL ? 'relocatable object' : elf.type === ET.CORE ? 'core dump' : `file of type ${elf.type}`}, not a program`,
      'link it into an executable (ET_EXEC or ET_DYN) first');
    return decline(`${describeElf(elf)}: not a program`);
  }
  if (!isNative(state.world.host, elf)) {
    return decline(`${describeElf(elf)}: not a machine this kernel runs natively`);
  }
  if (!elf.headersLoadable) {
    state.problem('ELF_BAD_HEADERS', 'error', `exec: ${quote(name)} has a program header table the kernel refuses`, 'rebuild the file; it is damaged or hand-crafted');
    return decline(`${describeElf(elf)}: program headers refused`);
  }
  if (elf.interpreterError !== undefined) {
    state.problem('ELF_BAD_INTERP', 'error', `exec: the PT_INTERP of ${quote(name)} is malformed`, 'rebuild the file; its PT_INTERP segment is damaged');
    state.step({ handler: 'elf', file: name, realPath: file.realPath, result: 'failed', errno: elf.interpreterError, detail: `${describeElf(elf)}: malformed PT_INTERP` });
    return { kind: 'error', errno: elf.interpreterError };
  }
  if (elf.interpreter === null) {
    state.step({ handler: 'elf', file: name, realPath: file.realPath, result: 'loaded', detail: `${describeElf(elf)}, static` });
    return { kind: 'loaded', loader: null };
  }
  return loadWithLoader(state, elf, elf.interpreter);
}

function loadWithLoader(state: ExecState, elf: ElfFacts, loader: string): Round {
  const { file, name, inRoot } = state;
  if (state.pinnedFrom !== null) {
    state.problem('F_PINNED_DYNAMIC', 'warning',
      `binfmt_misc: entry ${quote(state.pinnedFrom)} pins the dynamically linked ${quote(name)}: F pins only that file, its loader ${quote(loader)} and libraries are looked up at exec time${inRoot}`,
      'register a statically linked emulator (qemu-user-static) with F');
  }
  const failed = (errno: ExecErrno, detail: string): void => {
    state.step({ handler: 'elf', file: name, realPath: file.realPath, result: 'failed', errno, interpreter: loader, detail: `${describeElf(elf)}; ${detail}` });
  };
  const openedLoader = openExec(state.world.lookup(loader));
  if (!openedLoader.ok) {
    failed(openedLoader.errno, 'opening its loader fails');
    reportOpenFailure(openedLoader.lookup, loader, 'loader', state.problem, inRoot);
    return { kind: 'error', errno: openedLoader.errno };
  }
  const fix = `install the ${qemuTargetOf(elf) ?? 'matching'} C library (libc6) so that ${quote(loader)} is the right ELF loader`;
  // elf_read() of the loader's ELF header comes first: a shorter file is EIO (checked on 6.18), not ELIBBAD.
  if (openedLoader.file.head.length < EHDR[elf.class].size) {
    state.problem('LOADER_BAD', 'error', `exec: the loader ${quote(loader)} of ${quote(name)} is shorter than an ELF header${inRoot}`, fix);
    failed('EIO', 'its loader is too short to be ELF');
    return { kind: 'error', errno: 'EIO' };
  }
  const loaderElf = openedLoader.file.elf;
  if (!looksLikeElf(openedLoader.file.head) || loaderElf === null || !isNative(state.world.host, loaderElf)
    || loaderElf.class !== elf.class || !loaderElf.headersLoadable) {
    const what = loaderElf === null ? 'not an ELF file' : `${describeElf(loaderElf)}, which this program cannot use`;
    state.problem('LOADER_BAD', 'error', `exec: the loader ${quote(loader)} of ${quote(name)} is ${what}${inRoot}`, fix);
    failed('ELIBBAD', `its loader is ${what}`);
    return { kind: 'error', errno: 'ELIBBAD' };
  }
  checkLibraries(state, elf);
  state.step({ handler: 'elf', file: name, realPath: file.realPath, result: 'loaded', interpreter: loader, detail: `${describeElf(elf)}, loader ${loader}` });
  return { kind: 'loaded', loader };
}

/** DT_NEEDED the world cannot find: the exec succeeds, the loader fails after it. */
function checkLibraries(state: ExecState, elf: ElfFacts): void {
  const world = state.world;
  if (world.findLibrary === undefined) return;
  for (const library of elf.needed ?? []) {
    if (world.findLibrary(library, elf) === false) {
      state.problem('LIBRARY_MISSING', 'warning',
        `exec: ${quote(state.name)} needs ${quote(library)}, which is not in the library paths${state.inRoot}: the loader will fail after exec`,
        `install the package that ships ${quote(library)} for ${qemuTargetOf(elf) ?? 'this architecture'}`);
    }
  }
}
