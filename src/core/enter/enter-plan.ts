// How a root is entered, as data (pure): options and facts in, an EnterPlan out.
// runner/enter.ts gathers the facts and executes the plan; runner/stage2.ts
// (PID 1 of the run's PID namespace) carries out `steps` in order, then runs
// `exec` and reaps it. DESIGN.md section 4 is the contract.
//
// Every in-root path is resolved the way a process chrooted in the root would
// resolve it (core/root-path.ts), against a model of the root AFTER the
// planned mounts: below a fresh tmpfs (/dev, /run) nothing exists but what the
// plan creates there. So a root whose etc/resolv.conf points into
// /run/systemd/resolve gets that file created in the run's own /run, and a
// symlink to a host path (/tmp/host/...) is re-rooted to ROOT/tmp/host/...:
// crossroot never creates, copies or mounts onto anything outside the root.
//
// Mount points that must be created on the root's own filesystem are of two
// kinds: API directories (proc, sys, dev, run) and --bind destinations stay
// (like any chroot tool's), placeholders for resolv.conf/hosts and for the
// emulator (bind and copy modes) are `temporary` and removed when the run ends.
import type { Architecture } from '../arch/arch.ts';
import type { BinfmtEntry } from '../binfmt/entry.ts';
import { ownRegisterString } from '../binfmt/own-entries.ts';
import { CrossrootError } from '../errors.ts';
import { resolveInRoot } from '../root/root-path.ts';
import type { RootReadlink } from '../root/root-path.ts';

export const EMULATION_MODES = ['private', 'host', 'bind', 'copy'] as const;
export type EmulationMode = (typeof EMULATION_MODES)[number];
export type EmulationChoice = EmulationMode | 'auto';

export function isEmulationChoice(value: string): value is EmulationChoice {
  return value === 'auto' || (EMULATION_MODES as readonly string[]).includes(value);
}

/** What the kernel and host offer for running the root's architecture. */
export interface EmulationFacts {
  /** The host CPU runs the root's binaries itself (amd64 or i386 on x86_64). */
  readonly native: boolean;
  /** null when a private binfmt_misc instance can be used; else why not. */
  readonly privateBlocker: string | null;
  /** The static emulator on the host for this architecture, or null. */
  readonly emulator: { readonly path: string; readonly realPath: string; readonly honoursP: boolean } | null;
  /** A dynamic emulator exists but no static one (for the hint). */
  readonly dynamicEmulatorOnly: string | null;
  /** The host's enabled entry that handles the architecture (newest first), or null. */
  readonly hostEntry: BinfmtEntry | null;
  /** For a host entry with F: whether its interpreter is static (null: unknown). */
  readonly hostInterpreterStatic: boolean | null;
  /** For a host entry without F: whether its interpreter path exists inside the root. */
  readonly hostInterpreterInRoot: boolean;
}

export interface EmulationDecision {
  readonly mode: EmulationMode | 'native';
  /** Why this mode (for --verbose and diagnostics). */
  readonly reason: string;
  /** A private binfmt_misc instance is mounted in the run (private, and bind/copy without a host entry). */
  readonly privateInstance: boolean;
  /** The register string written to the private instance, if any. */
  readonly register: string | null;
  /** bind/copy: where the emulator must appear inside the root (the entry's interpreter path). */
  readonly interpreterInRoot: string | null;
}

/** `/usr/bin/qemu-aarch64-static`: where the bind and copy modes put the emulator when no host entry says otherwise. */
export function conventionalInterpreter(arch: Pick<Architecture, 'emulator'>): string {
  return `/usr/bin/${arch.emulator}-static`;
}

function registerString(arch: Architecture, interpreter: string, fixBinary: boolean, preserveArgv0: boolean): string {
  // C (credentials from the binary, so sudo and su work) implies O.
  return ownRegisterString(arch, interpreter, { P: preserveArgv0, O: true, C: true, F: fixBinary });
}

const INSTALL_HINT = "install static emulators: 'apt-get install qemu-user-static'; 'crossroot doctor' shows what is missing";

