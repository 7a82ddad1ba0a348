// What `run --accelerate` may run natively besides the compiler, as data.
//
// A *twin* is the amd64 build of a root's program, from the same Debian
// version of the same package in the tools root (an amd64 root of the root's
// suite): a native `make 4.4.1-2` behaves as the root's `make 4.4.1-2` unless
// the program reports or embeds the machine it runs on. Those stay emulated,
// each entry below says why; and any twin whose read-only data names the host
// (HOST_MARKERS) is refused unless TRIPLET_ALLOWED names it with a reason.
// Every decision is shown by `crossroot accelerate ROOT`.

/** Packages whose programs may be twinned (the root's arch-dependent packages only; 'all' packages are the same file). */
export const TWIN_PACKAGES = [
  { package: 'dash', why: '/bin/sh of configure scripts and make recipes' },
  { package: 'bash', why: 'shell of scripts and of libtool' },
  { package: 'make', why: 'the build driver' },
  { package: 'sed', why: 'text filters of configure, libtool and debhelper' },
  { package: 'grep', why: 'text filters of configure, libtool and debhelper' },
  { package: 'gawk', why: 'awk of configure and libtool' },
  { package: 'mawk', why: 'awk of configure and libtool' },
  { package: 'coreutils', why: 'the file and text utilities every script runs' },
  { package: 'findutils', why: 'find and xargs of debhelper' },
  { package: 'diffutils', why: 'diff and cmp of tests and configure' },
  { package: 'm4', why: 'autoconf and autom4te' },
  { package: 'patch', why: 'quilt and dpkg-source' },
  { package: 'tar', why: 'archives of dpkg-source and tests' },
  { package: 'gzip', why: 'compression (dh_compress, dpkg-source)' },
  { package: 'xz-utils', why: 'compression (dpkg-source)' },
  { package: 'bzip2', why: 'compression of sources' },
  { package: 'zstd', why: 'compression of sources' },
  { package: 'bison', why: 'parser generator' },
  { package: 'flex', why: 'scanner generator' },
  { package: 'gettext', why: 'msgfmt, msgmerge, xgettext' },
  { package: 'gettext-base', why: 'gettext, envsubst' },
  { package: 'perl-base', why: 'perl: autoconf, automake, debhelper, dpkg-dev (Config guarded, see PERL_GUARD)' },
  { package: 'perl', why: 'perl5.x and the tools of the perl package' },
  { package: 'debianutils', why: 'run-parts, which, tempfile' },
  { package: 'file', why: 'dh_strip, dh_shlibdeps and libtool ask it about every file (magic data is the same file)' },
  {
    package: 'dwz',
    why: 'dh_dwz\'s DWARF compressor: it reads and writes the root\'s ELF files by their own headers (libelf), as readelf does; its output on arm64 objects, -m multifile included, is byte-identical to the root\'s own (libogg\'s -dbgsym)',
  },
  {
    package: 'cmake',
    why: 'the build driver of cmake packages (cmake, ctest, cpack): CMAKE_HOST_SYSTEM_PROCESSOR is what `uname -m` prints, and uname stays emulated; the platform files are cmake-data\'s, the same file for every architecture',
  },
  {
    package: 'dpkg',
    why: 'dpkg-deb packs every .deb of a build and unpacks every package dpkg installs (tar and xz inside it); update-alternatives, which maintainer scripts run, manages links and text files and knows no architecture',
    only: ['/usr/bin/dpkg-deb', '/usr/bin/update-alternatives'],
    othersWhy: 'dpkg and dpkg-query judge packages against the architecture compiled into libdpkg (dpkg --print-architecture)',
  },
] as const satisfies readonly { package: string; why: string; only?: readonly string[]; othersWhy?: string }[];

export type TwinPackage = (typeof TWIN_PACKAGES)[number]['package'];

/** Programs that stay emulated although their package is twinned (and every program of a package with `only` but those). */
export const EMULATED_PROGRAMS = [
  { program: '/usr/bin/uname', why: 'reports the machine: uname(2) says x86_64 natively' },
  { program: '/usr/bin/arch', why: 'reports the machine: uname(2) says x86_64 natively' },
  { program: '/usr/bin/nproc', why: 'reports the CPUs QEMU shows the root, which may differ from the host\'s' },
  { program: '/usr/bin/stdbuf', why: 'preloads libstdbuf.so of its own architecture into the program it runs' },
  { program: '/usr/bin/h2ph', why: 'writes .ph files from the machine\'s C headers and Config' },
  { program: '/usr/bin/perlivp', why: 'checks perl\'s own installation (Config)' },
] as const;

