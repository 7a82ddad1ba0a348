// `crossroot doctor`: facts about the machine in, checks out. Each check has a
// stable id, a severity, a message and a fix; checks that a Debian package
// fixes name it, for `doctor --fix`. Pure: runner/doctor.ts gathers the facts.
import type { ArchName } from '../arch/arch.ts';
import { releaseAtLeast } from './kernel-release.ts';
import { unmountedVerdict } from '../binfmt/mount-state.ts';
import { isAtOrUnder, mountPoints } from './mount-table.ts';
import type { IdRange } from '../users/subordinate-ids.ts';

export type DoctorSeverity = 'error' | 'warning' | 'info';

export interface DoctorCheck {
  readonly id: string;
  readonly ok: boolean;
  readonly severity: DoctorSeverity;
  readonly message: string;
  readonly fix: string | null;
  /** Debian packages that fix it (doctor --fix installs them). */
  readonly packages: readonly string[];
}

export { parseSubIds, type IdRange } from '../users/subordinate-ids.ts';

export interface DoctorFacts {
  readonly kernelRelease: string;
  readonly binfmt: {
    readonly path: string;
    readonly mounted: boolean;
    /** The instance's status switch; null when not mounted. */
    readonly enabled: boolean | null;
    readonly namespace: 'host' | 'private';
  };
  readonly userns: {
    /** /proc/sys/user/max_user_namespaces; null when unreadable. */
    readonly maxUserNamespaces: number | null;
    /** kernel.unprivileged_userns_clone (Debian/Ubuntu patch); null when the kernel has no such switch. */
    readonly unprivilegedClone: number | null;
    /** kernel.apparmor_restrict_unprivileged_userns (Ubuntu 23.10+); null when absent. */
    readonly apparmorRestrict: number | null;
  };
  readonly euid: number;
  /** The user whose subordinate ids matter: the effective uid and its passwd name (as for run and create). */
  readonly user: { readonly name: string | null; readonly uid: number };
  readonly subuid: readonly IdRange[];
  readonly subgid: readonly IdRange[];
  readonly emulators: readonly { readonly arch: ArchName; readonly path: string; readonly static: boolean }[];
  /** uname -m. */
  readonly machine: string;
  /** On arm64: whether the CPU runs 32-bit arm programs natively; null when unknown or not arm64. */
  readonly aarch32: boolean | null;
  /** Tool name -> its path on PATH, or null. */
  readonly tools: Readonly<Record<string, string | null>>;
  /** Mount points left by earlier runs. */
  readonly leakedMounts: readonly string[];
  /** crossroot's own run helper (PID 1 of every run), its path when built, null when missing; undefined: not looked at. */
  readonly runHelper?: string | null | undefined;
}

/** Kernel features crossroot depends on, with the first release that has them. */
export const KERNEL_FEATURES = [
  { id: 'kernel-fix-binary', major: 4, minor: 8, severity: 'error', what: 'flag F (interpreter opened at registration, so emulation works in roots and containers)' },
  { id: 'kernel-preserve-argv0', major: 5, minor: 12, severity: 'warning', what: 'flag P visible to QEMU through AT_FLAGS (argv[0] preserved)' },
  { id: 'kernel-private-instances', major: 6, minor: 7, severity: 'info', what: 'private binfmt_misc instances in user namespaces (rootless registration, isolated tests)' },
] as const;


/** Ranges this small cannot hold a Debian root's system users (nobody is 65534). */
const MIN_SUBORDINATE_IDS = 65536;

function check(id: string, ok: boolean, severity: DoctorSeverity, message: string, fix: string | null = null, packages: readonly string[] = []): DoctorCheck {
  return { id, ok, severity, message, fix: ok ? null : fix, packages: ok ? [] : packages };
}

const TOOLS = [
  { tool: 'unshare', severity: 'error', packages: ['util-linux'], why: 'new namespaces for roots and probes' },
  { tool: 'mount', severity: 'error', packages: ['mount'], why: 'mounts inside roots' },
  { tool: 'chroot', severity: 'error', packages: ['coreutils'], why: 'the empty-root probes' },
  { tool: 'newuidmap', severity: 'warning', packages: ['uidmap'], why: 'rootless roots with more than one uid' },
  { tool: 'newgidmap', severity: 'warning', packages: ['uidmap'], why: 'rootless roots with more than one gid' },
] as const;