/**
 * Chooses how foreign binaries of the root will run: `auto` takes the first
 * that works of private, host, bind, copy; a forced mode is checked and gives
 * EMULATION_UNAVAILABLE with a hint when it cannot work.
 */
export function chooseEmulation(choice: EmulationChoice, arch: Architecture, facts: EmulationFacts): EmulationDecision {
  if (facts.native) {
    return {
      mode: 'native', privateInstance: false, register: null, interpreterInRoot: null,
      reason: `the host runs ${arch.name} natively${choice === 'auto' ? '' : `; --emulation ${choice} has nothing to do`}`,
    };
  }
  const unavailable = (mode: EmulationMode, why: string, hint: string): CrossrootError =>
    new CrossrootError('EMULATION_UNAVAILABLE', `use emulation '${mode}' for '${arch.name}': ${why}`, { hint });
  const noEmulator = (): string => facts.dynamicEmulatorOnly !== null
    ? `only a dynamic emulator was found ('${facts.dynamicEmulatorOnly}'), and a root needs a static one`
    : `no static emulator '${arch.emulator}-static' was found`;
  const entry = facts.hostEntry;

  const tryPrivate = (): EmulationDecision | string => {
    if (facts.privateBlocker !== null) return facts.privateBlocker;
    if (facts.emulator === null) return noEmulator();
    return {
      mode: 'private', privateInstance: true, interpreterInRoot: null,
      register: registerString(arch, facts.emulator.path, true, facts.emulator.honoursP),
      reason: `a private binfmt_misc instance with '${facts.emulator.path}' (flags F and C), invisible to the host`,
    };
  };
  const tryHost = (): EmulationDecision | string => {
    if (entry === null) return `the host has no enabled binfmt_misc entry for '${arch.name}'`;
    if (entry.flags.F && facts.hostInterpreterStatic === false) {
      return `the host entry '${entry.name}' pins the dynamic interpreter '${entry.interpreter}' (flag F), which cannot load inside a root`;
    }
    if (!entry.flags.F && !facts.hostInterpreterInRoot) {
      return `the host entry '${entry.name}' has no flag F and its interpreter '${entry.interpreter}' is not inside the root`;
    }
    return {
      mode: 'host', privateInstance: false, register: null, interpreterInRoot: null,
      reason: `the host entry '${entry.name}' (${entry.flags.F ? 'flag F' : 'interpreter present in the root'})`,
    };
  };
  const tryPlaced = (mode: 'bind' | 'copy'): EmulationDecision | string => {
    if (facts.emulator === null) return noEmulator();
    const verb = mode === 'bind' ? 'bind-mounted read-only' : 'copied for the run';
    if (entry !== null) {
      return {
        mode, privateInstance: false, register: null, interpreterInRoot: entry.interpreter,
        reason: `'${facts.emulator.realPath}' ${verb} at '${entry.interpreter}', where the host entry '${entry.name}' looks for it`,
      };
    }
    if (facts.privateBlocker !== null) {
      return `the host has no binfmt_misc entry for '${arch.name}' and no private instance is possible (${facts.privateBlocker})`;
    }
    const interpreter = conventionalInterpreter(arch);
    return {
      mode, privateInstance: true, interpreterInRoot: interpreter,
      register: registerString(arch, interpreter, false, facts.emulator.honoursP),
      reason: `'${facts.emulator.realPath}' ${verb} at '${interpreter}', named by a private entry without flag F`,
    };
  };
  const attempts: Record<EmulationMode, () => EmulationDecision | string> = {
    private: tryPrivate, host: tryHost, bind: () => tryPlaced('bind'), copy: () => tryPlaced('copy'),
  };
  const hints: Record<EmulationMode, string> = {
    private: facts.emulator === null ? INSTALL_HINT : 'private instances need Linux >= 6.7 and user namespaces; try --emulation host, or run crossroot doctor',
    host: `register one: 'crossroot binfmt install ${arch.name}' (or --emulation private on Linux >= 6.7)`,
    bind: facts.emulator === null ? INSTALL_HINT : `register an entry: 'crossroot binfmt install ${arch.name}', or use --emulation private`,
    copy: facts.emulator === null ? INSTALL_HINT : `register an entry: 'crossroot binfmt install ${arch.name}', or use --emulation private`,
  };
  if (choice !== 'auto') {
    const result = attempts[choice]();
    if (typeof result === 'string') throw unavailable(choice, result, hints[choice]);
    return result;
  }
  const reasons: string[] = [];
  for (const mode of EMULATION_MODES) {
    const result = attempts[mode]();
    if (typeof result !== 'string') return result;
    reasons.push(`${mode}: ${result}`);
  }
  throw new CrossrootError('EMULATION_UNAVAILABLE', `run '${arch.name}' binaries: no emulation mode works (${reasons.join('; ')})`, {
    hint: facts.emulator === null ? INSTALL_HINT : hints.host,
  });
}

