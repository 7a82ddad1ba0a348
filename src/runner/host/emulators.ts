// Emulator discovery: which QEMU user-mode binaries are on disk for which catalog architecture.
//
// Where we look, per architecture (target = the catalog's emulator name without `qemu-`,
// so i486 shares qemu-i386):
//   - every directory of PATH (then `extraDirs`): `qemu-<target>-static`, then `qemu-<target>`;
//   - /usr/libexec/qemu-binfmt: `<target>-binfmt-P` (Debian/Ubuntu qemu-user-static and
//     qemu-user-binfmt ship these as symlinks to the real emulator, e.g.
//     aarch64-binfmt-P -> ../../bin/qemu-aarch64-static; Debian's own binfmt entries use them
//     with flags `OPF`/`POF`).
//   `emulatorDir` replaces all of these with one directory (same three names).
//
// Discovery never spawns a process: `static` comes from the ELF program headers (no PT_INTERP),
// the version is read lazily by emulatorVersion(), from the file's .rodata when it can be.
//
// P (preserve argv[0]) — the evidence (Debian 12, QEMU 7.2, kernel 6.18, measured by
// test/binfmt-install.test.ts and by hand with busybox applets):
//   - QEMU reads AT_FLAGS_PRESERVE_ARGV0 from its aux vector since 6.0 (linux-user/main.c), and
//     kernels pass it since 5.12. Such a QEMU registered WITH P runs `argv[0]` right; registered
//     WITHOUT P it loses argv[0] (busybox says "applet not found").
//   - Debian patches QEMU so that, when its own argv[0] ends in `-binfmt-P`, it assumes the P
//     calling convention whatever the kernel says: the `<target>-binfmt-P` names honour P on any
//     kernel, and REQUIRE it (registered without P the program path would be taken for argv[0]
//     and the first argument for the program).
//   So: `-binfmt-P` names have honoursP = true and requiresP = true; other QEMU binaries honour P
//   when their version is >= 6.0 (known only after emulatorVersion(), so honoursP is null until
//   then: see honoursPreserveArgv0()).
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { ArchName, Architecture } from '../../core/arch/arch.ts';
import { ARCHITECTURES } from '../../core/arch/arch.ts';
import { parseElf } from '../../core/elf/elf.ts';
import { findSection } from '../../core/elf/sections.ts';
import { withFileSource } from '../fs/file-source.ts';
import { runProcess } from '../process/process.ts';

/** Where Debian and Ubuntu put the `<target>-binfmt-P` names. */
export const QEMU_BINFMT_DIR = '/usr/libexec/qemu-binfmt';
/** The suffix Debian's QEMU recognises in its own argv[0] to assume the P convention. */
export const BINFMT_P_SUFFIX = '-binfmt-P';
/** First QEMU release that reads AT_FLAGS_PRESERVE_ARGV0 (linux-user, 2021). */
export const QEMU_AT_FLAGS_VERSION = [6, 0] as const;

export type EmulatorSource = 'path' | 'extra-dir' | 'qemu-binfmt' | 'emulator-dir' | 'explicit';

export interface Emulator {
  readonly arch: ArchName;
  /** The path as found, absolute: what goes into the register string (symlinks kept). */
  readonly path: string;
  /** The same file with every symlink resolved, for reports. */
  readonly realPath: string;
  /** ELF without PT_INTERP: runs with no loader or libraries, so F works in any root. */
  readonly static: boolean;
  /** true: honours P; false: does not; null: depends on the version (see honoursPreserveArgv0). */
  readonly honoursP: boolean | null;
  /** A `-binfmt-P` name: QEMU assumes the P convention, so the entry must have P. */
  readonly requiresP: boolean;
  readonly source: EmulatorSource;
}

export interface FindEmulatorsOptions {
  /** The PATH to search (colon-separated); process.env.PATH when undefined. */
  readonly path?: string | undefined;
  /** Searched after PATH, before /usr/libexec/qemu-binfmt. */
  readonly extraDirs?: readonly string[] | undefined;
  /** An explicit emulator file; its architecture comes from its name (qemu-<target>[-static], <target>-binfmt-P). */
  readonly emulator?: string | undefined;
  /** Search only this directory (replaces PATH, extraDirs and /usr/libexec/qemu-binfmt). */
  readonly emulatorDir?: string | undefined;
  /** Replaces /usr/libexec/qemu-binfmt (tests). */
  readonly qemuBinfmtDir?: string | undefined;
}

/** QEMU's target name of a catalog architecture: `qemu-i386` -> `i386`. */
export function emulatorTarget(arch: Pick<Architecture, 'emulator'>): string {
  return arch.emulator.replace(/^qemu-/, '');
}

/** The file names that may hold the emulator of `arch`, best first. */
export function emulatorFileNames(arch: Pick<Architecture, 'emulator'>): { pathNames: string[]; binfmtName: string } {
  const target = emulatorTarget(arch);
  return { pathNames: [`qemu-${target}-static`, `qemu-${target}`], binfmtName: `${target}${BINFMT_P_SUFFIX}` };
}

