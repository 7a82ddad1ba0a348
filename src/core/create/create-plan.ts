// What `crossroot create` runs, as data: the argv of the bootstrap tool
// (mmdebstrap by default, debootstrap for comparison), the private binfmt_misc
// entry that runs the foreign maintainer scripts, and where the shared package
// cache lives. Pure: the runner supplies paths, host facts and the clock.
//
// Why mmdebstrap in root mode inside our own user namespace: measured on the
// development machine (see bench/create.ts), it is faster than debootstrap
// (foreign + second stage), it bind-mounts device nodes when mknod is refused
// (it is, in a user namespace), and it reads /proc/sys/fs/binfmt_misc to see
// that our F entry makes copying qemu into the root unnecessary.
import { debianPortFor, resolveArch } from '../arch/arch.ts';
import type { Architecture } from '../arch/arch.ts';
import { ownRegisterString } from '../binfmt/own-entries.ts';
import { CrossrootError, UsageError } from '../errors.ts';

/** Debian releases crossroot knows, oldest first, with the ports each one has. */
export const DEBIAN_SUITES = [
  { suite: 'bullseye', version: '11', archs: ['amd64', 'arm64', 'armel', 'armhf', 'i386', 'mips64el', 'mipsel', 'ppc64el', 's390x'] },
  { suite: 'bookworm', version: '12', archs: ['amd64', 'arm64', 'armel', 'armhf', 'i386', 'mips64el', 'mipsel', 'ppc64el', 's390x'] },
  { suite: 'trixie', version: '13', archs: ['amd64', 'arm64', 'armel', 'armhf', 'i386', 'ppc64el', 'riscv64', 's390x'] },
  { suite: 'forky', version: '14', archs: ['amd64', 'arm64', 'armhf', 'i386', 'ppc64el', 'riscv64', 's390x'] },
  { suite: 'sid', version: 'unstable', archs: ['amd64', 'arm64', 'armel', 'armhf', 'i386', 'loong64', 'ppc64el', 'riscv64', 's390x'] },
] as const;

/** Aliases users type for the suites above. */
export const SUITE_ALIASES: Readonly<Record<string, string>> = {
  oldoldstable: 'bullseye', oldstable: 'bookworm', stable: 'trixie', testing: 'forky', unstable: 'sid',
};

/** The managed default root: the current Debian stable (13 since August 2025). */
export const DEFAULT_SUITE = 'trixie';

/** The suite for a port's default root: stable, or the newest release that still has the port (mipsel, mips64el: bookworm). */
export function defaultSuiteFor(debianArch: string): string {
  const newest = [...DEBIAN_SUITES].reverse().find((entry) =>
    entry.suite !== 'sid' && (entry.archs as readonly string[]).includes(debianArch)
    && DEBIAN_SUITES.findIndex((candidate) => candidate.suite === entry.suite) <= DEBIAN_SUITES.findIndex((candidate) => candidate.suite === DEFAULT_SUITE));
  return newest?.suite ?? DEFAULT_SUITE;
}
export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

/** mmdebstrap's package-set variants (debootstrap knows minbase, buildd and the default). */
export const VARIANTS = ['extract', 'custom', 'essential', 'apt', 'required', 'minbase', 'buildd', 'important', 'debootstrap', 'standard'] as const;
export type Variant = (typeof VARIANTS)[number];
export const DEFAULT_VARIANT: Variant = 'minbase';

export const BOOTSTRAP_TOOLS = ['mmdebstrap', 'debootstrap'] as const;
export type BootstrapTool = (typeof BOOTSTRAP_TOOLS)[number];

/** The package list a managed root adds: a C toolchain, since cross compiling is the point. */
export const TOOLCHAIN_PACKAGES = ['build-essential'] as const;

/** The marker that makes a directory a finished crossroot root, relative to the root. */
/**
 * Files a finished root gets when the bootstrap left them out, so that a run
 * can mount the host's resolv.conf and hosts over files that exist: a run
 * never adds entries to a root, and a mount point the root lacks costs a
 * shadow of its directory (here /etc), in which new entries do not persist.
 */