// ---------------------------------------------------------------------------
// Mounts and files

/** What a root-relative path is on disk (lstat: a symlink is 'link'). */
export type PathKind = 'dir' | 'file' | 'link' | 'other' | null;

export interface RootView {
  readonly readlink: RootReadlink;
  readonly kind: (rootRelativePath: string) => PathKind;
}

export type Stage2Step =
  | { readonly op: 'mkdir'; readonly path: string; readonly temporary: boolean; readonly optional?: boolean }
  | { readonly op: 'file'; readonly path: string; readonly temporary: boolean; readonly optional?: boolean }
  | { readonly op: 'symlink'; readonly path: string; readonly target: string }
  | { readonly op: 'copy'; readonly from: string; readonly path: string; readonly temporary: boolean }
  /** A new file with this content (acceleration: a wrapper script in a shadow directory being built). */
  | { readonly op: 'write'; readonly path: string; readonly text: string; readonly mode: number }
  | { readonly op: 'mount'; readonly source: string; readonly target: string; readonly fstype: string; readonly options: string; readonly what: string }
  | { readonly op: 'register'; readonly dir: string; readonly text: string };

export interface BindRequest {
  /** Host path (absolute, symlinks resolved by the caller: the user named it). */
  readonly source: string;
  /** Path inside the root. */
  readonly target: string;
  readonly sourceKind: 'dir' | 'file';
  readonly readOnly: boolean;
}

export interface IdentityFacts {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
}

export interface EnterPlanInput {
  /** Absolute host path of the root, symlinks resolved. */
  readonly rootDir: string;
  readonly view: RootView;
  readonly arch: Architecture;
  readonly emulation: EmulationDecision;
  /** The static emulator's real host path (bind and copy modes). */
  readonly emulatorPath: string | null;
  /** 32-bit personality for a natively run 32-bit root on a 64-bit host (uname -m: i686). */
  readonly personality: 'linux32' | null;
  /** Host files bound read-only over the root's, when they exist. */
  readonly hostResolvConf: string | null;
  readonly hostHosts: string | null;
  readonly hostDevices: readonly string[];
  /** The host terminal on stdin (/dev/pts/N), bound at /dev/console so that ttyname(3) and tty(1) find it; null when none. */
  readonly console: string | null;
  /** Entries of /proc made read-only in the run ('sys', and 'sysrq-trigger' where the kernel has it). */
  readonly procReadOnly: readonly string[];
  /** The host's mount points strictly below /sys, parents first (made read-only in the run too). */
  readonly sysSubmounts: readonly string[];
  /** Whether gid 5 (tty) is mapped in the run's user namespace (devpts gid=5). */
  readonly ttyGroupMapped: boolean;
  readonly binds: readonly BindRequest[];
  readonly workdir: string;
  readonly user: IdentityFacts;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface PlannedMount {
  readonly what: string;
  readonly target: string;
}

export interface EnterPlan {
  readonly rootDir: string;
  readonly arch: string;
  readonly emulation: EmulationDecision;
  readonly personality: 'linux32' | null;
  /** Done by stage 2, in order, before the command. */
  readonly steps: readonly Stage2Step[];
  /** The command chain stage 2 runs: [setarch ...] [setpriv ...] unshare --root ... -- argv. */
  readonly exec: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly warnings: readonly string[];
}

/** The mount options of a read-only bind (mount(8) remounts it read-only after binding). */
const BIND_RO = 'bind,ro';

/** Device nodes bound from the host into the run's /dev (mknod is refused in a user namespace). */
export const DEV_NODES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;

function parentOf(path: string): string {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}

function isUnder(path: string, dir: string): boolean {
  return dir === '/' ? true : path === dir || path.startsWith(`${dir}/`);
}

function join(rootDir: string, rootRelative: string): string {
  return rootRelative === '/' ? rootDir : `${rootDir}${rootRelative}`;
}

/**
 * The root as it will look while the plan runs: fresh tmpfs mounts hide what
 * is below them on disk, and entries the plan creates exist.
 */
class PlannedRoot {
  private readonly tmpfs: string[] = [];
  private readonly created = new Map<string, { kind: 'dir' | 'file' | 'link'; target?: string }>();

