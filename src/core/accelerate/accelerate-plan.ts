// Acceleration planner: which of a foreign root's emulated compiler tools can
// be replaced, inside a run's private mount namespace, by native cross tools
// of exactly the same version, and the mounts that do it. Pure: facts about
// the foreign root and about each candidate tools tree (the host '/', or a
// crossroot-managed amd64 tools root of the root's Debian suite) come in as
// lookup functions over root-relative paths; a mount plan and a per-tool
// report come out.
//
// What the plan does (DESIGN.md section 5, made safe):
//  - the tools tree's x86-64 runtime appears at its own multiarch paths in the
//    foreign root: /usr/lib/x86_64-linux-gnu (a bind of the tools tree's) and
//    /lib64/ld-linux-x86-64.so.2 (a link to the loader in it). These paths
//    must be absent from the root; a root that has them is refused.
//  - a missing directory entry is added with a *shadow directory*: a tmpfs
//    mounted over the directory, holding a bind mount of every original entry
//    (a link for every original link) plus the added ones, then made
//    read-only. Below the original entries everything is the root's own,
//    writable as before; only creating a new entry directly in a shadowed
//    directory fails (EROFS) instead of silently vanishing with the namespace.
//  - each substituted tool is a read-only bind of the native cross tool over
//    the root's file (the resolved target of every name the root's driver may
//    run: usr/bin/<triplet>-as, usr/bin/as, usr/<triplet>/bin/as ...); cc1 and
//    cc1plus are covered by a wrapper script in usr/lib/gcc-cross/<triplet>/
//    that runs the native compiler with the root's own include chain
//    (compilerWrapper).
//  - the relocation path the cross compiler looks for its own headers in,
//    usr/lib/gcc-cross/<triplet>/<major>, is a link to the root's
//    usr/lib/gcc/<triplet>/<major>.
//
// Version rule (documented in the report): a tool is substituted only when
// the package owning the native cross tool has the same Debian version as the
// package owning the root's tool, where a trailing 'crossN' of the cross
// package is ignored: gcc-12-aarch64-linux-gnu 12.2.0-14cross1 matches
// cpp-12 / gcc-12 / g++-12 12.2.0-14 (the cross packages are built from the
// same gcc-12 source upload), binutils-aarch64-linux-gnu 2.40-2 (amd64)
// matches binutils-aarch64-linux-gnu 2.40-2 (arm64). Anything else, including
// an unknown owner, leaves the tool emulated.
import { resolveInRoot } from '../root/root-path.ts';
import type { RootReadlink } from '../root/root-path.ts';
import { planTwins } from './twins.ts';
import type { TwinInput, TwinReport } from './twins.ts';

/** Debian architectures with cross toolchains in Debian, and their names. */
export const ACCELERATED_ARCHES = [
  { debian: 'arm64', triplet: 'aarch64-linux-gnu', multiarch: 'aarch64-linux-gnu' },
  { debian: 'armhf', triplet: 'arm-linux-gnueabihf', multiarch: 'arm-linux-gnueabihf' },
  { debian: 'armel', triplet: 'arm-linux-gnueabi', multiarch: 'arm-linux-gnueabi' },
  { debian: 'ppc64el', triplet: 'powerpc64le-linux-gnu', multiarch: 'powerpc64le-linux-gnu' },
  { debian: 's390x', triplet: 's390x-linux-gnu', multiarch: 's390x-linux-gnu' },
  { debian: 'mips64el', triplet: 'mips64el-linux-gnuabi64', multiarch: 'mips64el-linux-gnuabi64' },
  { debian: 'mipsel', triplet: 'mipsel-linux-gnu', multiarch: 'mipsel-linux-gnu' },
  { debian: 'riscv64', triplet: 'riscv64-linux-gnu', multiarch: 'riscv64-linux-gnu' },
  // gcc's triplet for i386 is i686-linux-gnu; its multiarch directory is i386-linux-gnu.
  { debian: 'i386', triplet: 'i686-linux-gnu', multiarch: 'i386-linux-gnu' },
] as const;

export type AcceleratedArch = (typeof ACCELERATED_ARCHES)[number];
export type AcceleratedDebianArch = AcceleratedArch['debian'];

export function acceleratedArch(debianArch: string): AcceleratedArch | null {
  return ACCELERATED_ARCHES.find((arch) => arch.debian === debianArch) ?? null;
}