export const RUN_MOUNT_POINT_FILES: readonly { readonly path: string; readonly text: string }[] = [
  { path: 'etc/hosts', text: '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n' },
  { path: 'etc/resolv.conf', text: '' },
];

export const MARKER_DIR = '.crossroot';
export const MARKER_FILE = '.crossroot/root.json';
/** Suffix of the sibling directory a root is built in before it is renamed into place. */
export const PARTIAL_INFIX = '.crossroot-partial-';

export interface RootMarker {
  readonly format: 1;
  readonly arch: string;
  readonly debianArch: string;
  readonly suite: string;
  readonly variant: string;
  readonly includes: readonly string[];
  readonly mirror: string | null;
  readonly tool: BootstrapTool | 'tar' | 'image';
  /** ISO 8601. */
  readonly created: string;
  /** Host uid that owns the tree (0 for root-made roots); uid 0 inside the root maps to it. */
  readonly ownerUid: number;
}

/** Parses root.json's text; null when it is not a crossroot marker. */
export function parseMarker(text: string): RootMarker | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  if (record['format'] !== 1 || typeof record['arch'] !== 'string' || typeof record['suite'] !== 'string'
    || typeof record['created'] !== 'string' || typeof record['tool'] !== 'string') return null;
  return {
    format: 1,
    arch: record['arch'],
    debianArch: typeof record['debianArch'] === 'string' ? record['debianArch'] : '',
    suite: record['suite'],
    variant: typeof record['variant'] === 'string' ? record['variant'] : '',
    includes: Array.isArray(record['includes']) ? record['includes'].filter((item): item is string => typeof item === 'string') : [],
    mirror: typeof record['mirror'] === 'string' ? record['mirror'] : null,
    tool: record['tool'] === 'debootstrap' || record['tool'] === 'tar' || record['tool'] === 'image' ? record['tool'] : 'mmdebstrap',
    created: record['created'],
    ownerUid: typeof record['ownerUid'] === 'number' ? record['ownerUid'] : 0,
  };
}

export interface TargetArch {
  readonly arch: Architecture;
  /** The Debian port: armhf or armel for 'arm', the single name elsewhere. */
  readonly debianArch: string;
}

/**
 * The architecture a user named, with its Debian port (debianPortFor: armel
 * for armel and ARMv5/v6 spellings such as linux/arm/v5, armhf for other ARM
 * names). Throws UNKNOWN_ARCH when Debian has no port.
 */
export function resolveTargetArch(name: string): TargetArch {
  const arch = resolveArch(name);
  const debianArch = debianPortFor(name);
  if (debianArch === null) {
    throw new CrossrootError('UNKNOWN_ARCH', `create root: architecture '${arch.name}' has no Debian port`, {
      hint: `Debian ports: ${[...new Set(DEBIAN_SUITES.flatMap((entry) => entry.archs))].sort().join(', ')}`,
    });
  }
  return { arch, debianArch };
}

/** The release codename a suite name means ('stable' -> 'bookworm'); other names pass through. */
export function canonicalSuite(suite: string): string {
  const key = suite.trim().toLowerCase();
  return SUITE_ALIASES[key] ?? key;
}

/**
 * Checks that the suite name is plausible and has the port. Unknown suites
 * (Ubuntu's, future ones) pass: the archive is the judge.
 */
export function checkSuite(suite: string, debianArch: string, typed = suite): void {
  if (!/^[a-z][a-z0-9.-]*$/.test(suite)) {
    throw new UsageError(`parse option '--suite': '${typed}' is not a suite name`, { hint: `use a Debian codename such as '${DEFAULT_SUITE}' or 'sid'` });
  }
  const known = DEBIAN_SUITES.find((entry) => entry.suite === suite);
  if (known !== undefined && !(known.archs as readonly string[]).includes(debianArch)) {
    const withPort = DEBIAN_SUITES.filter((entry) => (entry.archs as readonly string[]).includes(debianArch)).map((entry) => entry.suite);
    throw new CrossrootError('CREATE_FAILED', `create root: Debian '${suite}' has no '${debianArch}' port`, {
      hint: withPort.length > 0 ? `use --suite ${withPort.map((name) => `'${name}'`).join(' or ')}` : 'pick another architecture',
    });
  }
}

