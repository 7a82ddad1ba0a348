// Twins: the root's architecture-neutral programs run natively from the same
// Debian version of the same package in the amd64 tools root (policy.ts says
// which, and what stays emulated). Pure: both trees' dpkg databases and a
// scan of the native files come in; per-program reports and read-only binds
// (each over the root's own file, never a PATH entry) come out.
//
// Rules, in order, per program of a candidate package:
//  - the package is one the policy keeps emulated -> emulated (policy);
//  - the tools root has no such package / another version -> emulated;
//  - perl: every arch-dependent perl module package of the root must have
//    its same version in the tools root (native perl loads only native XS
//    modules, from /usr/lib/x86_64-linux-gnu) -> else perl stays emulated;
//  - the program is one the policy keeps emulated (uname, arch ...) -> emulated;
//  - the native file is not an x86-64 ELF of the tools root's package, or
//    its .rodata names the host (HOST_MARKERS) without a policy entry -> emulated;
//  - a preload library of the root (fakeroot ...) without its same-version
//    native build -> every twin emulated (a twin never loses a preload).
import type { AccelerateMount, AddedEntry, TreeFacts } from './accelerate-plan.ts';
import type { ByteSource } from '../bytes/byte-reader.ts';
import { parseElf } from '../elf/elf.ts';
import { EM } from '../elf/machines.ts';
import { findSection } from '../elf/sections.ts';
import { resolveInRoot } from '../root/root-path.ts';
import {
  HELPERS_DIR, PRELOAD_LIBRARIES, TWIN_DIRS, TWIN_PACKAGES, emulatedPackageReason, emulatedProgramReason, guardedTwin, hostMarkersIn, sameAbiAsNative,
  tripletAllowedReason,
} from './policy.ts';

/** One installed package of a tree, with the files dpkg recorded for it. */
export interface PackageFiles {
  readonly package: string;
  readonly version: string;
  readonly architecture: string;
  readonly files: readonly string[];
}

export type TwinStatus = 'substituted' | 'emulated';

export interface TwinReport {
  readonly package: string;
  /** As dpkg recorded it (/usr/bin/sed). */
  readonly program: string;
  readonly status: TwinStatus;
  /** 'policy' | 'version' | 'missing' | 'embeds-host' | 'not-native' | 'preload' | 'same' */
  readonly kind: TwinReasonKind;
  readonly reason: string;
  readonly rootVersion: string;
  readonly toolsVersion: string | null;
}

export interface TwinGroup {
  readonly package: string;
  readonly rootVersion: string;
  readonly toolsVersion: string | null;
  readonly substituted: readonly string[];
  /** Programs left emulated, by reason. */
  readonly emulated: readonly { readonly reason: string; readonly programs: readonly string[] }[];
}

/** The twins grouped by package, packages in name order: what `crossroot accelerate ROOT` lists. */
export function twinGroups(twins: readonly TwinReport[]): TwinGroup[] {
  const byPackage = new Map<string, TwinReport[]>();
  for (const twin of twins) byPackage.set(twin.package, [...(byPackage.get(twin.package) ?? []), twin]);
  return [...byPackage].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, reports]) => {
    const reasons = new Map<string, string[]>();
    for (const report of reports) {
      if (report.status === 'emulated') reasons.set(report.reason, [...(reasons.get(report.reason) ?? []), report.program]);
    }
    const first = reports[0];
    return {
      package: name, rootVersion: first?.rootVersion ?? '', toolsVersion: first?.toolsVersion ?? null,
      substituted: reports.filter((report) => report.status === 'substituted').map((report) => report.program),
      emulated: [...reasons].map(([reason, programs]) => ({ reason, programs })),
    };
  });
}

export type TwinReasonKind = 'same' | 'policy' | 'version' | 'missing' | 'embeds-host' | 'not-native' | 'preload';

/** What the scan of a native file found (null: not an x86-64 ELF executable). */
export interface NativeScan {
  readonly markers: readonly string[];
}