  constructor(private readonly view: RootView) {}

  addTmpfs(path: string): void {
    this.tmpfs.push(path);
  }

  isOnTmpfs(path: string): boolean {
    return this.tmpfs.some((dir) => isUnder(path, dir) && path !== dir);
  }

  readonly readlink = (path: string): string | null => {
    const made = this.created.get(path);
    if (made !== undefined) return made.kind === 'link' ? made.target ?? null : null;
    if (this.isOnTmpfs(path)) return null;
    return this.view.readlink(path);
  };

  kind(path: string): PathKind {
    const made = this.created.get(path);
    if (made !== undefined) return made.kind;
    if (this.tmpfs.includes(path)) return 'dir';
    if (this.isOnTmpfs(path)) return null;
    return this.view.kind(path);
  }

  record(path: string, kind: 'dir' | 'file' | 'link', target?: string): void {
    this.created.set(path, target === undefined ? { kind } : { kind, target });
  }
}

interface TargetResult {
  readonly path: string | null;
  readonly steps: Stage2Step[];
  readonly warning: string | null;
}

/**
 * Resolves `path` within the root and creates what is missing: parent
 * directories and the final entry (`want`). Returns the resolved
 * root-relative path, or null with a warning when the existing entry is of
 * the wrong kind.
 */
function ensureTarget(root: PlannedRoot, path: string, want: 'dir' | 'file', temporary: boolean, label: string, optional = false): TargetResult {
  const steps: Stage2Step[] = [];
  let resolved: string;
  try {
    resolved = resolveInRoot(path, root.readlink).path;
  } catch (error) {
    return { path: null, steps, warning: `${label}: ${error instanceof Error ? error.message : String(error)}; skipped` };
  }
  const parts = resolved.split('/').filter((part) => part !== '');
  let current = '';
  for (let index = 0; index < parts.length; index++) {
    current += `/${parts[index] ?? ''}`;
    const isFinal = index === parts.length - 1;
    const kind = root.kind(current);
    const wanted = isFinal ? want : 'dir';
    if (kind === null) {
      const onTmpfs = root.isOnTmpfs(current);
      const common = { path: current, temporary: temporary && !onTmpfs, ...(optional ? { optional } : {}) };
      steps.push(wanted === 'dir' ? { op: 'mkdir', ...common } : { op: 'file', ...common });
      root.record(current, wanted);
    } else if (kind !== wanted) {
      return { path: null, steps: [], warning: `${label}: '${current}' in the root is ${kind === 'link' ? 'a symbolic link' : `a ${kind}`}, not a ${wanted}; skipped` };
    }
  }
  return { path: resolved === '' ? '/' : resolved, steps, warning: null };
}

function hostPathSteps(rootDir: string, steps: readonly Stage2Step[]): Stage2Step[] {
  return steps.map((step) => {
    switch (step.op) {
      case 'mkdir': case 'file': return { ...step, path: join(rootDir, step.path) };
      case 'symlink': return { ...step, path: join(rootDir, step.path) };
      case 'copy': case 'write': return { ...step, path: join(rootDir, step.path) };
      case 'mount': case 'register': return step;
    }
  });
}


export function planEnter(input: EnterPlanInput): EnterPlan {
  const root = new PlannedRoot(input.view);
  const warnings: string[] = [];
  // Phase A: mount points on the root's disk, then the API filesystems.
  const createA: Stage2Step[] = [];
  const mountsA: Stage2Step[] = [];
  // Phase B: entries inside the fresh tmpfs and placeholders, then the binds.
  const createB: Stage2Step[] = [];
  const mountsB: Stage2Step[] = [];
  const after: Stage2Step[] = [];

  const target = (path: string, want: 'dir' | 'file', temporary: boolean, label: string, into: Stage2Step[], optional = false): string | null => {
    const result = ensureTarget(root, path, want, temporary, label, optional);
    if (result.warning !== null) warnings.push(result.warning);
    into.push(...result.steps);
    return result.path;
  };
  const mount = (into: Stage2Step[], what: string, source: string, at: string, fstype: string, options: string): void => {
    into.push({ op: 'mount', what, source, target: join(input.rootDir, at), fstype, options });
  };

  const proc = target('/proc', 'dir', false, 'mount /proc', createA);
  const sys = target('/sys', 'dir', false, 'mount /sys', createA);
  const dev = target('/dev', 'dir', false, 'mount /dev', createA);
  const run = target('/run', 'dir', false, 'mount /run', createA);
  if (proc === null || dev === null) {
    throw new CrossrootError('NOT_A_ROOT', `enter root '${input.rootDir}': ${warnings.join('; ')}`, {
      hint: 'the root needs /proc and /dev directories (or nothing at those paths)',
    });
  }
  mount(mountsA, 'proc', 'proc', proc, 'proc', 'nosuid,nodev,noexec');
  // With the identity map the run's root is the host's uid 0, and sysctl files and
  // sysrq-trigger check only that uid: make them read-only (as systemd-nspawn does).
  for (const sub of input.procReadOnly) {
    mount(mountsA, `/proc/${sub} read-only`, join(input.rootDir, `${proc}/${sub}`), `${proc}/${sub}`, 'none', BIND_RO);
  }
  if (input.emulation.privateInstance) {
    // A read-only tmpfs under the private instance: unmounting the instance
    // inside the run uncovers an empty read-only directory, never another instance.
    mount(mountsA, 'binfmt_misc guard', 'tmpfs', `${proc}/sys/fs/binfmt_misc`, 'tmpfs', 'ro,nosuid,nodev,noexec,size=4k,mode=555');
    mount(mountsA, 'binfmt_misc', 'binfmt_misc', `${proc}/sys/fs/binfmt_misc`, 'binfmt_misc', 'nosuid,nodev,noexec');
  }
  if (sys !== null) {
    mount(mountsA, 'sys', '/sys', sys, 'none', 'rbind,ro');
    // rbind's ro covers only the top mount: each mount below it (cgroup, ...) is remounted too.
    for (const sub of input.sysSubmounts) {
      mount(mountsA, `sys${sub.slice('/sys'.length)} read-only`, 'none', `${sys}${sub.slice('/sys'.length)}`, 'none', 'remount,bind,ro');
    }
  }
  mount(mountsA, 'dev', 'tmpfs', dev, 'tmpfs', 'nosuid,noexec,mode=755,size=1m');
  root.addTmpfs(dev);
  if (run !== null) {
    mount(mountsA, 'run', 'tmpfs', run, 'tmpfs', 'nosuid,nodev,mode=755,size=20%');
    root.addTmpfs(run);
  }

  // /dev: device nodes bound from the host, a new devpts instance, shm, links.
  for (const name of DEV_NODES) {
    if (!input.hostDevices.includes(name)) continue;
    const at = target(`${dev}/${name}`, 'file', false, `bind /dev/${name}`, createB);
    if (at !== null) mount(mountsB, `/dev/${name}`, `/dev/${name}`, at, 'none', 'bind');
  }
  if (input.console !== null) {
    const at = target(`${dev}/console`, 'file', false, 'bind the terminal at /dev/console', createB);
    if (at !== null) mount(mountsB, '/dev/console', input.console, at, 'none', 'bind');
  }
  const pts = target(`${dev}/pts`, 'dir', false, 'mount /dev/pts', createB);
  if (pts !== null) {
    mount(mountsB, 'devpts', 'devpts', pts, 'devpts',
      `nosuid,noexec,newinstance,ptmxmode=0666,mode=620${input.ttyGroupMapped ? ',gid=5' : ''}`);
  }
  const shm = target(`${dev}/shm`, 'dir', false, 'mount /dev/shm', createB);
  if (shm !== null) mount(mountsB, 'shm', 'tmpfs', shm, 'tmpfs', 'nosuid,nodev,mode=1777');
  const links: [string, string][] = [
    ['ptmx', 'pts/ptmx'], ['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'],
    ['stderr', '/proc/self/fd/2'], ['core', '/proc/kcore'],
  ];
  for (const [name, linkTarget] of links) {
    if (name === 'core') continue; // /proc/kcore is not readable anyway; keep /dev minimal
    createB.push({ op: 'symlink', path: `${dev}/${name}`, target: linkTarget });
    root.record(`${dev}/${name}`, 'link', linkTarget);
  }

  // The host's resolv.conf and hosts, so that the network works.
  const hostFiles: [string, string | null][] = [['/etc/resolv.conf', input.hostResolvConf], ['/etc/hosts', input.hostHosts]];
  for (const [path, source] of hostFiles) {
    if (source === null) continue;
    // Optional: a root whose /etc the run may not write (rootless, read-only) just keeps its own.
    const at = target(path, 'file', true, `bind the host's ${path}`, createB, true);
    if (at !== null) mount(mountsB, path, source, at, 'none', BIND_RO);
  }

  // --bind
  for (const bind of input.binds) {
    const at = target(bind.target, bind.sourceKind, false, `--bind '${bind.source}:${bind.target}'`, createB);
    if (at === null) {
      throw new CrossrootError('ENTER_FAILED', `bind '${bind.source}' at '${bind.target}': ${warnings.at(-1) ?? 'target unusable'}`, {
        hint: 'choose a destination that does not exist or has the same kind (file or directory) as the source',
      });
    }
    mount(mountsB, `--bind ${bind.target}`, bind.source, at, 'none', bind.sourceKind === 'dir'
      ? (bind.readOnly ? 'rbind,ro' : 'rbind') : (bind.readOnly ? BIND_RO : 'bind'));
  }

  // Emulation
  const emulation = input.emulation;
  if ((emulation.mode === 'bind' || emulation.mode === 'copy') && emulation.interpreterInRoot !== null) {
    if (input.emulatorPath === null) throw new CrossrootError('EMULATION_UNAVAILABLE', `use emulation '${emulation.mode}': no static emulator`);
    const resolved = (() => {
      try {
        return resolveInRoot(emulation.interpreterInRoot, root.readlink).path;
      } catch {
        return null;
      }
    })();
    const existing = resolved === null ? null : root.kind(resolved);
    if (existing === 'file' && emulation.mode === 'copy') {
      warnings.push(`copy: '${emulation.interpreterInRoot}' already exists in the root; using it as it is`);
    } else if (emulation.mode === 'copy') {
      const parent = target(parentOf(emulation.interpreterInRoot), 'dir', true, 'copy the emulator', createB);
      if (parent === null || resolved === null) throw new CrossrootError('EMULATION_UNAVAILABLE', `copy the emulator into the root: ${warnings.at(-1) ?? 'no place'}`);
      const at = `${parent === '/' ? '' : parent}/${resolved.slice(resolved.lastIndexOf('/') + 1)}`;
      createB.push({ op: 'copy', from: input.emulatorPath, path: at, temporary: true });
      root.record(at, 'file');
    } else {
      const at = target(emulation.interpreterInRoot, 'file', true, 'bind the emulator', createB);
      if (at === null) throw new CrossrootError('EMULATION_UNAVAILABLE', `bind the emulator into the root: ${warnings.at(-1) ?? 'no place'}`);
      mount(mountsB, 'emulator', input.emulatorPath, at, 'none', BIND_RO);
    }
  }
  if (emulation.register !== null && proc !== null) {
    after.push({ op: 'register', dir: join(input.rootDir, `${proc}/sys/fs/binfmt_misc`), text: emulation.register });
  }

  const steps = [
    ...hostPathSteps(input.rootDir, createA), ...mountsA,
    ...hostPathSteps(input.rootDir, createB), ...mountsB, ...after,
  ];
  return {
    rootDir: input.rootDir,
    arch: input.arch.name,
    emulation,
    personality: input.personality,
    steps,
    exec: commandChain(input),
    env: input.env,
    warnings,
  };
}

/**
 * The exec chain stage 2 runs (host tools, each execs the next; no fork):
 *   [setarch linux32] [setpriv --regid G --groups L] unshare --root DIR --wd W [--setgid G] --setuid U -- argv
 * unshare(1) without namespace flags chroots, changes directory inside the
 * new root, drops to the user and execs the command (found on the root's
 * PATH). Its --setgid also clears supplementary groups, so when the user has
 * some, setpriv sets gid and groups first and unshare only sets the uid.
 */
export function commandChain(input: Pick<EnterPlanInput, 'rootDir' | 'personality' | 'user' | 'workdir' | 'argv'>): string[] {
  const chain: string[] = [];
  if (input.personality !== null) chain.push('setarch', input.personality);
  const { uid, gid, groups } = input.user;
  const enter = ['unshare', '--root', input.rootDir, '--wd', input.workdir];
  if (groups.length > 0) {
    // Like initgroups(3): the primary group is in the list too.
    chain.push('setpriv', '--regid', String(gid), '--groups', [gid, ...groups.filter((group) => group !== gid)].join(','), '--');
    enter.push('--setuid', String(uid));
  } else {
    enter.push('--setgid', String(gid), '--setuid', String(uid));
  }
  return [...chain, ...enter, '--', ...input.argv];
}

/** The default environment inside the root: nothing of the host's but TERM, and LANG when portable. */
export function defaultEnvironment(
  user: { readonly name: string | null; readonly uid: number; readonly home: string; readonly shell: string },
  host: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: user.uid === 0
      ? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
      : '/usr/local/bin:/usr/bin:/bin',
    HOME: user.home,
    SHELL: user.shell,
  };
  if (user.name !== null) {
    env['USER'] = user.name;
    env['LOGNAME'] = user.name;
  }
  const term = host['TERM'];
  if (term !== undefined && term !== '') env['TERM'] = term;
  // Only locales every root has: C, C.UTF-8, POSIX (others would make tools warn).
  const lang = host['LANG'];
  env['LANG'] = lang !== undefined && /^(C|POSIX)(\.[A-Za-z0-9-]+)?$/.test(lang) ? lang : 'C.UTF-8';
  return env;
}