/** The native side: the tools run as x86-64 programs. */
export const NATIVE_RUNTIME = {
  debian: 'amd64',
  multiarch: 'x86_64-linux-gnu',
  /** PT_INTERP of every Debian amd64 program. */
  loader: '/lib64/ld-linux-x86-64.so.2',
  loaderName: 'ld-linux-x86-64.so.2',
} as const;

/** The Debian packages a tools root needs for one target triplet and gcc major. */
export function toolsRootPackages(triplet: string, gccMajor: string): string[] {
  return [`gcc-${gccMajor}-${triplet}`, `g++-${gccMajor}-${triplet}`, `binutils-${triplet}`];
}

/**
 * The tools crossroot substitutes. `gcc` tools live in the compiler's
 * libexec directory (usr/lib/gcc/<triplet>/<major>/ on bookworm,
 * usr/libexec/gcc/... on trixie; the cross compiler's in gcc-cross/);
 * `binutils` tools are reached through the names the root's driver runs.
 * liblto_plugin.so is loaded by the native ld from the path the root's driver
 * passes (-plugin), so it must be the native build too.
 */
export const ACCELERATED_TOOLS = [
  { name: 'cc1', kind: 'gcc' },
  { name: 'cc1plus', kind: 'gcc' },
  { name: 'lto1', kind: 'gcc' },
  { name: 'lto-wrapper', kind: 'gcc' },
  { name: 'collect2', kind: 'gcc' },
  { name: 'liblto_plugin.so', kind: 'gcc' },
  { name: 'as', kind: 'binutils' },
  { name: 'ld.bfd', kind: 'binutils' },
  { name: 'ld.gold', kind: 'binutils' },
  // binutils' other tools work on the root's objects: their twins are the same-version cross binutils
  // (dh_strip must never meet an x86-64 strip).
  { name: 'ar', kind: 'binutils' },
  { name: 'ranlib', kind: 'binutils' },
  { name: 'nm', kind: 'binutils' },
  { name: 'objcopy', kind: 'binutils' },
  { name: 'objdump', kind: 'binutils' },
  { name: 'strip', kind: 'binutils' },
  { name: 'readelf', kind: 'binutils' },
] as const;

export type AcceleratedToolName = (typeof ACCELERATED_TOOLS)[number]['name'];

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

/** The package that installed a file, from dpkg's database of that tree. */
export interface PackageOwner {
  readonly package: string;
  readonly version: string;
  readonly architecture: string;
}

/** Facts about one tree (the foreign root, the host '/', a tools root), as lookups over root-relative paths. */
export interface TreeFacts {
  /** Where the tree is on the host ('/' for the host itself). */
  readonly hostDir: string;
  readonly readlink: RootReadlink;
  /** lstat: null when absent. */
  readonly kind: (rootRelativePath: string) => EntryKind | null;
  /** Names in a directory (root-relative, resolved), sorted; [] when not a directory. */
  readonly list: (rootRelativePath: string) => readonly string[];
  /** The installed package owning a file (root-relative, resolved), or null. */
  readonly owner: (rootRelativePath: string) => PackageOwner | null;
}

export interface ToolsCandidate {
  /** 'host' (the host's own cross tools) or 'tools-root' (crossroot's amd64 root of the same suite). */
  readonly source: 'host' | 'tools-root';
  readonly facts: TreeFacts;
}

export interface AcceleratePlanInput {
  readonly debianArch: string;
  readonly root: TreeFacts;
  /** In order of preference; the first whose cc1 matches supplies every tool. */
  readonly candidates: readonly ToolsCandidate[];
  /** The twins' facts (twins.ts); planned when their tools tree is the chosen candidate's. */
  readonly twins?: Omit<TwinInput, 'root'>;
}

/** A directory entry added by a shadow directory (path relative to the shadowed directory). */
export type AddedEntry =
  | { readonly kind: 'dir'; readonly path: string }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  /** A file bound read-only from `source`: a host path, or (from 'root') a path of the root before the tools cover it. */
  | { readonly kind: 'file'; readonly path: string; readonly source: string; readonly from: 'host' | 'root' }
  /** An executable script written into the shadow. */
  | { readonly kind: 'script'; readonly path: string; readonly text: string };

/** An original entry replicated in a shadow directory. */
export interface KeptEntry {
  readonly name: string;
  readonly kind: EntryKind;
  /** For a symlink: its target, recreated as is. */
  readonly target?: string;
}

/**
 * One step, in order. `target` is a root-relative path already resolved
 * inside the root (no symlink in it), `source` a host path.
 */