export interface TwinInput {
  readonly root: TreeFacts;
  readonly rootPackages: ReadonlyMap<string, PackageFiles>;
  readonly tools: TreeFacts;
  readonly toolsPackages: ReadonlyMap<string, PackageFiles>;
  /** The root's multiarch triplet (aarch64-linux-gnu): where its arch-dependent perl modules live. */
  readonly multiarch: string;
  /** The root's Debian architecture (whether its preload protocols match the native ones: policy.ts SAME_ABI_AS_NATIVE). */
  readonly debianArch: string;
  /** Scans a file of the tools tree (root-relative, resolved). */
  readonly scanNative: (toolsPath: string) => NativeScan | null;
  /** Whether a file of the root (root-relative, resolved) is an ELF program (not a script). */
  readonly isRootElf: (rootPath: string) => boolean;
  /** Packages the user asked to keep emulated (CROSSROOT_ACCELERATE_EMULATE). */
  readonly keepEmulated?: readonly string[];
  /** Why keepEmulated holds them, when not the user's request (create: see core/create/create-twins.ts). */
  readonly keptEmulatedWhy?: string;
}

export interface TwinPlan {
  readonly twins: readonly TwinReport[];
  /** Entries for the /usr/lib shadow (the perl guard and the emulated perl), root-relative to /usr/lib. */
  readonly usrLibEntries: readonly AddedEntry[];
  /** Read-only binds of the twins over the root's files, then of the perl guard (after the runtime's library bind). */
  readonly binds: readonly AccelerateMount[];
  /** Packages the tools root needs at the root's version (to be installed on demand). */
  readonly wanted: readonly { readonly package: string; readonly version: string }[];
}

/** Read-only data larger than this is scanned only up to it (no Debian tool comes near). */
const MAX_RODATA = 64 * 1024 * 1024;

/**
 * The host markers in an x86-64 ELF program's .rodata (policy.ts
 * HOST_MARKERS); null when the file is not an x86-64 ELF program (a script,
 * another machine, unreadable headers).
 */
export function scanNativeElf(source: ByteSource): NativeScan | null {
  let elf;
  try {
    elf = parseElf(source);
  } catch {
    return null;
  }
  if (elf.machine !== EM.EM_X86_64 || (elf.type !== 'EXEC' && elf.type !== 'DYN')) return null;
  const rodata = findSection(source, elf, '.rodata');
  if (rodata === null) return { markers: [] };
  const bytes = source.read(rodata.offset, Math.min(rodata.size, MAX_RODATA));
  return { markers: hostMarkersIn(new TextDecoder('latin1').decode(bytes)) };
}

function resolved(tree: TreeFacts, path: string): string | null {
  try {
    const result = resolveInRoot(path, tree.readlink).path;
    return tree.kind(result) === 'file' ? result : null;
  } catch {
    return null;
  }
}

function hostPath(tree: TreeFacts, path: string): string {
  return `${tree.hostDir.endsWith('/') ? tree.hostDir.slice(0, -1) : tree.hostDir}${path}`;
}

/** Arch-dependent perl module packages of the root (files under /usr/lib/<multiarch>/perl*). */
export function perlModulePackages(rootPackages: ReadonlyMap<string, PackageFiles>, multiarch: string): PackageFiles[] {
  const prefix = `/usr/lib/${multiarch}/perl`;
  return [...rootPackages.values()].filter((pkg) => pkg.architecture !== 'all'
    && pkg.files.some((file) => file.startsWith(prefix) && (file.endsWith('.pm') || file.endsWith('.so'))));
}

/** The root's preload library packages, and their native builds' paths in the tools tree. */
function preloadProblems(input: TwinInput): string[] {
  const problems: string[] = [];
  for (const preload of PRELOAD_LIBRARIES) {
    const rootPkg = input.rootPackages.get(preload.package);
    if (rootPkg === undefined) continue;
    const native = input.toolsPackages.get(preload.package);
    if (preload.sameAbi && !sameAbiAsNative(input.debianArch)) {
      problems.push(`the root has ${preload.package} ${rootPkg.version} (${preload.why}), whose protocol with the root's daemon differs between '${input.debianArch}' and amd64`);
    } else if (native === undefined || !sameSourceVersion(rootPkg.version, native.version)) {
      problems.push(`the root has ${preload.package} ${rootPkg.version} (${preload.why}) and the tools root ${native === undefined ? 'has none' : `has ${native.version}`}`);
    }
  }
  return problems;
}

/**
 * Links the runner makes in the tools root's library directory (crossroot's
 * own tree) for the root's preload libraries: the native loader then finds
 * the bare name the root's scripts put in LD_PRELOAD in its default path.
 */