/** Packages that must stay emulated, never twinned, with why (the checked list of the design). */
export const EMULATED_PACKAGES = [
  { package: 'dpkg-dev', why: 'dpkg-architecture asks dpkg for the build and host architectures' },
  { package: 'pkgconf', why: 'pkg-config\'s search path (/usr/lib/<multiarch>/pkgconfig) is compiled in' },
  { package: 'pkgconf-bin', why: 'pkg-config\'s search path is compiled in' },
  { package: 'python3-minimal', why: 'platform.machine() and sysconfig report the machine' },
  { package: 'gcc', why: 'the drivers report -dumpmachine and pick the target\'s specs (cc1/as/ld behind them are the cross tools)' },
] as const;

/**
 * Strings that show a program embeds the machine it was built for: a twin
 * whose read-only data (.rodata) holds one is refused unless named below.
 */
export const HOST_MARKERS = ['x86_64-linux-gnu', 'x86_64-pc-linux-gnu', 'amd64'] as const;

/** Twins that embed a host marker and are still run natively: the reason says where it shows and why builds do not see it. */
export const TRIPLET_ALLOWED = [
  { program: '/usr/bin/make', why: 'embeds MAKE_HOST (x86_64-pc-linux-gnu), shown only by `make --version` and $(MAKE_HOST), which Debian builds do not read' },
  { program: '/usr/bin/bash', why: 'embeds MACHTYPE/HOSTTYPE (x86_64-pc-linux-gnu), read only by scripts that test $MACHTYPE; configure and libtool use uname and config.guess, emulated' },
  { program: '/usr/bin/perl', why: 'embeds its @INC (/usr/lib/x86_64-linux-gnu/perl*), where the tools root\'s same-version modules are; Config is guarded (PERL_GUARD)' },
  { program: '/usr/bin/dpkg-deb', why: 'embeds libdpkg\'s native architecture (amd64) and its --version text; building and unpacking an archive name its architecture from the control file, never the native one' },
] as const;

/** The directory of crossroot's helpers inside a run (in the /usr/lib shadow): the perl guard (PERL_GUARD), the guarded twins' wrappers. */
export const HELPERS_DIR = '/usr/lib/crossroot-accelerate';

/**
 * Twins that embed a host marker which only some options read: a wrapper
 * over the root's program runs the root's own (emulated) when an argument
 * matches one of `emulatedFor` (sh case patterns; bundled short options
 * included, so a false match only costs speed), and the twin otherwise.
 */
export const GUARDED_TWINS = [
  {
    program: '/usr/bin/msgfmt',
    emulatedFor: ['--j*', '--cs*', '-j*', '-[!-]*j*'],
    why: "names /usr/lib/x86_64-linux-gnu(/gettext) only for its Java and C# outputs (--java, --csharp, --csharp-resources), where it finds gettext's helpers; .mo output never reads it",
  },
  {
    program: '/usr/bin/msgunfmt',
    emulatedFor: ['--j*', '--cs*', '-j*', '-[!-]*j*'],
    why: "names /usr/lib/x86_64-linux-gnu(/gettext) only for reading Java and C# catalogs (--java, --csharp, --csharp-resources); .mo input never reads it",
  },
] as const;

/**
 * Native perl's own Config says x86_64 ($Config{archname}
 * x86_64-linux-gnu-thread-multi, vendorarch /usr/lib/x86_64-linux-gnu/perl5):
 * dh_fixperms, dh_perl, Dpkg::Compression, File::Copy and MakeMaker read it.
 * In the run, the twin's Config.pm is covered by one that loads the root's
 * Config (Config.pm, Config_heavy.pl, Config_git.pl of the root's perl-base):
 * native perl then answers Config exactly as the root's perl does.
 * Limitation, by design loud: a build of perl XS modules whose tests load the
 * just-built (foreign) .so into the native perl fails ("wrong ELF class");
 * such builds run with CROSSROOT_ACCELERATE_EMULATE=perl-base,perl
 * (packages to keep emulated, comma-separated).
 */