/** The kernel and the features its version implies. */
function kernelChecks(facts: DoctorFacts, checks: DoctorCheck[]): void {
  const kernel = facts.kernelRelease;
  checks.push(check('kernel-version', true, 'info', `Linux ${kernel}`));
  for (const feature of KERNEL_FEATURES) {
    const ok = releaseAtLeast(kernel, feature.major, feature.minor);
    checks.push(check(feature.id, ok, feature.severity,
      ok ? `${feature.what}: supported (Linux >= ${feature.major}.${feature.minor})`
        : `${feature.what}: needs Linux ${feature.major}.${feature.minor}, this is ${kernel}`,
      `upgrade the kernel to ${feature.major}.${feature.minor} or newer`));
  }
}

/** The host's binfmt_misc mount; "not mounted" weighs what binfmt status says it weighs (core/binfmt/mount-state.ts). */
function binfmtChecks(facts: DoctorFacts, checks: DoctorCheck[]): void {
  const { binfmt } = facts;
  const unmounted = unmountedVerdict(binfmt.path, facts.kernelRelease);
  checks.push(check('binfmt-mounted', binfmt.mounted, unmounted.severity,
    binfmt.mounted ? `binfmt_misc is mounted at '${binfmt.path}' (${binfmt.namespace} instance)` : unmounted.message,
    unmounted.fix));
  if (binfmt.mounted) {
    checks.push(check('binfmt-enabled', binfmt.enabled === true, 'error',
      binfmt.enabled === true ? 'binfmt_misc is enabled' : 'binfmt_misc is disabled: no entry is used',
      `echo 1 > ${binfmt.path}/status`));
  }
}

/** User namespaces, for rootless use, and the subordinate ids of the user. */
function usernsChecks(facts: DoctorFacts, checks: DoctorCheck[]): void {
  const asRoot = facts.euid === 0;
  const { userns } = facts;
  const rootlessSeverity: DoctorSeverity = asRoot ? 'info' : 'error';
  checks.push(check('userns-max', userns.maxUserNamespaces === null || userns.maxUserNamespaces > 0, 'error',
    userns.maxUserNamespaces === null ? 'user namespaces: /proc/sys/user/max_user_namespaces is unreadable'
      : userns.maxUserNamespaces > 0 ? `user namespaces allowed (max_user_namespaces ${userns.maxUserNamespaces})`
        : 'user namespaces are disabled (max_user_namespaces is 0)',
    'sysctl -w user.max_user_namespaces=15000'));
  if (userns.unprivilegedClone !== null) {
    checks.push(check('userns-unprivileged', userns.unprivilegedClone !== 0, rootlessSeverity,
      userns.unprivilegedClone !== 0 ? 'unprivileged user namespaces allowed (kernel.unprivileged_userns_clone 1)'
        : 'unprivileged user namespaces are off (kernel.unprivileged_userns_clone 0): rootless use fails',
      'sysctl -w kernel.unprivileged_userns_clone=1'));
  }
  if (userns.apparmorRestrict !== null) {
    checks.push(check('userns-apparmor', userns.apparmorRestrict === 0, asRoot ? 'info' : 'warning',
      userns.apparmorRestrict === 0 ? 'AppArmor does not restrict unprivileged user namespaces'
        : 'AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns 1): rootless use fails without a profile',
      'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or add an AppArmor profile allowing userns for crossroot'));
  }

  const who = facts.user.name ?? String(facts.user.uid);
  for (const [id, file, ranges] of [['subuid', '/etc/subuid', facts.subuid], ['subgid', '/etc/subgid', facts.subgid]] as const) {
    const total = ranges.reduce((sum, range) => sum + range.count, 0);
    const needed = facts.user.uid !== 0;
    const ok = !needed || total >= MIN_SUBORDINATE_IDS;
    checks.push(check(id, ok, needed ? 'warning' : 'info',
      !needed ? `${id}: not needed for root`
        : total === 0 ? `${file} has no range for '${who}': rootless roots can map only one id`
          : `${file} gives '${who}' ${total} ids${ok ? '' : `, fewer than ${MIN_SUBORDINATE_IDS}`}`,
      `usermod --add-${id}s 100000-165535 ${who}`, ['uidmap']));
  }
}