export type AccelerateMount =
  | { readonly kind: 'shadow-dir'; readonly target: string; readonly keep: readonly KeptEntry[]; readonly add: readonly AddedEntry[] }
  | { readonly kind: 'bind'; readonly source: string; readonly target: string; readonly why: string; readonly sourceInRoot?: boolean };

export type ToolStatus = 'substituted' | 'emulated' | 'absent';

export interface ToolReport {
  readonly tool: AcceleratedToolName;
  readonly gccMajor: string | null;
  readonly status: ToolStatus;
  readonly reason: string;
  /** Resolved root-relative paths of the root's copies that are covered. */
  readonly rootPaths: readonly string[];
  readonly rootPackage: PackageOwner | null;
  /** Host path of the native tool. */
  readonly nativePath: string | null;
  readonly nativePackage: PackageOwner | null;
  readonly source: ToolsCandidate['source'] | null;
}

export interface AcceleratePlan {
  readonly debianArch: string;
  readonly triplet: string | null;
  readonly gccMajors: readonly string[];
  /** The candidate that supplies the tools, or null when nothing is substituted. */
  readonly source: ToolsCandidate['source'] | null;
  readonly sourceDir: string | null;
  readonly mounts: readonly AccelerateMount[];
  readonly tools: readonly ToolReport[];
  /** Why nothing at all can be accelerated (unsupported arch, collision, no candidate ...), else null. */
  readonly refused: string | null;
  readonly versionRule: string;
  /** The root's other programs run natively from the tools root, or not, and why (twins.ts). */
  readonly twins: readonly TwinReport[];
  /** When only twins run natively: why the compiler tools stay emulated (no gcc, no exact match ...). */
  readonly compilerRefused: string | null;
}

export const VERSION_RULE = 'same Debian version as the root\'s package, ignoring a trailing \'crossN\' of the cross package'
  + ' (gcc-12-aarch64-linux-gnu 12.2.0-14cross1 matches gcc-12 12.2.0-14)';

/** Strips the cross-toolchain suffix Debian appends to cross package versions ('12.2.0-14cross1' -> '12.2.0-14'). */
export function sourceUploadVersion(version: string): string {
  return version.replace(/cross\d+$/, '');
}

export interface VersionMatch {
  readonly match: boolean;
  readonly reason: string;
}

/** The exact-match rule between the root's package version and the native cross package version. */
export function matchVersions(rootVersion: string, nativeVersion: string): VersionMatch {
  const upload = sourceUploadVersion(nativeVersion);
  if (upload === rootVersion) {
    return { match: true, reason: `same version '${rootVersion}'${upload === nativeVersion ? '' : ` (cross package '${nativeVersion}')`}` };
  }
  return { match: false, reason: `version mismatch: root has '${rootVersion}', native cross tool has '${nativeVersion}'` };
}

