// What the exec simulator asks of the world it predicts an execve(2) in: how
// open_exec() finds a path (the caller's cwd and root, or --root), the file an
// F entry pinned, the binfmt_misc instance and the host's native machines.
// The runner supplies a world over real files (runner/inspect/exec-world.ts),
// tests supply tables: the simulator itself does no I/O.
import type { BinfmtEntry } from '../binfmt/entry.ts';

/** What binfmt_elf needs from an ELF file (the runner gets it from parseElf). */
export interface ElfFacts {
  readonly class: 32 | 64;
  readonly endian: 'little' | 'big';
  readonly machine: number;
  /** e_flags (tells MIPS n32 from o32 for the advice). */
  readonly flags?: number | undefined;
  /** e_type (1 REL, 2 EXEC, 3 DYN, 4 CORE). */
  readonly type: number;
  /** load_elf_phdrs() accepts the program header table (entry size, count, inside the file). */
  readonly headersLoadable: boolean;
  /** The first PT_INTERP path, or null for a static file. */
  readonly interpreter: string | null;
  /** A PT_INTERP the kernel refuses: ENOEXEC (size outside 2..4096, no NUL) or EIO (past the end). */
  readonly interpreterError?: 'ENOEXEC' | 'EIO' | undefined;
  /** DT_NEEDED, for the library check (optional). */
  readonly needed?: readonly string[] | undefined;
  /** DT_RUNPATH or DT_RPATH is set (libraries may live outside the default paths). */
  readonly hasRunpath?: boolean | undefined;
}

/** How open_exec() would find a path: an error kind, or what it opened. */
export type FileLookup =
  | {
    readonly kind: 'missing';
    /** The path is a symbolic link whose target does not exist (a dangling link). */
    readonly danglingLink?: { readonly target: string } | undefined;
  }
  | { readonly kind: 'notdir' | 'loop' | 'toolong' | 'denied' }
  /** Not a regular file (directory, device, fifo, socket): exec gives EACCES. */
  | { readonly kind: 'dir' | 'special'; readonly realPath: string }
  | {
    readonly kind: 'file';
    /** Where it really is (the host path; for --root, inside the root). */
    readonly realPath: string;
    /** MAY_EXEC for the caller, and the mount is not noexec. */
    readonly executable: boolean;
    /** setuid or setgid bit. */
    readonly setid: boolean;
    /** The first bytes of the file (at most 256 are used). */
    readonly head: Uint8Array;
    /** Set when the file starts with \x7fELF. */
    readonly elf: ElfFacts | null;
  };

export interface NativeMachine {
  readonly machine: number;
  readonly class: 32 | 64;
}

export interface ExecWorld {
  /** open_exec(path): resolved against the caller's cwd and root (the --root). */
  lookup(path: string): FileLookup;
  /** The file an F entry opened at registration (resolved on the host, not in the root). */
  pinned(entry: BinfmtEntry): FileLookup;
  /** Whether a DT_NEEDED library would be found for `elf` (optional; null when unknown). */
  findLibrary?(name: string, elf: ElfFacts): boolean | null;
  /**
   * The emulators' view of the files of the program they run (optional;
   * without it an emulated program's loader is not followed). QEMU opens
   * PT_INTERP and every other absolute path under its prefix (-L,
   * QEMU_LD_PREFIX) when the file exists there, else as the process sees the
   * path (inside the root, or on the host): linux-user util/path.c.
   */
  readonly emulated?: EmulatedWorld;
  readonly binfmt: {
    readonly enabled: boolean;
    readonly entries: readonly BinfmtEntry[];
    /** Where the instance is mounted, for fixes (default /proc/sys/fs/binfmt_misc). */
    readonly dir?: string | undefined;
  };
  readonly host: { readonly native: readonly NativeMachine[] };
  /** The root the exec happens in, or null for the host's own root (affects advice only). */
  readonly root: string | null;
}

export interface EmulatedWorld {
  /** The prefix QEMU looks under first (-L, QEMU_LD_PREFIX), or null. */
  readonly prefix: string | null;
  /** open() of `path` by the emulator. */
  lookup(path: string): FileLookup;
  /** Whether a DT_NEEDED library of the emulated `elf` would be found (null when unknown). */
  findLibrary?(name: string, elf: ElfFacts): boolean | null;
}

export interface ExecRequest {
  readonly path: string;
  /** As the caller passes it, argv[0] included. */
  readonly argv: readonly string[];
}