/** QEMU emulators and 32-bit arm on arm64 hosts. */
function emulatorChecks(facts: DoctorFacts, checks: DoctorCheck[]): void {
  const staticCount = facts.emulators.filter((emulator) => emulator.static).length;
  checks.push(check('emulators-present', facts.emulators.length > 0, 'warning',
    facts.emulators.length > 0 ? `${facts.emulators.length} QEMU emulators found (${staticCount} static)` : 'no QEMU user-mode emulator found',
    'apt-get install qemu-user-static', ['qemu-user-static']));
  const dynamic = facts.emulators.filter((emulator) => !emulator.static);
  if (facts.emulators.length > 0) {
    checks.push(check('emulators-static', dynamic.length === 0, 'warning',
      dynamic.length === 0 ? 'every emulator found is statically linked'
        : `dynamically linked emulators (unusable with F inside roots): ${dynamic.map((emulator) => emulator.path).join(', ')}`,
      'apt-get install qemu-user-static', ['qemu-user-static']));
  }

  const onArm64 = facts.machine === 'aarch64' || facts.machine === 'arm64';
  checks.push(check('aarch32', !onArm64 || facts.aarch32 !== false, 'info',
    !onArm64 ? `n/a: the host is ${facts.machine}, not arm64`
      : facts.aarch32 === null ? 'AArch32: unknown whether this CPU runs 32-bit arm natively'
        : facts.aarch32 ? 'AArch32: the CPU runs 32-bit arm programs natively'
          : 'AArch32: the CPU cannot run 32-bit arm programs: register qemu-arm for armhf/armel',
    'crossroot binfmt install arm', ['qemu-user-static']));
}

/** The programs crossroot calls, its run helper, and mounts left behind. */
function toolChecks(facts: DoctorFacts, checks: DoctorCheck[]): void {
  for (const tool of TOOLS) {
    const path = facts.tools[tool.tool] ?? null;
    checks.push(check(`tool-${tool.tool}`, path !== null, tool.severity,
      path !== null ? `${tool.tool}: ${path}` : `${tool.tool} is not on PATH (needed for ${tool.why})`,
      `apt-get install ${tool.packages.join(' ')}`, tool.packages));
  }
  if (facts.runHelper !== undefined) {
    checks.push(check('run-helper', facts.runHelper !== null, 'error',
      facts.runHelper !== null ? `run helper: ${facts.runHelper}` : "crossroot's run helper (PID 1 of every run) is not built",
      'npm run build (it compiles src/runner/enter/crossroot-enter.c with gcc)', ['gcc', 'libc6-dev']));
  }
  const bootstrapper = facts.tools['mmdebstrap'] ?? facts.tools['debootstrap'] ?? null;
  checks.push(check('tool-bootstrap', bootstrapper !== null, 'warning',
    bootstrapper !== null ? `root builder: ${bootstrapper}` : 'neither mmdebstrap nor debootstrap is on PATH (needed to create Debian roots)',
    'apt-get install mmdebstrap', ['mmdebstrap']));

  checks.push(check('leaked-mounts', facts.leakedMounts.length === 0, 'warning',
    facts.leakedMounts.length === 0 ? 'no mounts left by earlier runs'
      : `mounts left by earlier runs: ${facts.leakedMounts.join(', ')}`,
    `umount --lazy ${facts.leakedMounts.join(' ')}`));
}

export function doctorChecks(facts: DoctorFacts): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  for (const group of [kernelChecks, binfmtChecks, usernsChecks, emulatorChecks, toolChecks]) group(facts, checks);
  return checks;
}

/** ok unless an error-severity check failed. */
export function doctorOk(checks: readonly DoctorCheck[]): boolean {
  return checks.every((item) => item.ok || item.severity !== 'error');
}

/** The Debian packages that fix the failed checks, once each, in check order. */
export function packagesToInstall(checks: readonly DoctorCheck[]): string[] {
  return [...new Set(checks.filter((item) => !item.ok).flatMap((item) => item.packages))];
}

/** Mount points of /proc/self/mountinfo text that earlier crossroot runs may have left. */
export function leakedMountPoints(mountinfo: string, managedDirs: readonly string[] = []): string[] {
  return mountPoints(mountinfo, 'mountinfo')
    .filter((point) => point.includes('crossroot') || managedDirs.some((dir) => isAtOrUnder(point, dir)));
}