/** gcc major versions with a compiler (cc1) in the root, from usr/lib{,exec}/gcc/<triplet>/. */
export function gccMajorsInRoot(root: TreeFacts, triplet: string): string[] {
  const majors = new Set<string>();
  for (const base of [`/usr/lib/gcc/${triplet}`, `/usr/libexec/gcc/${triplet}`]) {
    const dir = resolveSafely(root, base);
    if (dir === null) continue;
    for (const name of root.list(dir)) {
      if (/^\d+$/.test(name) && findGccTool(root, 'gcc', triplet, name, 'cc1') !== null) majors.add(name);
    }
  }
  return [...majors].sort((a, b) => Number(a) - Number(b));
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function resolveSafely(tree: TreeFacts, path: string): string | null {
  try {
    const resolved = resolveInRoot(path, tree.readlink).path;
    return tree.kind(resolved) === null ? null : resolved;
  } catch {
    return null; // a link loop: treat as absent
  }
}

/** The resolved path of a gcc libexec tool: 'gcc' is the root's own compiler dir, 'gcc-cross' the cross compiler's. */
function findGccTool(tree: TreeFacts, flavour: 'gcc' | 'gcc-cross', triplet: string, major: string, name: string): string | null {
  for (const base of [`/usr/libexec/${flavour}/${triplet}/${major}`, `/usr/lib/${flavour}/${triplet}/${major}`]) {
    const resolved = resolveSafely(tree, `${base}/${name}`);
    // The real file must still be that tool (liblto_plugin.so may point at liblto_plugin.so.0.0.0):
    // a link to some other program is never covered.
    if (resolved !== null && tree.kind(resolved) === 'file' && baseName(resolved).startsWith(name)) return resolved;
  }
  return null;
}

/** Every distinct real file the root's driver may run for a binutils tool. */
function rootBinutilsPaths(root: TreeFacts, triplet: string, name: string): string[] {
  const names = name === 'as'
    ? [`/usr/bin/${triplet}-as`, '/usr/bin/as', `/usr/${triplet}/bin/as`]
    : [`/usr/bin/${triplet}-${name}`, `/usr/bin/${name}`, `/usr/${triplet}/bin/${name}`];
  if (name === 'ld.bfd') names.push(`/usr/bin/${triplet}-ld`, '/usr/bin/ld', `/usr/${triplet}/bin/ld`);
  const found = new Set<string>();
  for (const path of names) {
    const resolved = resolveSafely(root, path);
    if (resolved === null || root.kind(resolved) !== 'file') continue;
    // '/usr/bin/ld' may resolve to ld.gold when the admin chose gold: only cover it with the same tool.
    const base = baseName(resolved);
    if (name !== 'as' && !name.startsWith('ld.')) {
      if (base === name || base === `${triplet}-${name}`) found.add(resolved);
      continue;
    }
    if (!base.includes(name === 'as' ? 'as' : 'ld')) continue;
    const isGold = base.endsWith('ld.gold') || base === 'gold';
    if (name === 'ld.bfd' && isGold) continue;
    if (name === 'ld.gold' && !isGold) continue;
    found.add(resolved);
  }
  return [...found].sort();
}

function nativeBinutilsPath(tree: TreeFacts, triplet: string, name: string): string | null {
  const resolved = resolveSafely(tree, `/usr/bin/${triplet}-${name}`);
  return resolved !== null && tree.kind(resolved) === 'file' ? resolved : null;
}

function hostPath(tree: TreeFacts, rootRelative: string): string {
  const base = tree.hostDir.endsWith('/') ? tree.hostDir.slice(0, -1) : tree.hostDir;
  return `${base}${rootRelative}`;
}

interface Pairing {
  readonly tool: AcceleratedToolName;
  readonly major: string | null;
  readonly rootPaths: readonly string[];
  readonly nativePath: string | null;
}

function pairTools(root: TreeFacts, native: TreeFacts, triplet: string, majors: readonly string[]): Pairing[] {
  const pairs: Pairing[] = [];
  for (const tool of ACCELERATED_TOOLS) {
    if (tool.kind === 'gcc') {
      for (const major of majors) {
        const rootPath = findGccTool(root, 'gcc', triplet, major, tool.name);
        pairs.push({
          tool: tool.name, major,
          rootPaths: rootPath === null ? [] : [rootPath],
          nativePath: findGccTool(native, 'gcc-cross', triplet, major, tool.name),
        });
      }
    } else {
      pairs.push({
        tool: tool.name, major: null,
        rootPaths: rootBinutilsPaths(root, triplet, tool.name),
        nativePath: nativeBinutilsPath(native, triplet, tool.name),
      });
    }
  }
  return pairs;
}

function judge(root: TreeFacts, candidate: ToolsCandidate, pair: Pairing): ToolReport {
  const base = {
    tool: pair.tool, gccMajor: pair.major, rootPaths: pair.rootPaths, source: candidate.source,
    nativePath: pair.nativePath === null ? null : hostPath(candidate.facts, pair.nativePath),
  };
  const firstRoot = pair.rootPaths[0];
  if (firstRoot === undefined) {
    return { ...base, status: 'absent', reason: 'the root has no such tool', rootPackage: null, nativePackage: null, rootPaths: [] };
  }
  // Every covered path must belong to the same package version.
  const owners = pair.rootPaths.map((path) => root.owner(path));
  const rootPackage = owners[0] ?? null;
  if (pair.nativePath === null) {
    return { ...base, status: 'emulated', reason: `no native cross tool in the ${candidate.source}`, rootPackage, nativePackage: null };
  }
  const nativePackage = candidate.facts.owner(pair.nativePath);
  if (rootPackage === null || owners.some((owner) => owner === null || owner.version !== rootPackage.version)) {
    return { ...base, status: 'emulated', reason: `no dpkg package owns '${firstRoot}' in the root`, rootPackage, nativePackage };
  }
  if (nativePackage === null) {
    return { ...base, status: 'emulated', reason: `no dpkg package owns '${pair.nativePath}' in the ${candidate.source}`, rootPackage, nativePackage };
  }
  const verdict = matchVersions(rootPackage.version, nativePackage.version);
  return { ...base, status: verdict.match ? 'substituted' : 'emulated', reason: verdict.reason, rootPackage, nativePackage };
}

class ShadowBuilder implements EntrySink {
  private readonly shadows = new Map<string, { keep: KeptEntry[]; add: AddedEntry[] }>();
  constructor(private readonly root: TreeFacts) {}

  /** Adds an entry to a directory of the root through a shadow; the directory path is resolved. */
  add(dir: string, entry: AddedEntry): void {
    let shadow = this.shadows.get(dir);
    if (shadow === undefined) {
      const keep = this.root.list(dir).map((name): KeptEntry => {
        const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
        const kind = this.root.kind(path) ?? 'other';
        const target = kind === 'symlink' ? this.root.readlink(path) : null;
        return target === null ? { name, kind } : { name, kind, target };
      });
      shadow = { keep, add: [] };
      this.shadows.set(dir, shadow);
    }
    shadow.add.push(entry);
  }

  /** Shadows, parents before children (a child's shadow is mounted inside its parent's). */
  mounts(): AccelerateMount[] {
    return [...this.shadows].sort(([a], [b]) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1))
      .map(([target, { keep, add }]) => ({ kind: 'shadow-dir', target, keep, add }));
  }
}