/** The catalog architectures an emulator file name stands for (qemu-i386 serves i386 and i486). */
export function archesOfEmulatorName(fileName: string): Architecture[] {
  const match = /^qemu-(.+?)(?:-static)?$/.exec(fileName) ?? new RegExp(`^(.+)${BINFMT_P_SUFFIX}$`).exec(fileName);
  const target = match?.[1];
  if (target === undefined) return [];
  return ARCHITECTURES.filter((arch) => emulatorTarget(arch) === target);
}

function isExecutableFile(path: string): boolean {
  try {
    // Most candidates do not exist: no exception for those (every `run` of a foreign root looks them up).
    if (statSync(path, { throwIfNoEntry: false })?.isFile() !== true) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** ELF with no PT_INTERP; false for anything unreadable or not ELF (scripts, wrappers). */
function isStaticElf(path: string): boolean {
  try {
    return withFileSource(path, (source) => {
      const elf = parseElf(source);
      return elf.interpreter === null && (elf.type === 'EXEC' || elf.type === 'DYN');
    });
  } catch {
    return false;
  }
}

/**
 * Describes the emulator file at `path` for `arch` without running it; null when it is not an
 * executable regular file (after following symlinks).
 */
export function describeEmulator(arch: ArchName, path: string, source: EmulatorSource, cwd: string = process.cwd()): Emulator | null {
  const absolute = isAbsolute(path) ? path : resolve(cwd, path);
  if (!isExecutableFile(absolute)) return null;
  let realPath: string;
  try {
    realPath = realpathSync(absolute);
  } catch {
    return null;
  }
  const requiresP = absolute.endsWith(BINFMT_P_SUFFIX);
  return {
    arch,
    path: absolute,
    realPath,
    static: isStaticElf(realPath),
    honoursP: requiresP ? true : null,
    requiresP,
    source,
  };
}

/** The directories of a PATH string, absolute ones only (an empty or relative entry would depend on the cwd). */
function pathDirs(path: string): string[] {
  return path.split(delimiter).filter((dir) => dir !== '' && isAbsolute(dir));
}

/**
 * Every emulator candidate on disk, per catalog architecture in catalog order, best first:
 * static before dynamic, then search order (emulator, PATH, extra dirs, qemu-binfmt).
 * The same file reached through two names (a symlink) is listed under each name.
 */
export function findEmulatorCandidates(options: FindEmulatorsOptions = {}): Emulator[] {
  const found: Emulator[] = [];
  const seen = new Set<string>();
  const add = (emulator: Emulator | null): void => {
    if (emulator === null) return;
    const key = `${emulator.arch}\0${emulator.path}`;
    if (seen.has(key)) return;
    seen.add(key);
    found.push(emulator);
  };
  if (options.emulator !== undefined) {
    for (const arch of archesOfEmulatorName(options.emulator.split('/').pop() ?? '')) {
      add(describeEmulator(arch.name, options.emulator, 'explicit'));
    }
  }
  const searchDirs: { dir: string; source: EmulatorSource }[] = options.emulatorDir !== undefined
    ? [{ dir: options.emulatorDir, source: 'emulator-dir' }]
    : [
      ...pathDirs(options.path ?? process.env['PATH'] ?? '').map((dir) => ({ dir, source: 'path' as const })),
      ...(options.extraDirs ?? []).map((dir) => ({ dir, source: 'extra-dir' as const })),
    ];
  const binfmtDirs = options.emulatorDir !== undefined
    ? [{ dir: options.emulatorDir, source: 'emulator-dir' as const }]
    : [{ dir: options.qemuBinfmtDir ?? QEMU_BINFMT_DIR, source: 'qemu-binfmt' as const }];
  for (const arch of ARCHITECTURES) {
    const { pathNames, binfmtName } = emulatorFileNames(arch);
    for (const { dir, source } of searchDirs) {
      for (const name of pathNames) add(describeEmulator(arch.name, join(dir, name), source));
    }
    for (const { dir, source } of binfmtDirs) add(describeEmulator(arch.name, join(dir, binfmtName), source));
  }
  return rankEmulators(found);
}

/** Stable sort inside each architecture: static first (dynamic ones need their loader in every root). */
function rankEmulators(emulators: readonly Emulator[]): Emulator[] {
  const order = new Map(ARCHITECTURES.map((arch, index) => [arch.name, index]));
  return emulators
    .map((emulator, index) => ({ emulator, index }))
    .sort((a, b) =>
      (order.get(a.emulator.arch) ?? 0) - (order.get(b.emulator.arch) ?? 0)
      || Number(b.emulator.static) - Number(a.emulator.static)
      || a.index - b.index)
    .map(({ emulator }) => emulator);
}

/**
 * The preferred emulator of each architecture that has one, in catalog order: the first
 * candidate of findEmulatorCandidates (a static one when any exists). An explicit `emulator`
 * wins for the architectures its name stands for.
 */
export function findEmulators(options: FindEmulatorsOptions = {}): Emulator[] {
  const best = new Map<ArchName, Emulator>();
  for (const emulator of findEmulatorCandidates(options)) {
    const current = best.get(emulator.arch);
    if (current === undefined || (emulator.source === 'explicit' && current.source !== 'explicit')) best.set(emulator.arch, emulator);
  }
  return [...best.values()];
}

/** The best candidate for `arch` that can be registered with the given P choice (a -binfmt-P name needs P). */
export function chooseEmulator(candidates: readonly Emulator[], arch: ArchName, withP: boolean | undefined): Emulator | null {
  const forArch = candidates.filter((emulator) => emulator.arch === arch);
  const explicit = forArch.filter((emulator) => emulator.source === 'explicit');
  const pool = explicit.length > 0 ? explicit : forArch;
  if (withP === false) return pool.find((emulator) => !emulator.requiresP) ?? pool[0] ?? null;
  return pool[0] ?? null;
}

const versionCache = new Map<string, Promise<string | null>>();

/**
 * QEMU's `--version` text is one string constant in .rodata, printed as is:
 * "qemu-aarch64 version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022 ...".
 * The Copyright line (QEMU_COPYRIGHT, the same since QEMU 2) anchors the search.
 */
const COPYRIGHT_LINE = Buffer.from('\nCopyright (c) ', 'latin1');
const VERSION_CHUNK = 256 * 1024;
/** Longest first line looked back for from the Copyright line. */
const VERSION_LINE_MAX = 512;
/** .rodata of a static QEMU is a few MiB; no more than this is searched. */
const VERSION_SEARCH_LIMIT = 64 * 1024 * 1024;

/**
 * The version `--version` would print, read from the file's .rodata without
 * running it, or null when the file has no such banner (not QEMU, stripped of
 * section headers, another layout): callers then run `--version`.
 */
export function qemuVersionFromFile(path: string): string | null {
  try {
    return withFileSource(path, (source) => {
      const rodata = findSection(source, parseElf(source), '.rodata');
      if (rodata === null) return null;
      const end = rodata.offset + Math.min(rodata.size, VERSION_SEARCH_LIMIT);
      // Chunks overlap so that a banner across a boundary is whole in the next one.
      const step = VERSION_CHUNK - VERSION_LINE_MAX - COPYRIGHT_LINE.length;
      for (let at = rodata.offset; at < end; at += step) {
        const bytes = source.read(at, Math.min(VERSION_CHUNK, end - at));
        const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
        for (let hit = chunk.indexOf(COPYRIGHT_LINE); hit >= 0; hit = chunk.indexOf(COPYRIGHT_LINE, hit + 1)) {
          const from = Math.max(hit - VERSION_LINE_MAX, chunk.lastIndexOf(0, hit) + 1, chunk.lastIndexOf(0x0a, hit - 1) + 1);
          const version = parseQemuVersion(chunk.toString('utf8', from, hit));
          if (version !== null) return version;
        }
        if (at + bytes.length >= end) break;
      }
      return null;
    });
  } catch {
    return null;
  }
}

/**
 * `<emulator> --version`'s first line's version ("7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"),
 * or null when it does not run or says nothing recognisable. Read from the file when it
 * holds QEMU's banner (qemuVersionFromFile: no process), else spawns once per real file.
 * A `-binfmt-P` name is run through its real path: Debian's QEMU refuses to start by that name
 * outside binfmt_misc.
 */
export function emulatorVersion(emulator: Pick<Emulator, 'realPath'>): Promise<string | null> {
  const cached = versionCache.get(emulator.realPath);
  if (cached !== undefined) return cached;
  const fromFile = qemuVersionFromFile(emulator.realPath);
  if (fromFile !== null) {
    const known = Promise.resolve(fromFile);
    versionCache.set(emulator.realPath, known);
    return known;
  }
  const pending = runProcess([emulator.realPath, '--version'], { timeoutMs: 10_000, env: { ...process.env, LC_ALL: 'C' } })
    .then((run) => parseQemuVersion(run.stdout))
    .catch(() => null);
  versionCache.set(emulator.realPath, pending);
  return pending;
}

/** "qemu-aarch64 version 7.2.22 (Debian ...)" -> "7.2.22 (Debian ...)". */
export function parseQemuVersion(stdout: string): string | null {
  const match = /^qemu-\S+ version (\S.*)$/m.exec(stdout);
  return match?.[1]?.trim() ?? null;
}

/** Whether an emulator of this version honours P through AT_FLAGS (QEMU >= 6.0 on Linux >= 5.12). */
export function versionHonoursP(version: string | null): boolean | null {
  const match = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (match === null) return null;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  const [needMajor, needMinor] = QEMU_AT_FLAGS_VERSION;
  return major > needMajor || (major === needMajor && minor >= needMinor);
}

/** honoursP settled: a `-binfmt-P` name always, otherwise from the version (spawns once). */
export async function honoursPreserveArgv0(emulator: Emulator): Promise<boolean | null> {
  if (emulator.honoursP !== null) return emulator.honoursP;
  return versionHonoursP(await emulatorVersion(emulator));
}
