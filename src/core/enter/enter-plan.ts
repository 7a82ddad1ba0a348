// How a root is entered, as data (pure): options and facts in, an EnterPlan
// out. runner/enter/enter.ts gathers the facts; the run's PID 1 (the native
// helper, runner/enter/crossroot-enter.c) carries out `steps` in order, then
// runs `exec` and reaps. DESIGN.md section 4 is the contract.
//
// The plan never creates, copies or mounts onto anything outside the root
// (setup-steps.ts resolves every path inside it), and never adds an entry to
// the root's own tree: a mount point the root lacks goes into a shadow of its
// parent directory, which the run's mount namespace takes along when it ends.
import type { Architecture } from '../arch/arch.ts';
import { CrossrootError } from '../errors.ts';
import type { IdentityFacts } from './command-chain.ts';
import { commandChain } from './command-chain.ts';
import type { EmulationDecision } from './emulation.ts';
import type { RootView, SetupStep } from './setup-steps.ts';
import { PlannedRoot, ensureTarget, hostPath, hostPathSteps, parentOf } from './setup-steps.ts';
import { resolveInRoot } from '../root/root-path.ts';

export interface BindRequest {
  /** Host path (absolute, symlinks resolved by the caller: the user named it). */
  readonly source: string;
  /** Path inside the root. */
  readonly target: string;
  readonly sourceKind: 'dir' | 'file';
  readonly readOnly: boolean;
}