/**
 * The root's driver passes its liblto_plugin.so to ld (-plugin): a native ld
 * can load only a native plugin, so the linkers follow the plugin of every
 * gcc major in the root.
 */
function demoteLinkers(reports: readonly ToolReport[]): ToolReport[] {
  const plugins = reports.filter((report) => report.tool === 'liblto_plugin.so' && report.status !== 'absent');
  const blocking = plugins.find((report) => report.status !== 'substituted');
  if (blocking === undefined) return [...reports];
  return reports.map((report): ToolReport => (report.tool === 'ld.bfd' || report.tool === 'ld.gold') && report.status === 'substituted'
    ? { ...report, status: 'emulated', reason: `the root's liblto_plugin.so of gcc ${blocking.gccMajor ?? '?'} stays emulated and a native ld cannot load it (${report.reason})` }
    : report);
}

/**
 * A cross cc1/cc1plus has a different built-in include chain from the root's
 * own: no /usr/local/include (GCC drops it when cross compiling), its own
 * header directory under usr/lib/gcc-cross, and C++ headers looked for in
 * /usr/<triplet>/include/c++/<major> instead of /usr/include/c++/<major> and
 * /usr/include/<multiarch>/c++/<major>. So both run through a wrapper
 * (compilerWrapper) that gives them the root's chain.
 */
function noteIncludeChains(reports: readonly ToolReport[]): ToolReport[] {
  return reports.map((report): ToolReport => report.status === 'substituted' && WRAPPED_COMPILERS.includes(report.tool)
    ? { ...report, reason: `${report.reason}; run through a wrapper that gives it the root's ${report.tool === 'cc1' ? 'C' : 'C++'} include chain` }
    : report);
}

/** The compilers whose built-in include chain differs between the cross and the native build. */
const WRAPPED_COMPILERS: readonly AcceleratedToolName[] = ['cc1', 'cc1plus'];

/**
 * The system include directories of the root's own (native) cc1 or cc1plus,
 * in its order: GCC's cppdefault list as Debian configures it. A directory
 * missing when the compiler runs is left out, as the compiler itself does.
 */
export function nativeIncludeDirs(tool: 'cc1' | 'cc1plus', triplet: string, multiarch: string, major: string): string[] {
  const gcc = `/usr/lib/gcc/${triplet}/${major}`;
  return [
    ...(tool === 'cc1plus' ? [`/usr/include/c++/${major}`, `/usr/include/${multiarch}/c++/${major}`, `/usr/include/c++/${major}/backward`] : []),
    `${gcc}/include`, `/usr/local/include/${multiarch}`, '/usr/local/include',
    `${gcc}/include-fixed/${multiarch}`, `${gcc}/include-fixed`, `${gcc}/../../../../${triplet}/include`,
    `/usr/include/${multiarch}`, '/usr/include',
  ];
}

/**
 * The script put over the root's cc1 or cc1plus: the native cross compiler
 * with -nostdinc and the root's own chain as -isystem directories after the
 * caller's (the order the compiler itself uses). Options that change the
 * standard chain in ways the script does not model (-nostdinc++, -isysroot,
 * -iprefix, -imultilib ...) run the root's own compiler, emulated; with
 * -nostdinc neither compiler has standard directories, so the native one runs
 * as is. Measured: the same search list under `gcc -v`, and byte-identical
 * objects and executables with -g, for C and for <vector>, <string>,
 * <iostream>, <cassert>.
 */