/** `K=V` -> [K, V]; the name must be a valid environment name. */
export function parseEnvAssignment(text: string): [string, string] {
  const index = text.indexOf('=');
  const name = index < 0 ? text : text.slice(0, index);
  if (index <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new CrossrootError('USAGE', `parse --env '${text}': expected NAME=VALUE`);
  }
  return [name, text.slice(index + 1)];
}

/** `SRC[:DST]` -> { source, target } (DST defaults to SRC); ':ro' suffix makes it read-only. */
export function parseBindSpec(text: string): { source: string; target: string; readOnly: boolean } {
  let spec = text;
  let readOnly = false;
  if (spec.endsWith(':ro')) {
    readOnly = true;
    spec = spec.slice(0, -3);
  }
  const index = spec.indexOf(':');
  const source = index < 0 ? spec : spec.slice(0, index);
  const target = index < 0 ? spec : spec.slice(index + 1);
  if (source === '' || target === '' || !target.startsWith('/')) {
    throw new CrossrootError('USAGE', `parse --bind '${text}': expected SRC[:DST[:ro]] with an absolute DST`);
  }
  return { source, target, readOnly };
}

/** Escapes a path for an fstab field (space, tab, newline and backslash as octal, as libmount reads them). */
export function fstabEscape(text: string): string {
  return text.replace(/[\\ \t\n]/g, (char) => `\\${char.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** The fstab text of consecutive mount steps, for one `mount --all --fstab` call. */
export function fstabOf(mounts: readonly Extract<Stage2Step, { op: 'mount' }>[]): string {
  return mounts.map((step) => `${fstabEscape(step.source)} ${fstabEscape(step.target)} ${step.fstype} ${step.options} 0 0\n`).join('');
}