export function isVariant(value: string): value is Variant {
  return (VARIANTS as readonly string[]).includes(value);
}

/** Splits --include values ("a,b" "c") into a sorted, de-duplicated list; rejects names apt would not accept. */
export function parseIncludes(values: readonly string[]): string[] {
  const names = values.flatMap((value) => value.split(/[,\s]+/)).filter((name) => name !== '');
  for (const name of names) {
    // Package names, optionally with :arch, =version or /release (apt's syntax), nothing shell-like.
    if (!/^[a-z0-9][a-z0-9+.-]*(?::[a-z0-9-]+)?(?:[=/][A-Za-z0-9.+~:_-]+)?$/.test(name)) {
      throw new UsageError(`parse option '--include': '${name}' is not a package name`);
    }
  }
  return [...new Set(names)].sort();
}

/** The binfmt_misc entry name mmdebstrap looks for (/proc/sys/fs/binfmt_misc/qemu-<name>). */
export function binfmtEntryName(arch: Architecture): string {
  return arch.emulator === 'qemu-i386' ? 'qemu-i386' : `qemu-${arch.name}`;
}

/**
 * The register string of the private entry: F (the static emulator is opened
 * at registration, so it works in the chroot), P (QEMU >= 6.0 keeps argv[0],
 * so busybox-style multi-call programs work), C (setuid programs get their
 * credentials, which implies O).
 */
export function privateRegisterString(arch: Architecture, emulatorPath: string): string {
  return ownRegisterString(arch, emulatorPath, { P: true, O: true, C: true, F: true }, binfmtEntryName(arch));
}

/** Where the static emulator for `arch` lives on a Debian host. */
export function staticEmulatorPath(arch: Architecture): string {
  return `/usr/bin/${arch.emulator}-static`;
}

/** The shared package cache of one suite and port under the cache root. */
export function aptCacheDir(cacheRoot: string, suite: string, debianArch: string): string {
  return `${cacheRoot.replace(/\/+$/, '')}/apt/${suite}/${debianArch}`;
}

export interface BootstrapRequest {
  readonly tool: BootstrapTool;
  readonly target: TargetArch;
  readonly suite: string;
  readonly variant: Variant;
  readonly includes: readonly string[];
  readonly mirror: string;
  /** The directory the root is built in (the partial sibling). */
  readonly dir: string;
  /** Whether foreign binaries need emulation on this host (false: native or compatible). */
  readonly emulate: boolean;
  /** Keep apt's package lists so `apt-get install` works without an update first. */
  readonly keepLists: boolean;
  /** mmdebstrap only: the executable that puts the twins on after the essential phase and takes them off at the end (runner/create/twins-hook.ts). */
  readonly twinsHook?: string | null;
}

export interface BootstrapPlan {
  /** Commands in order, each an argv array, run inside the private namespace. */
  readonly commands: readonly (readonly string[])[];
  /** Register string of the private F entry, or null when no emulation is needed. */
  readonly register: string | null;
  /** Name of that entry. */
  readonly entryName: string | null;
  /** Root-relative directory the shared package cache is bind-mounted on during the bootstrap. */
  readonly cacheMountPoint: string;
  /** Root-relative files the plan leaves that must be removed when the bootstrap succeeded. */
  readonly removeAfter: readonly string[];
}

/** Whether mmdebstrap runs `path` as a hook itself (no shell metacharacters), not under sh. */
export function isPlainHookPath(path: string): boolean {
  return /^\/[A-Za-z0-9/._+-]+$/.test(path);
}