export function compilerWrapper(native: string, original: string, dirs: readonly string[]): string {
  const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;
  return [
    '#!/bin/sh',
    '# crossroot run --accelerate: the native cross compiler with the root\'s include chain.',
    '# It exists only inside the run\'s private mount namespace.',
    'for arg do',
    '  case $arg in',
    `    -nostdinc) exec ${quote(native)} "$@" ;;`,
    `    -nostdinc++|-isysroot*|--sysroot*|-iprefix*|-iwithprefix*|-imultilib*) exec ${quote(original)} "$@" ;;`,
    '  esac',
    'done',
    'set -- "$@" -nostdinc',
    `for dir in ${dirs.map(quote).join(' ')}; do`,
    '  if [ -d "$dir" ]; then set -- "$@" -isystem "$dir"; fi',
    'done',
    `exec ${quote(native)} "$@"`,
    '',
  ].join('\n');
}

function refuse(input: AcceleratePlanInput, triplet: string | null, majors: readonly string[], reason: string,
  tools: readonly ToolReport[] = []): AcceleratePlan {
  return {
    debianArch: input.debianArch, triplet, gccMajors: majors, source: null, sourceDir: null,
    mounts: [], tools, refused: reason, versionRule: VERSION_RULE, twins: [], compilerRefused: null,
  };
}

/** Where a planner puts the entries it adds to the root's directories: a run's shadows, or create's own temporary entries. */
export interface EntrySink {
  /** Adds `entry` to the root's directory `dir` (root-relative, resolved). */
  add(dir: string, entry: AddedEntry): void;
}

/**
 * Plans the native runtime's placement in the root: the loader link and the
 * library directory. Returns the reason when a path collides with the root's.
 */
export function planRuntime(root: TreeFacts, native: TreeFacts, shadows: EntrySink, binds: AccelerateMount[]): string | null {
  const nativeLibDir = resolveSafely(native, `/usr/lib/${NATIVE_RUNTIME.multiarch}`);
  if (nativeLibDir === null || native.kind(nativeLibDir) !== 'dir') {
    return `the native tools have no '/usr/lib/${NATIVE_RUNTIME.multiarch}'`;
  }
  const nativeLoader = resolveSafely(native, NATIVE_RUNTIME.loader);
  if (nativeLoader === null || native.kind(nativeLoader) !== 'file') return `the native tools have no loader '${NATIVE_RUNTIME.loader}'`;
  if (!nativeLoader.startsWith(`${nativeLibDir}/`) && !nativeLoader.startsWith(`/usr/lib/${NATIVE_RUNTIME.multiarch}/`)) {
    return `the native loader '${nativeLoader}' is outside '/usr/lib/${NATIVE_RUNTIME.multiarch}'`;
  }
  // The library directory: /usr/lib/x86_64-linux-gnu must be absent from the root.
  const usrLib = resolveSafely(root, '/usr/lib');
  if (usrLib === null || root.kind(usrLib) !== 'dir') return 'the root has no /usr/lib directory';
  const libTarget = `${usrLib}/${NATIVE_RUNTIME.multiarch}`;
  if (root.kind(libTarget) !== null) return `collision: the root already has '${libTarget}'`;
  // The loader: /lib64/ld-linux-x86-64.so.2 must resolve to nothing in the root.
  const lib64 = resolveSafely(root, '/lib64');
  const loaderLink = `/usr/lib/${NATIVE_RUNTIME.multiarch}/${nativeLoader.slice(nativeLoader.lastIndexOf('/') + 1)}`;
  if (lib64 === null) {
    if (root.kind('/lib64') !== null) return 'collision: the root\'s \'/lib64\' is a dangling link';
    shadows.add('/', { kind: 'dir', path: 'lib64' });
    shadows.add('/', { kind: 'symlink', path: `lib64/${NATIVE_RUNTIME.loaderName}`, target: loaderLink });
  } else {
    if (root.kind(lib64) !== 'dir') return `collision: the root's '/lib64' is not a directory`;
    const existing = `${lib64}/${NATIVE_RUNTIME.loaderName}`;
    if (root.kind(existing) !== null) return `collision: the root already has '${existing}'`;
    shadows.add(lib64, { kind: 'symlink', path: NATIVE_RUNTIME.loaderName, target: loaderLink });
  }
  shadows.add(usrLib, { kind: 'dir', path: NATIVE_RUNTIME.multiarch });
  binds.push({ kind: 'bind', source: hostPath(native, nativeLibDir), target: libTarget, why: 'native runtime libraries' });
  return null;
}

