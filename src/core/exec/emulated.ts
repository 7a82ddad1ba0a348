// What happens after the kernel's part of the exec when a binfmt_misc entry
// handed a foreign ELF program to an emulator: the emulator (QEMU
// linux-user, load_elf_binary/load_elf_interp) opens the program's PT_INTERP
// itself, under its prefix (-L, QEMU_LD_PREFIX) when the file exists there,
// else as the process sees the path, and the emulated loader then opens the
// libraries the same way. A loader that is not there makes the program fail
// at once although the exec succeeded: the classic case is a dynamic arm64
// program run on the host, outside any root of its architecture.
import { looksLikeElf } from '../elf/header.ts';
import { describeElf, qemuTargetOf } from './elf.ts';
import type { EmulatedProgram } from './prediction.ts';
import type { ExecState } from './state.ts';
import { quote } from './state.ts';
import type { ElfFacts, EmulatedWorld } from './world.ts';

/** Where QEMU looks, for messages: "under the prefix '/p', then inside the root '/r'". */
function whereLooked(emulated: EmulatedWorld, root: string | null): string {
  const plain = root === null ? 'on the host' : `inside the root ${quote(root)}`;
  return emulated.prefix === null ? plain : `under the emulator's prefix ${quote(emulated.prefix)} or ${plain}`;
}

function fixFor(state: ExecState, elf: ElfFacts, file: string): string {
  const arch = qemuTargetOf(elf) ?? 'its architecture';
  if (state.world.root !== null) {
    return `install the C library of ${arch} (libc6) inside the root ${quote(state.world.root)}`;
  }
  return `run it inside a root of ${arch}: crossroot run --arch ${arch} -- ${file} (or predict that with crossroot explain --root DIR); `
    + 'or point QEMU_LD_PREFIX at such a root';
}

/** Follows the emulated program's loader and libraries; false when it cannot start. */
export function checkEmulatedProgram(state: ExecState): { emulated: EmulatedProgram | null; starts: boolean } {
  const handed = state.handedToEmulator;
  const world = state.world.emulated;
  if (handed === null || world === undefined) return { emulated: null, starts: true };
  const { file, elf } = handed;
  const facts = { file, entry: handed.entry, emulator: handed.emulator, prefix: world.prefix };
  const loader = elf.interpreter;
  if (loader === null) return { emulated: { ...facts, loader: null, loaderRealPath: null }, starts: true };
  const found = world.lookup(loader);
  const where = whereLooked(world, state.world.root);
  if (found.kind !== 'file') {
    state.problem('EMULATED_LOADER_MISSING', 'error',
      `${quote(handed.emulator)} runs ${quote(file)} (${describeElf(elf)}), whose loader ${quote(loader)} does not exist ${where}: the program fails at once although the exec succeeds`,
      fixFor(state, elf, file));
    return { emulated: { ...facts, loader, loaderRealPath: null }, starts: false };
  }
  const loaderElf = found.elf;
  if (!looksLikeElf(found.head) || loaderElf === null || loaderElf.machine !== elf.machine || loaderElf.class !== elf.class) {
    const what = loaderElf === null ? 'not an ELF file' : describeElf(loaderElf);
    state.problem('EMULATED_LOADER_BAD', 'error',
      `${quote(handed.emulator)} runs ${quote(file)} (${describeElf(elf)}), whose loader ${quote(loader)} found ${where} is ${what}: the program fails at once`,
      fixFor(state, elf, file));
    return { emulated: { ...facts, loader, loaderRealPath: found.realPath }, starts: false };
  }
  checkEmulatedLibraries(state, world, elf, file, where);
  return { emulated: { ...facts, loader, loaderRealPath: found.realPath }, starts: true };
}

function checkEmulatedLibraries(state: ExecState, world: EmulatedWorld, elf: ElfFacts, file: string, where: string): void {
  if (world.findLibrary === undefined) return;
  for (const library of elf.needed ?? []) {
    if (world.findLibrary(library, elf) === false) {
      state.problem('EMULATED_LIBRARY_MISSING', 'warning',
        `${quote(file)} needs ${quote(library)}, which is not in the library paths ${where}: its loader will fail after exec`,
        `install the package that ships ${quote(library)} for ${qemuTargetOf(elf) ?? 'this architecture'}`);
    }
  }
}