/** dpkg options used only while bootstrapping: no fsync per file (the tree is renamed into place when complete anyway). */
const BOOTSTRAP_DPKG_CONFIG = 'etc/dpkg/dpkg.cfg.d/99mmdebstrap';

/** The argv arrays that build a root (run inside the private namespace, as uid 0 there). */
export function planBootstrap(request: BootstrapRequest): BootstrapPlan {
  const { target, suite, variant, includes, mirror, dir } = request;
  const emulator = staticEmulatorPath(target.arch);
  const register = request.emulate ? privateRegisterString(target.arch, emulator) : null;
  const entryName = request.emulate ? binfmtEntryName(target.arch) : null;
  const cacheMountPoint = 'var/cache/apt/archives';
  if (request.tool === 'debootstrap') {
    if (!['minbase', 'buildd', 'debootstrap'].includes(variant)) {
      throw new UsageError(`plan debootstrap: it has no variant '${variant}'`, { hint: "use 'minbase' or 'buildd'" });
    }
    const first = ['debootstrap', '--foreign', `--arch=${target.debianArch}`,
      ...(variant === 'debootstrap' ? [] : [`--variant=${variant}`]),
      ...(includes.length > 0 ? [`--include=${includes.join(',')}`] : []),
      suite, dir, mirror];
    const second = ['chroot', dir, '/debootstrap/debootstrap', '--second-stage'];
    return { commands: [first, second], register, entryName, cacheMountPoint, removeAfter: [] };
  }
  const skips = [
    // Our F entry is the emulation; arch-test is not needed (nor installed on every host).
    ...(request.emulate ? ['check/qemu'] : []),
    // The partial directory already holds the cache mount point.
    'check/empty',
    // The cache is shared: keep what was downloaded, never `apt-get clean` it.
    'essential/unlink', 'cleanup/apt/cache',
    ...(request.keepLists ? ['cleanup/apt/lists'] : []),
  ];
  const argv = ['mmdebstrap', '--mode=root', `--variant=${variant}`, `--architectures=${target.debianArch}`,
    ...(includes.length > 0 ? [`--include=${includes.join(',')}`] : []),
    `--skip=${skips.join(',')}`,
    // Unsafe I/O while bootstrapping only: removed again before the root is finished.
    '--dpkgopt=force-unsafe-io',
    // A path without shell metacharacters: mmdebstrap executes it directly, with the root as $1.
    ...(request.twinsHook == null ? [] : [`--essential-hook=${request.twinsHook}`, `--customize-hook=${request.twinsHook}`]),
    '--verbose',
    suite, dir, mirror];
  return { commands: [argv], register, entryName, cacheMountPoint, removeAfter: [BOOTSTRAP_DPKG_CONFIG] };
}

/** Sibling directory a root for `dir` is built in ('/srv/a' -> '/srv/a.crossroot-partial-<tag>'). */
export function partialDirFor(dir: string, tag: string): string {
  return `${dir.replace(/\/+$/, '')}${PARTIAL_INFIX}${tag}`;
}

/** One progress event parsed from the bootstrap tool's output. */
export type ProgressEvent =
  | { readonly kind: 'stage'; readonly stage: string }
  | { readonly kind: 'download'; readonly name: string }
  | { readonly kind: 'unpack'; readonly name: string }
  | { readonly kind: 'setup'; readonly name: string }
  | { readonly kind: 'error'; readonly message: string };

/**
 * Reads one line of mmdebstrap --verbose / debootstrap / apt / dpkg output.
 * null for lines that carry no progress.
 */