/**
 * The plan: the compiler tools and the twins from one tools tree. Twins do not
 * depend on a cross compiler: when the compiler tools cannot be accelerated
 * (a root without gcc, no exact match), the twins still run natively.
 */
export function planAcceleration(input: AcceleratePlanInput): AcceleratePlan {
  const plan = planCompilerAcceleration(input);
  return plan.refused === null || input.twins === undefined ? plan : planTwinsOnly(input, input.twins, plan);
}

function planTwinsOnly(input: AcceleratePlanInput, twinInput: NonNullable<AcceleratePlanInput['twins']>, refused: AcceleratePlan): AcceleratePlan {
  const { root } = input;
  const shadows = new ShadowBuilder(root);
  const binds: AccelerateMount[] = [];
  if (planRuntime(root, twinInput.tools, shadows, binds) !== null) return refused;
  const twinPlan = planTwins({ ...twinInput, root });
  if (!twinPlan.twins.some((twin) => twin.status === 'substituted')) return { ...refused, twins: twinPlan.twins };
  const usrLib = resolveSafely(root, '/usr/lib') ?? '/usr/lib';
  for (const entry of twinPlan.usrLibEntries) shadows.add(usrLib, entry);
  binds.push(...twinPlan.binds);
  return {
    ...refused, source: 'tools-root', sourceDir: twinInput.tools.hostDir, mounts: [...shadows.mounts(), ...binds],
    refused: null, twins: twinPlan.twins, compilerRefused: refused.refused,
  };
}