export function preloadLinks(toolsPackages: ReadonlyMap<string, PackageFiles>): { name: string; target: string }[] {
  return PRELOAD_LIBRARIES.filter((preload) => toolsPackages.has(preload.package))
    .map((preload) => ({ name: preload.name, target: preload.library }));
}

/**
 * Whether two Debian versions are builds of the same source version: equal,
 * or differing only in a binNMU suffix (`+bN`: the same source rebuilt, for
 * one architecture, against newer libraries; grep 3.11-4+b1 on arm64 is
 * grep 3.11-4's code, as amd64's 3.11-4 is).
 */
export function sameSourceVersion(rootVersion: string, toolsVersion: string): boolean {
  return withoutBinNmu(rootVersion) === withoutBinNmu(toolsVersion);
}

/** The version without its binNMU suffix: what to ask the tools root's archive for. */
export function withoutBinNmu(version: string): string {
  return version.replace(/\+b\d+$/, '');
}

/** The packages the tools root must have, at the root's versions, for every possible twin. */
export function wantedToolsPackages(rootPackages: ReadonlyMap<string, PackageFiles>, multiarch: string): { package: string; version: string }[] {
  const names = new Set<string>(TWIN_PACKAGES.map((entry) => entry.package));
  for (const preload of PRELOAD_LIBRARIES) names.add(preload.package);
  if (rootPackages.has('perl-base')) for (const pkg of perlModulePackages(rootPackages, multiarch)) names.add(pkg.package);
  const wanted: { package: string; version: string }[] = [];
  for (const name of [...names].sort()) {
    const pkg = rootPackages.get(name);
    if (pkg === undefined || pkg.architecture === 'all' || emulatedPackageReason(name) !== null) continue;
    wanted.push({ package: name, version: pkg.version });
  }
  return wanted;
}

function perlProblem(input: TwinInput): string | null {
  for (const pkg of perlModulePackages(input.rootPackages, input.multiarch)) {
    const native = input.toolsPackages.get(pkg.package);
    if (native === undefined) return `perl module package '${pkg.package}' ${pkg.version} has no native build in the tools root`;
    if (!sameSourceVersion(pkg.version, native.version)) return `perl module package '${pkg.package}': root has '${pkg.version}', tools root '${native.version}'`;
  }
  return null;
}