export const PERL_GUARD = {
  why: 'native perl answers Config with the root\'s Config',
} as const;

/**
 * LD_PRELOAD libraries of the root: a native twin loads only a native build.
 * When the root has the package, the tools root gets the same version and the
 * library is linked into its default library directory (the native loader
 * finds the bare name the root's scripts put in LD_PRELOAD); when the tools
 * root cannot, no twin runs at all (a twin must never silently lose the
 * preload: fakeroot's would make dh_fixperms' chown real).
 */
export const PRELOAD_LIBRARIES = [
  { package: 'libfakeroot', library: 'libfakeroot/libfakeroot-sysv.so', name: 'libfakeroot-sysv.so', why: 'fakeroot (dpkg-buildpackage\'s rootless builds)', sameAbi: true },
  { package: 'libfakeroot', library: 'libfakeroot/libfakeroot-tcp.so', name: 'libfakeroot-tcp.so', why: 'fakeroot-tcp', sameAbi: true },
  { package: 'libeatmydata1', library: 'libeatmydata.so', name: 'libeatmydata.so', why: 'eatmydata', sameAbi: false },
] as const;

/**
 * libfakeroot talks to the root's (emulated) faked with C structs in the
 * machine's own layout (long mtype, 64-bit fields, their alignment and byte
 * order): a native x86-64 libfakeroot can agree with the root's faked only
 * when the root is 64-bit little-endian too (measured: arm64, a faked chown
 * seen by native stat). Elsewhere (armhf, armel, i386, s390x) the root's
 * fakeroot keeps every twin emulated: the safe side, not proven broken.
 */
export const SAME_ABI_AS_NATIVE = ['arm64', 'ppc64el', 'riscv64', 'mips64el', 'loong64'] as const;

export function sameAbiAsNative(debianArch: string): boolean {
  return (SAME_ABI_AS_NATIVE as readonly string[]).includes(debianArch);
}

/** Directories whose programs are twinned (dpkg's paths, before merged-/usr resolution). */
export const TWIN_DIRS = ['/usr/bin/', '/usr/sbin/', '/bin/', '/sbin/'] as const;

export function emulatedProgramReason(program: string, pkg?: string): string | null {
  const partly = TWIN_PACKAGES.find((entry) => entry.package === pkg && 'only' in entry);
  if (partly !== undefined && 'only' in partly && !(partly.only as readonly string[]).includes(program)) return partly.othersWhy;
  return EMULATED_PROGRAMS.find((entry) => entry.program === program)?.why ?? null;
}

export function emulatedPackageReason(pkg: string): string | null {
  if (/^python3\.\d+(?:-minimal)?$/.test(pkg)) return 'platform.machine() and sysconfig report the machine';
  if (/^(?:gcc|g\+\+|cpp)-\d+$/.test(pkg)) return 'the drivers report -dumpmachine and pick the target\'s specs (cc1/as/ld behind them are the cross tools)';
  return EMULATED_PACKAGES.find((entry) => entry.package === pkg)?.why ?? null;
}

/** The guard of a twin that embeds a host marker only some options read, or null. */
export function guardedTwin(program: string): (typeof GUARDED_TWINS)[number] | null {
  return GUARDED_TWINS.find((entry) => entry.program === program) ?? null;
}

export function tripletAllowedReason(program: string): string | null {
  // /usr/bin/perl5.40.1 (package perl) is the same program as /usr/bin/perl (perl-base).
  const name = /^\/usr\/bin\/perl5\.\d+\.\d+$/.test(program) ? '/usr/bin/perl' : program;
  return TRIPLET_ALLOWED.find((entry) => entry.program === name)?.why ?? null;
}

/** The host markers found in a text (latin1 of a section). */
export function hostMarkersIn(text: string): string[] {
  return HOST_MARKERS.filter((marker) => text.includes(marker));
}

/** The packages named in CROSSROOT_ACCELERATE_EMULATE ('perl-base,perl'). */
export function parseKeepEmulated(value: string | undefined): string[] {
  return (value ?? '').split(',').map((name) => name.trim()).filter((name) => /^[a-z0-9][a-z0-9+.-]*$/.test(name));
}