function planCompilerAcceleration(input: AcceleratePlanInput): AcceleratePlan {
  const arch = acceleratedArch(input.debianArch);
  if (arch === null) {
    return refuse(input, null, [], `no Debian cross toolchain for architecture '${input.debianArch}'`
      + ` (supported: ${ACCELERATED_ARCHES.map((a) => a.debian).join(', ')})`);
  }
  const { root } = input;
  const majors = gccMajorsInRoot(root, arch.triplet);
  if (majors.length === 0) return refuse(input, arch.triplet, majors, `the root has no gcc for '${arch.triplet}' (no cc1)`);
  if (input.candidates.length === 0) return refuse(input, arch.triplet, majors, 'no native cross tools to compare with');
  // One candidate supplies every substituted tool (its runtime is the one made visible):
  // the first whose cc1 matches, else the first with any matching tool (binutils alone).
  // When none matches, report the last candidate that has a cc1 at all (the tools root, usually).
  const judged = input.candidates.map((candidate) => ({
    candidate,
    reports: pairTools(root, candidate.facts, arch.triplet, majors).map((pair) => judge(root, candidate, pair)),
  }));
  const substitutes = (reports: readonly ToolReport[], tool?: string): boolean =>
    reports.some((report) => report.status === 'substituted' && (tool === undefined || report.tool === tool));
  const chosen = judged.find(({ reports }) => substitutes(reports, 'cc1')) ?? judged.find(({ reports }) => substitutes(reports)) ?? null;
  if (chosen === null) {
    const shown = judged.filter(({ reports }) => reports.some((report) => report.tool === 'cc1' && report.nativePath !== null)).at(-1)
      ?? judged.at(-1);
    return refuse(input, arch.triplet, majors, 'no native cross tool matches the root\'s versions exactly', shown?.reports ?? []);
  }
  const { candidate } = chosen;
  const reports = demoteLinkers(noteIncludeChains(chosen.reports));
  const shadows = new ShadowBuilder(root);
  const binds: AccelerateMount[] = [];
  const collision = planRuntime(root, candidate.facts, shadows, binds);
  if (collision !== null) {
    const emulated = reports.map((report): ToolReport => report.status === 'substituted'
      ? { ...report, status: 'emulated', reason: `runtime refused: ${collision}` } : report);
    return refuse(input, arch.triplet, majors, collision, emulated);
  }
  // The cross compiler's relocation path: its headers dir, as the root's own.
  const usrLib = resolveSafely(root, '/usr/lib') ?? '/usr/lib';
  if (root.kind(`${usrLib}/gcc-cross`) !== null) {
    return refuse(input, arch.triplet, majors, `collision: the root already has '${usrLib}/gcc-cross'`,
      reports.map((report): ToolReport => report.status === 'substituted' ? { ...report, status: 'emulated', reason: 'runtime refused: gcc-cross exists' } : report));
  }
  const gccMajorsSubstituted = majors.filter((major) => reports.some((report) => report.gccMajor === major && report.status === 'substituted'));
  if (gccMajorsSubstituted.length > 0) {
    shadows.add(usrLib, { kind: 'dir', path: 'gcc-cross' });
    shadows.add(usrLib, { kind: 'dir', path: `gcc-cross/${arch.triplet}` });
  }
  for (const major of gccMajorsSubstituted) {
    shadows.add(usrLib, { kind: 'symlink', path: `gcc-cross/${arch.triplet}/${major}`, target: `/usr/lib/gcc/${arch.triplet}/${major}` });
  }
  for (const report of reports) {
    if (report.status !== 'substituted' || report.nativePath === null) continue;
    const why = `${report.tool}${report.gccMajor === null ? '' : ` (gcc ${report.gccMajor})`}`;
    const rootPath = report.rootPaths[0];
    if ((report.tool === 'cc1' || report.tool === 'cc1plus') && report.gccMajor !== null && rootPath !== undefined) {
      // The native compiler, the root's own (for the options the wrapper leaves to it) and the wrapper, beside gcc-cross/<triplet>/<major>.
      const dir = `gcc-cross/${arch.triplet}`;
      const name = `${report.tool}-${report.gccMajor}`;
      const inRoot = (file: string): string => `${usrLib}/${dir}/${file}`;
      shadows.add(usrLib, { kind: 'file', path: `${dir}/${name}-native`, source: report.nativePath, from: 'host' });
      shadows.add(usrLib, { kind: 'file', path: `${dir}/${name}-emulated`, source: rootPath, from: 'root' });
      shadows.add(usrLib, { kind: 'script', path: `${dir}/${name}`, text: compilerWrapper(
        inRoot(`${name}-native`), inRoot(`${name}-emulated`), nativeIncludeDirs(report.tool, arch.triplet, arch.multiarch, report.gccMajor)) });
      binds.push({ kind: 'bind', source: inRoot(name), target: rootPath, why: `${why} wrapper`, sourceInRoot: true });
      continue;
    }
    for (const target of report.rootPaths) binds.push({ kind: 'bind', source: report.nativePath, target, why });
  }
  let twins: readonly TwinReport[] = [];
  if (input.twins !== undefined && input.twins.tools.hostDir === candidate.facts.hostDir) {
    const twinPlan = planTwins({ ...input.twins, root });
    for (const entry of twinPlan.usrLibEntries) shadows.add(usrLib, entry);
    binds.push(...twinPlan.binds);
    twins = twinPlan.twins;
  }
  return {
    debianArch: input.debianArch, triplet: arch.triplet, gccMajors: majors, source: candidate.source,
    sourceDir: candidate.facts.hostDir, mounts: [...shadows.mounts(), ...binds], tools: reports, refused: null,
    versionRule: VERSION_RULE, twins, compilerRefused: null,
  };
}

/**
 * What `run --accelerate` says on stderr about tools left emulated: one line
 * per reason, naming the tools; the refusal when nothing is accelerated.
 * Empty when every tool the root has runs natively.
 */
export function emulatedToolLines(plan: AcceleratePlan): string[] {
  const groups = new Map<string, string[]>();
  for (const tool of plan.tools) {
    if (tool.status !== 'emulated') continue;
    const name = tool.gccMajor === null ? tool.tool : `${tool.tool} (gcc ${tool.gccMajor})`;
    groups.set(tool.reason, [...(groups.get(tool.reason) ?? []), name]);
  }
  const lines = [...groups].map(([reason, tools]) => `${tools.join(', ')} ${tools.length === 1 ? 'stays' : 'stay'} emulated: ${reason}`);
  if (plan.compilerRefused !== null) lines.unshift(`compiler tools stay emulated (only twins run natively): ${plan.compilerRefused}`);
  return plan.refused === null ? lines : [`nothing accelerated: ${plan.refused}`, ...lines];
}

/** `--verbose` lines: what runs natively, from where. */
export function substitutedToolLines(plan: AcceleratePlan): string[] {
  return plan.tools.filter((tool) => tool.status === 'substituted').map((tool) =>
    `${tool.tool}${tool.gccMajor === null ? '' : ` (gcc ${tool.gccMajor})`} runs natively: ${tool.nativePath ?? '?'} over ${tool.rootPaths.join(', ')} (${tool.reason})`);
}