/** A program's merged-/usr path, as the policy names it (/bin/sed -> /usr/bin/sed). */
function usrPath(program: string): string {
  return program.replace(/^\/(s?bin)\//, '/usr/$1/');
}

function sameReason(rootVersion: string, toolsVersion: string): string {
  return rootVersion === toolsVersion ? `same version '${rootVersion}'`
    : `same source version '${withoutBinNmu(rootVersion)}' (binNMU: root '${rootVersion}', tools root '${toolsVersion}')`;
}

/** The twin of one program whose package and program the policy allow (planTwins asks it first), judged. */
function judgeProgram(input: TwinInput, pkg: PackageFiles, native: PackageFiles, program: string, perl: string | null): TwinReport {
  const base = { package: pkg.package, program, rootVersion: pkg.version, toolsVersion: native.version };
  if (perl !== null && /\/perl[\d.]*$/.test(program)) return { ...base, status: 'emulated', kind: 'missing', reason: perl };
  const toolsFile = resolved(input.tools, program);
  if (toolsFile === null) return { ...base, status: 'emulated', kind: 'missing', reason: `the tools root has no '${program}'` };
  const scan = input.scanNative(toolsFile);
  if (scan === null) return { ...base, status: 'emulated', kind: 'not-native', reason: `'${program}' of the tools root is not an x86-64 ELF program` };
  if (scan.markers.length > 0) {
    const allowed = tripletAllowedReason(usrPath(program));
    const guard = allowed === null ? guardedTwin(usrPath(program)) : null;
    if (guard !== null) {
      return { ...base, status: 'substituted', kind: 'same', reason: `${sameReason(pkg.version, native.version)}; the root's own runs for ${guard.emulatedFor.map((p) => `'${p}'`).join(' ')}: it ${guard.why}` };
    }
    if (allowed === null) {
      return { ...base, status: 'emulated', kind: 'embeds-host', reason: `its read-only data names the host (${scan.markers.map((m) => `'${m}'`).join(', ')}) and the policy does not allow it` };
    }
    return { ...base, status: 'substituted', kind: 'same', reason: `${sameReason(pkg.version, native.version)}; allowed although it names the host: ${allowed}` };
  }
  return { ...base, status: 'substituted', kind: 'same', reason: sameReason(pkg.version, native.version) };
}

/** Programs of a package in the twinned directories, as dpkg recorded them, that are ELF files in the root. */
function programsOf(input: TwinInput, pkg: PackageFiles): { program: string; rootFile: string }[] {
  const seen = new Set<string>();
  const programs: { program: string; rootFile: string }[] = [];
  for (const file of pkg.files) {
    if (!TWIN_DIRS.some((dir) => file.startsWith(dir)) || file.slice(file.lastIndexOf('/') + 1) === '') continue;
    if (file.slice(0, file.lastIndexOf('/') + 1) !== TWIN_DIRS.find((dir) => file.startsWith(dir))) continue; // no subdirectories
    const rootFile = resolved(input.root, file);
    if (rootFile === null || seen.has(rootFile) || !input.isRootElf(rootFile)) continue;
    seen.add(rootFile);
    programs.push({ program: file, rootFile });
  }
  return programs;
}

export function planTwins(input: TwinInput): TwinPlan {
  const twins: TwinReport[] = [];
  const binds: AccelerateMount[] = [];
  /** Entries of HELPERS_DIR, which the /usr/lib shadow gets. */
  const helpers: AddedEntry[] = [];
  const targets: string[] = [];
  const perl = input.rootPackages.has('perl-base') ? perlProblem(input) : null;
  const preloads = preloadProblems(input);
  for (const { package: name } of TWIN_PACKAGES) {
    const pkg = input.rootPackages.get(name);
    if (pkg === undefined || pkg.architecture === 'all') continue;
    const native = input.toolsPackages.get(name);
    for (const { program, rootFile } of programsOf(input, pkg)) {
      const base = { package: name, program, rootVersion: pkg.version };
      const policy = emulatedPackageReason(name) ?? emulatedProgramReason(usrPath(program), name)
        ?? ((input.keepEmulated ?? []).includes(name) ? (input.keptEmulatedWhy ?? 'kept emulated on request (CROSSROOT_ACCELERATE_EMULATE)') : null);
      let report: TwinReport;
      if (policy !== null) report = { ...base, toolsVersion: native?.version ?? null, status: 'emulated', kind: 'policy', reason: `policy: ${policy}` };
      else if (native === undefined) report = { ...base, toolsVersion: null, status: 'emulated', kind: 'missing', reason: `no amd64 '${name}' ${pkg.version} in the tools root (missing in the suite?)` };
      else if (!sameSourceVersion(pkg.version, native.version)) {
        report = { ...base, toolsVersion: native.version, status: 'emulated', kind: 'version', reason: `version mismatch: root has '${pkg.version}', tools root '${native.version}'` };
      } else report = judgeProgram(input, pkg, native, program, perl);
      if (report.status === 'substituted' && preloads.length > 0) {
        report = { ...report, status: 'emulated', kind: 'preload', reason: `a preload library would be lost: ${preloads.join('; ')}` };
      }
      twins.push(report);
      if (report.status !== 'substituted') continue;
      const toolsFile = resolved(input.tools, program);
      if (toolsFile === null || targets.includes(rootFile)) continue;
      targets.push(rootFile);
      const why = `twin ${program} (${name} ${pkg.version})`;
      const guard = guardedTwin(usrPath(program));
      if (guard === null || input.scanNative(toolsFile)?.markers.length === 0) {
        binds.push({ kind: 'bind', source: hostPath(input.tools, toolsFile), target: rootFile, why });
        continue;
      }
      const wrapper = guardedWrapper(guard.emulatedFor, rootFile, hostPath(input.tools, toolsFile));
      helpers.push(...wrapper.entries);
      binds.push({ kind: 'bind', source: wrapper.script, target: rootFile, why: `${why}, guarded`, sourceInRoot: true });
    }
  }
  // Packages the policy keeps emulated as a whole, reported once each ('*': every program of it).
  for (const pkg of [...input.rootPackages.values()].sort((a, b) => (a.package < b.package ? -1 : 1))) {
    const policy = pkg.architecture === 'all' ? null : emulatedPackageReason(pkg.package);
    if (policy === null || TWIN_PACKAGES.some((entry) => entry.package === pkg.package)) continue;
    twins.push({ package: pkg.package, program: '*', status: 'emulated', kind: 'policy', reason: `policy: ${policy}`,
      rootVersion: pkg.version, toolsVersion: input.toolsPackages.get(pkg.package)?.version ?? null });
  }
  const perlTwin = twins.find((twin) => twin.status === 'substituted' && /\/perl$/.test(twin.program));
  if (perlTwin !== undefined) {
    helpers.push({ kind: 'script', path: `${HELPERS}/Config.pm`, text: perlConfigGuard(rootPerlConfigDir(input.multiarch)) });
    binds.push({ kind: 'bind', source: `${HELPERS_DIR}/Config.pm`, target: NATIVE_PERL_CONFIG, why: 'perl twin: the root\'s Config', sourceInRoot: true });
  }
  const usrLibEntries: AddedEntry[] = helpers.length === 0 ? [] : [{ kind: 'dir', path: HELPERS }, ...helpers];
  return { twins, usrLibEntries, binds, wanted: wantedToolsPackages(input.rootPackages, input.multiarch) };
}

/** HELPERS_DIR relative to /usr/lib (where the shadow's entries are). */
const HELPERS = HELPERS_DIR.slice('/usr/lib/'.length);

/**
 * A guarded twin's helper entries: the native program, the root's own (bound
 * from the root before the twins cover it) and the wrapper that picks one by
 * the arguments (policy.ts GUARDED_TWINS); `script` is the wrapper's path.
 */
function guardedWrapper(emulatedFor: readonly string[], rootFile: string, nativeFile: string): { entries: AddedEntry[]; script: string } {
  const name = rootFile.slice(rootFile.lastIndexOf('/') + 1);
  const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;
  const native = `${HELPERS}/${name}.native`;
  const emulated = `${HELPERS}/${name}.emulated`;
  const text = [
    '#!/bin/sh',
    `# crossroot run --accelerate: ${rootFile} natively, but the root's own for the options that read the host's paths.`,
    '# It exists only inside the run\'s private mount namespace.',
    'for arg do',
    '  case $arg in',
    `    ${emulatedFor.join('|')}) exec ${quote(`/usr/lib/${emulated}`)} "$@" ;;`,
    '  esac',
    'done',
    `exec ${quote(`/usr/lib/${native}`)} "$@"`,
    '',
  ].join('\n');
  return {
    entries: [
      { kind: 'file', path: native, source: nativeFile, from: 'host' },
      { kind: 'file', path: emulated, source: rootFile, from: 'root' },
      { kind: 'script', path: `${HELPERS}/${name}`, text },
    ],
    script: `${HELPERS_DIR}/${name}`,
  };
}

/** Where native perl reads Config.pm (perl-base's arch directory, in the mounted tools library directory). */
export const NATIVE_PERL_CONFIG = '/usr/lib/x86_64-linux-gnu/perl-base/Config.pm';

/** Where the root's perl keeps its Config (perl-base's arch directory). */
export function rootPerlConfigDir(multiarch: string): string {
  return `/usr/lib/${multiarch}/perl-base`;
}

/**
 * The Config.pm the native perl twin loads instead of its own (PERL_GUARD):
 * the root's Config.pm, and its Config_heavy.pl and Config_git.pl (which
 * Config finds through @INC, where the native ones come first) served from
 * the root's directory by an @INC hook.
 */
export function perlConfigGuard(rootConfigDir: string): string {
  const quoted = `'${rootConfigDir.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  return [
    '# crossroot run --accelerate: native perl answers Config as the root\'s perl does.',
    '# Exists only inside the run\'s private mount namespace.',
    'package Config;',
    'BEGIN {',
    `  my $dir = ${quoted};`,
    '  unshift @INC, sub {',
    '    my (undef, $file) = @_;',
    '    return unless $file eq "Config_heavy.pl" || $file eq "Config_git.pl";',
    '    open(my $fh, "<", "$dir/$file") or return;',
    '    $INC{$file} = "$dir/$file";',
    '    return $fh;',
    '  };',
    '  my $loaded = do "$dir/Config.pm";',
    '  die "crossroot: accelerate: cannot load the root\'s Config ($dir/Config.pm): ", ($@ || $!), "\n" unless $loaded;',
    '}',
    '1;',
    '',
  ].join('\n');
}