export const NETWORK_MODES = ['host', 'none'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

export function isNetworkMode(value: string): value is NetworkMode {
  return (NETWORK_MODES as readonly string[]).includes(value);
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
  /** The run's hostname (its own UTS namespace). */
  readonly hostname: string;
  /** host: the host's network (and its resolv.conf and hosts); none: a network namespace with only loopback. */
  readonly network: NetworkMode;
  /** Host files bound read-only over the root's with --network host, when they exist. */
  readonly hostResolvConf: string | null;
  readonly hostHosts: string | null;
  readonly hostDevices: readonly string[];
  /** The host terminal on stdin (/dev/pts/N), bound at /dev/console so that ttyname(3) and tty(1) find it; null when none. */
  readonly console: string | null;
  /** Entries of /proc made read-only in the run ('sys', and 'sysrq-trigger' where the kernel has it). */
  readonly procReadOnly: readonly string[];
  /** Whether gid 5 (tty) is mapped in the run's user namespace (devpts gid=5). */
  readonly ttyGroupMapped: boolean;
  readonly binds: readonly BindRequest[];
  readonly workdir: string;
  readonly user: IdentityFacts;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface EnterPlan {
  readonly rootDir: string;
  readonly arch: string;
  readonly emulation: EmulationDecision;
  readonly personality: 'linux32' | null;
  readonly hostname: string;
  readonly network: NetworkMode;
  /** Carried out in order by the run's PID 1 before the command. */
  readonly steps: readonly SetupStep[];
  /** The command chain PID 1 runs: [setarch ...] [setpriv ...] unshare --root ... -- argv. */
  readonly exec: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly warnings: readonly string[];
}

/** The mount options of a read-only bind. */
const BIND_RO = 'bind,ro';

/** Device nodes bound from the host into the run's /dev (mknod is refused in a user namespace). */
export const DEV_NODES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;

/** /dev's links, as in every container's /dev. */
const DEV_LINKS: readonly (readonly [string, string])[] = [
  ['ptmx', 'pts/ptmx'], ['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'],
];

/**
 * One phase of the plan: entries first (root-relative), then mounts. A
 * phase's mounts see every entry of the phase made.
 */
class Phase {
  readonly entries: SetupStep[] = [];
  readonly mounts: SetupStep[] = [];

  constructor(private readonly rootDir: string, private readonly root: PlannedRoot, private readonly warnings: string[]) {}

  /** Plans `path` (shadows and entries as needed); its resolved root-relative path, or null with a warning. */
  target(path: string, want: 'dir' | 'file', label: string): string | null {
    const result = ensureTarget(this.root, path, want, label);
    if (result.warning !== null) this.warnings.push(result.warning);
    this.entries.push(...result.steps);
    return result.path;
  }

  mount(what: string, source: string, at: string, fstype: string, options: string): void {
    this.mounts.push({ op: 'mount', what, source, target: hostPath(this.rootDir, at), fstype, options });
  }

  steps(): SetupStep[] {
    return [...hostPathSteps(this.rootDir, this.entries), ...this.mounts];
  }
}

interface Planning {
  readonly input: EnterPlanInput;
  readonly root: PlannedRoot;
  readonly warnings: string[];
}

/** Phase A: mount points of the API filesystems, then proc (with binfmt_misc), sys, dev and run. */
function planApiFilesystems({ input, root, warnings }: Planning, phase: Phase): { proc: string; dev: string } {
  const proc = phase.target('/proc', 'dir', 'mount /proc');
  const sys = phase.target('/sys', 'dir', 'mount /sys');
  const dev = phase.target('/dev', 'dir', 'mount /dev');
  const run = phase.target('/run', 'dir', 'mount /run');
  if (proc === null || dev === null) {
    throw new CrossrootError('NOT_A_ROOT', `enter root '${input.rootDir}': ${warnings.join('; ')}`, {
      hint: 'the root needs /proc and /dev directories (or nothing at those paths)',
    });
  }
  phase.mount('proc', 'proc', proc, 'proc', 'nosuid,nodev,noexec');
  // With the identity map the run's root is the host's uid 0, and sysctl files and
  // sysrq-trigger check only that uid: make them read-only (as systemd-nspawn does).
  for (const sub of input.procReadOnly) phase.mount(`/proc/${sub} read-only`, hostPath(input.rootDir, `${proc}/${sub}`), `${proc}/${sub}`, 'none', BIND_RO);
  if (input.emulation.privateInstance) {
    // A read-only tmpfs under the private instance: unmounting the instance
    // inside the run uncovers an empty read-only directory, never another instance.
    phase.mount('binfmt_misc guard', 'tmpfs', `${proc}/sys/fs/binfmt_misc`, 'tmpfs', 'ro,nosuid,nodev,noexec,size=4k,mode=555');
    phase.mount('binfmt_misc', 'binfmt_misc', `${proc}/sys/fs/binfmt_misc`, 'binfmt_misc', 'nosuid,nodev,noexec');
  }
  // Read-only all the way down (cgroup and every other mount below /sys).
  if (sys !== null) phase.mount('sys', '/sys', sys, 'none', 'rbind,ro');
  phase.mount('dev', 'tmpfs', dev, 'tmpfs', 'nosuid,noexec,mode=755,size=1m');
  root.addTmpfs(dev);
  if (run !== null) {
    phase.mount('run', 'tmpfs', run, 'tmpfs', 'nosuid,nodev,mode=755,size=20%');
    root.addTmpfs(run);
  }
  return { proc, dev };
}

/** /dev: device nodes bound from the host, the terminal, a new devpts instance, shm, links. */
function planDev({ input, root }: Planning, phase: Phase, dev: string): void {
  for (const name of DEV_NODES) {
    if (!input.hostDevices.includes(name)) continue;
    const at = phase.target(`${dev}/${name}`, 'file', `bind /dev/${name}`);
    if (at !== null) phase.mount(`/dev/${name}`, `/dev/${name}`, at, 'none', 'bind');
  }
  if (input.console !== null) {
    const at = phase.target(`${dev}/console`, 'file', 'bind the terminal at /dev/console');
    if (at !== null) phase.mount('/dev/console', input.console, at, 'none', 'bind');
  }
  const pts = phase.target(`${dev}/pts`, 'dir', 'mount /dev/pts');
  if (pts !== null) {
    phase.mount('devpts', 'devpts', pts, 'devpts', `nosuid,noexec,newinstance,ptmxmode=0666,mode=620${input.ttyGroupMapped ? ',gid=5' : ''}`);
  }
  const shm = phase.target(`${dev}/shm`, 'dir', 'mount /dev/shm');
  if (shm !== null) phase.mount('shm', 'tmpfs', shm, 'tmpfs', 'nosuid,nodev,mode=1777');
  for (const [name, linkTarget] of DEV_LINKS) {
    phase.entries.push({ op: 'symlink', path: `${dev}/${name}`, target: linkTarget });
    root.record(`${dev}/${name}`, 'link', linkTarget);
  }
}

/** With --network host: the host's resolv.conf and hosts, read-only, so that names resolve as on the host. */
function planHostFiles({ input }: Planning, phase: Phase): void {
  if (input.network !== 'host') return;
  const hostFiles: [string, string | null][] = [['/etc/resolv.conf', input.hostResolvConf], ['/etc/hosts', input.hostHosts]];
  for (const [path, source] of hostFiles) {
    if (source === null) continue;
    const at = phase.target(path, 'file', `bind the host's ${path}`);
    if (at !== null) phase.mount(path, source, at, 'none', BIND_RO);
  }
}

function planBinds({ input, warnings }: Planning, phase: Phase): void {
  for (const bind of input.binds) {
    const at = phase.target(bind.target, bind.sourceKind, `--bind '${bind.source}:${bind.target}'`);
    if (at === null) {
      throw new CrossrootError('ENTER_FAILED', `bind '${bind.source}' at '${bind.target}': ${warnings.at(-1) ?? 'target unusable'}`, {
        hint: 'choose a destination that does not exist or has the same kind (file or directory) as the source',
      });
    }
    const options = bind.sourceKind === 'dir' ? (bind.readOnly ? 'rbind,ro' : 'rbind') : (bind.readOnly ? BIND_RO : 'bind');
    phase.mount(`--bind ${bind.target}`, bind.source, at, 'none', options);
  }
}

/** bind and copy modes: the static emulator where the binfmt_misc entry looks for it. */
function planEmulator({ input, root, warnings }: Planning, phase: Phase): void {
  const { emulation } = input;
  if ((emulation.mode !== 'bind' && emulation.mode !== 'copy') || emulation.interpreterInRoot === null) return;
  if (input.emulatorPath === null) throw new CrossrootError('EMULATION_UNAVAILABLE', `use emulation '${emulation.mode}': no static emulator`);
  const interpreter = emulation.interpreterInRoot;
  if (emulation.mode === 'copy') {
    let existing: string | null;
    try {
      existing = root.kind(resolveInRoot(interpreter, root.readlink).path);
    } catch {
      existing = null;
    }
    if (existing === 'file') {
      warnings.push(`copy: '${interpreter}' already exists in the root; using it as it is`);
      return;
    }
    const parent = phase.target(parentOf(interpreter), 'dir', 'copy the emulator');
    if (parent === null) throw new CrossrootError('EMULATION_UNAVAILABLE', `copy the emulator into the root: ${warnings.at(-1) ?? 'no place'}`);
    const at = phase.target(`${parent === '/' ? '' : parent}/${interpreter.slice(interpreter.lastIndexOf('/') + 1)}`, 'file', 'copy the emulator');
    const made = phase.entries.at(-1);
    if (at === null || made?.op !== 'file' || made.path !== at) throw new CrossrootError('EMULATION_UNAVAILABLE', `copy the emulator into the root: ${warnings.at(-1) ?? 'no place'}`);
    phase.entries[phase.entries.length - 1] = { op: 'copy', from: input.emulatorPath, path: at };
    return;
  }
  const at = phase.target(interpreter, 'file', 'bind the emulator');
  if (at === null) throw new CrossrootError('EMULATION_UNAVAILABLE', `bind the emulator into the root: ${warnings.at(-1) ?? 'no place'}`);
  phase.mount('emulator', input.emulatorPath, at, 'none', BIND_RO);
}

export function planEnter(input: EnterPlanInput): EnterPlan {
  const planning: Planning = { input, root: new PlannedRoot(input.view), warnings: [] };
  // Phase A: the API filesystems. Phase B: entries inside them, the host's files, the binds, the emulator.
  const api = new Phase(input.rootDir, planning.root, planning.warnings);
  const { proc, dev } = planApiFilesystems(planning, api);
  const inside = new Phase(input.rootDir, planning.root, planning.warnings);
  planDev(planning, inside, dev);
  planHostFiles(planning, inside);
  planBinds(planning, inside);
  planEmulator(planning, inside);
  const register: SetupStep[] = input.emulation.register === null ? []
    : [{ op: 'register', dir: hostPath(input.rootDir, `${proc}/sys/fs/binfmt_misc`), text: input.emulation.register }];
  return {
    rootDir: input.rootDir,
    arch: input.arch.name,
    emulation: input.emulation,
    personality: input.personality,
    hostname: input.hostname,
    network: input.network,
    steps: [...api.steps(), ...inside.steps(), ...register],
    exec: commandChain(input),
    env: input.env,
    warnings: planning.warnings,
  };
}