export function parseProgressLine(line: string): ProgressEvent | null {
  const text = line.trim();
  let match = /^I: (.*?)(?:\.\.\.)?$/.exec(text);
  if (match?.[1] !== undefined) {
    // mmdebstrap's own stages ("running apt-get update...") and debootstrap's ("Retrieving Packages").
    // Hooks (crossroot's twins hook says what it did itself) and the final summary are no stages.
    if (/^(skipping|automatically chosen|finding correct|Checking|Validating|Found|Chosen|Resolving|Keyring|running --\w+-hook|success in)/i.test(match[1])) return null;
    if (/^Retrieving |^Extracting |^Unpacking |^Configuring /.test(match[1]) && !/^Retrieving (Release|InRelease|Packages)/.test(match[1])) {
      const [verb, name = ''] = match[1].split(' ');
      if (verb === 'Retrieving') return { kind: 'download', name };
      if (verb === 'Configuring') return { kind: 'setup', name };
      return { kind: 'unpack', name };
    }
    return { kind: 'stage', stage: match[1].replace(/\.+$/, '') };
  }
  match = /^(?:E|Error): (.*)$/.exec(text);
  if (match?.[1] !== undefined) return { kind: 'error', message: match[1] };
  match = /^Get:\d+ \S+ \S+ \S+ (\S+)/.exec(text);
  if (match?.[1] !== undefined) return { kind: 'download', name: match[1] };
  match = /^Unpacking (\S+)/.exec(text);
  if (match?.[1] !== undefined) return { kind: 'unpack', name: match[1].replace(/:.*$/, '') };
  match = /^Setting up (\S+)/.exec(text);
  if (match?.[1] !== undefined) return { kind: 'setup', name: match[1].replace(/:.*$/, '') };
  return null;
}

/** Running totals a progress display shows. */
export interface ProgressState {
  readonly stage: string;
  readonly downloaded: number;
  readonly unpacked: number;
  readonly configured: number;
  readonly current: string;
  readonly errors: readonly string[];
}

export const INITIAL_PROGRESS: ProgressState = { stage: 'starting', downloaded: 0, unpacked: 0, configured: 0, current: '', errors: [] };

export function advanceProgress(state: ProgressState, event: ProgressEvent): ProgressState {
  switch (event.kind) {
    case 'stage': return { ...state, stage: event.stage, current: '' };
    case 'download': return { ...state, downloaded: state.downloaded + 1, current: event.name };
    case 'unpack': return { ...state, unpacked: state.unpacked + 1, current: event.name };
    case 'setup': return { ...state, configured: state.configured + 1, current: event.name };
    case 'error': return { ...state, errors: [...state.errors, event.message] };
  }
}

/** One status line: "[ 42s] installing essential packages: 37 set up (libc6)". */
export function renderProgress(state: ProgressState, seconds: number, width = 100): string {
  const counts: string[] = [];
  if (state.downloaded > 0) counts.push(`${state.downloaded} downloaded`);
  if (state.unpacked > 0) counts.push(`${state.unpacked} unpacked`);
  if (state.configured > 0) counts.push(`${state.configured} set up`);
  const line = `[${String(Math.round(seconds)).padStart(4)}s] ${state.stage}`
    + (counts.length > 0 ? `: ${counts.join(', ')}` : '')
    + (state.current !== '' ? ` (${state.current})` : '');
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/**
 * The most useful one-line reason from a failed bootstrap's output: apt's
 * "Unable to locate package X", or the last E: line.
 */
export function failureReason(output: string): string | null {
  const lines = output.split('\n').map((line) => line.trim());
  const missing = lines.map((line) => /Unable to locate package (\S+)|Package '?([^' ]+)'? has no installation candidate|Couldn't find these debs: (.*)/.exec(line))
    .find((match) => match !== null);
  if (missing) return `package '${missing[1] ?? missing[2] ?? missing[3] ?? ''}' is not in the archive`;
  const errors = lines.filter((line) => /^E: /.test(line) && !/^E: (mmdebstrap|apt-get) .*failed|^E: run_chroot failed|^E: .*exited with exit code/.test(line));
  const last = errors.at(-1) ?? lines.filter((line) => /^E: /.test(line)).at(-1);
  return last === undefined ? null : last.replace(/^E: /, '');
}
