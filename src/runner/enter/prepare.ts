// Everything of a run up to its plan: the root (the managed one created or
// waited for on first use), its architecture, the emulation, the user inside,
// the binds, the environment, and the acceleration. No process of the run is
// started and nothing is written.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Architecture } from '../../core/arch/arch.ts';
import { archByName, resolveArch } from '../../core/arch/arch.ts';
import type { CreatedEntry } from '../../core/accelerate/mount-steps.ts';
import type { EmulationChoice, EmulationDecision } from '../../core/enter/emulation.ts';
import { chooseEmulation } from '../../core/enter/emulation.ts';
import type { BindRequest, EnterPlan, NetworkMode } from '../../core/enter/enter-plan.ts';
import { planEnter } from '../../core/enter/enter-plan.ts';
import { defaultEnvironment } from '../../core/enter/command-chain.ts';
import { parseBindSpec, parseEnvAssignment } from '../../core/enter/enter-args.ts';
import { checkHostname, hostnameOf } from '../../core/enter/hostname.ts';
import type { SetupStep } from '../../core/enter/setup-steps.ts';
import type { ProgressState } from '../../core/create/create-plan.ts';
import { CrossrootError } from '../../core/errors.ts';
import type { ResolvedUser } from '../../core/users/passwd.ts';
import { parseGroup, parsePasswd, resolveUser } from '../../core/users/passwd.ts';
import type { AccelerationFacts } from '../accelerate/accelerate.ts';
import type { IcecreamOptions, PreparedIcecream } from '../icecream/icecream-run.ts';
import { guessNativeArches } from '../host/native.ts';
import { resolveHostPathInRoot, rootReadlink } from '../fs/root-fs.ts';
import { checkCommandInRoot } from './command-lookup.ts';
import type { EnterEvent } from './events.ts';
import { emulationFacts, pathKind, readRootText, terminalOnStdin } from './enter-facts.ts';
import { detectRootArch } from '../fs/root-arch.ts';
import { mountsUnder } from '../host/mounts.ts';
import type { IdMaps } from '../../core/users/id-maps.ts';
import { mappedCount } from '../../core/users/id-maps.ts';
import { idMapsOfThisUser } from '../host/userns.ts';

export interface EnterOptions {
  /** The root directory; undefined with `arch` means the managed root of that architecture. */
  readonly rootDir?: string | undefined;
  readonly arch?: string | undefined;
  /** false: a managed root that does not exist yet is an error instead of being created. */
  readonly createRoot?: boolean | undefined;
  readonly binds?: readonly string[];
  readonly workdir?: string | undefined;
  readonly env?: readonly string[];
  readonly user?: string | undefined;
  readonly emulation?: EmulationChoice;
  /** The run's hostname (default: the root directory's name, made a valid host name). */
  readonly hostname?: string | undefined;
  /** host (default): the host's network; none: only loopback. */
  readonly network?: NetworkMode | undefined;
  /**
   * Native cross tools of exactly the root's compiler version in place of the
   * emulated ones, in the run's mount namespace only (runner/accelerate.ts);
   * a root that cannot be accelerated runs emulated, and stderr says why.
   */
  readonly accelerate?: boolean;
  /** With `accelerate`: compile jobs go to this icecream cluster (runner/icecream/icecream-run.ts). */
  readonly icecream?: IcecreamOptions | undefined;
  /** Sample the run's processes and report CPU time per program (from outside the run's PID namespace). */
  readonly profile?: boolean;
  /** The command; null runs the user's login shell. */
  readonly argv: readonly string[] | null;
  readonly verbose?: boolean;
  /** Progress of creating the managed root on first use. */
  readonly progress?: ((state: ProgressState, seconds: number) => void) | undefined;
  /** Called when another crossroot is creating the managed root and this run waits for it (with who creates it). */
  readonly waiting?: ((owner: string) => void) | undefined;
  /** Called once the managed root exists (to clear a progress line). */
  readonly rootReady?: (() => void) | undefined;
  /** Receives warnings, notes and --verbose details (the CLI renders them on stderr). */
  readonly onEvent: (event: EnterEvent) => void;
  /** The caller's environment (TERM, LANG) and cwd (relative --bind sources). */
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export interface PreparedRun {
  readonly plan: EnterPlan;
  readonly mapping: IdMaps;
  readonly warnings: readonly string[];
  readonly acceleration: PreparedAcceleration | null;
}

export interface PreparedAcceleration {
  readonly facts: AccelerationFacts;
  /** Created by enterRoot before the setup, removed after the run (by the run's PID 1 if crossroot dies). */
  readonly scratchDir: string | null;
  /** Unmounted at the end of the run (kept for --verbose). */
  readonly unmounts: readonly string[];
  /** --verbose lines: what runs natively, from where. */
  readonly verboseLines: readonly string[];
  /** Notes for stderr (tools left emulated and why), empty when all is accelerated. */
  readonly notes: readonly string[];
  /** With `icecream`: the cluster's part of the run, started once the helper's setup is sent. */
  readonly icecream?: PreparedIcecream | null;
}

/** The entries the run's own steps create (root-relative), which a shadow directory must keep. */
function createdEntries(rootDir: string, steps: readonly SetupStep[]): CreatedEntry[] {
  const created: CreatedEntry[] = [];
  for (const step of steps) {
    if (step.op === 'mount' || step.op === 'register' || step.op === 'shadow' || !step.path.startsWith(`${rootDir}/`)) continue;
    const path = step.path.slice(rootDir.length);
    if (step.op === 'symlink') created.push({ path, kind: 'symlink', target: step.target });
    else created.push({ path, kind: step.op === 'mkdir' ? 'dir' : 'file' });
  }
  return created;
}

/**
 * Plans the acceleration of a run (after its own steps: recursive binds carry
 * the run's mounts into the shadows). A root that cannot be accelerated gets
 * no steps, only notes.
 */
async function prepareAcceleration(plan: EnterPlan, options: EnterOptions): Promise<{ plan: EnterPlan; acceleration: PreparedAcceleration | null }> {
  if (options.accelerate !== true) return { plan, acceleration: null };
  if (plan.emulation.mode === 'native') {
    options.onEvent({ kind: 'note', message: `--accelerate: the root's ${plan.arch} programs run natively; nothing to accelerate` });
    return { plan, acceleration: null };
  }
  // Loaded only with --accelerate (node:crypto too, for the scratch directory's name): start-up time counts.
  const [accelerate, steps, policy, mountSteps, { randomBytes }] = await Promise.all([
    import('../accelerate/accelerate.ts'), import('../../core/accelerate/accelerate-plan.ts'), import('../../core/accelerate/policy.ts'),
    import('../../core/accelerate/mount-steps.ts'), import('node:crypto'),
  ]);
  let facts: AccelerationFacts;
  try {
    facts = await accelerate.planRootAcceleration(plan.rootDir, {
      ...(options.hostEnv['CROSSROOT_HOME'] === undefined ? {} : { home: options.hostEnv['CROSSROOT_HOME'] }),
      log: (line) => options.onEvent({ kind: 'note', message: line }),
      keepEmulated: policy.parseKeepEmulated(options.hostEnv['CROSSROOT_ACCELERATE_EMULATE']),
      ...(resolveArch(plan.arch)?.debian[0] === undefined ? {} : { debianArch: resolveArch(plan.arch)?.debian[0] }),
    });
  } catch (error) {
    // No tools root (it could not be created: offline, not root, ...): the run goes on, emulated.
    const reason = error instanceof Error ? error.message : String(error);
    options.onEvent({ kind: 'note', message: `accelerate: nothing accelerated: ${reason}` });
    return { plan, acceleration: null };
  }
  const notes = steps.emulatedToolLines(facts.plan);
  const verboseLines = [
    `native tools from ${facts.plan.sourceDir ?? facts.toolsRoot ?? 'nowhere'}${facts.plan.source === null ? '' : ` (${facts.plan.source})`}`,
    ...steps.substitutedToolLines(facts.plan),
  ];
  if (facts.plan.refused !== null || facts.plan.mounts.length === 0) {
    if (options.icecream !== undefined) options.onEvent({ kind: 'note', message: 'icecream: not used: nothing is accelerated' });
    return { plan, acceleration: { facts, scratchDir: null, unmounts: [], verboseLines, notes } };
  }
  const icecream = options.icecream === undefined ? null : await prepareRunIcecream(plan, facts, options);
  const scratchDir = join(tmpdir(), `crossroot-accel-${String(process.pid)}-${randomBytes(4).toString('hex')}`);
  const mounts = mountSteps.withCreatedEntries([...facts.plan.mounts, ...(icecream?.mounts ?? [])], createdEntries(plan.rootDir, plan.steps));
  const added = [...mountSteps.accelerationSteps(mounts, plan.rootDir, scratchDir), ...(icecream?.steps ?? [])];
  return {
    plan: { ...plan, steps: [...plan.steps, ...added], env: { ...plan.env, ...icecream?.env } },
    acceleration: { facts, scratchDir, unmounts: mountSteps.accelerationUnmounts(mounts, plan.rootDir, scratchDir), verboseLines, notes, icecream },
  };
}

/** The icecream part of an accelerated run, or null (stderr says why) when the cluster cannot be used. */
async function prepareRunIcecream(plan: EnterPlan, facts: AccelerationFacts, options: EnterOptions): Promise<PreparedIcecream | null> {
  if (options.icecream === undefined) return null;
  // Loaded only with --icecream: start-up time counts.
  const { prepareIcecream } = await import('../icecream/icecream-run.ts');
  const runMount = plan.steps.find((step) => step.op === 'mount' && step.what === 'run');
  const runDir = runMount?.op === 'mount' && runMount.target.startsWith(`${plan.rootDir}/`) ? runMount.target.slice(plan.rootDir.length) : null;
  const prepared = await prepareIcecream(facts, runDir, options.icecream, options.hostEnv['CROSSROOT_HOME']);
  if (typeof prepared !== 'string') return prepared;
  options.onEvent({ kind: 'note', message: `icecream: not used: ${prepared}; compiling locally, accelerated` });
  return null;
}


/** The root directory: given (symlinks resolved), or the managed root of --arch (created or waited for on first use). */
async function rootDirOf(options: EnterOptions): Promise<string> {
  let rootInput = options.rootDir;
  if (rootInput === undefined) {
    if (options.arch === undefined) throw new CrossrootError('USAGE', 'choose a root: give DIR or --arch ARCH');
    // Loaded only for managed roots (creating one needs the whole of runner/create): start-up time counts.
    const { ensureManagedRoot } = await import('../roots/roots.ts');
    const ensured = await ensureManagedRoot(options.arch, { progress: options.progress, env: options.hostEnv, waiting: options.waiting, create: options.createRoot });
    rootInput = ensured.dir;
    options.rootReady?.();
  }
  let rootDir: string;
  try {
    rootDir = realpathSync(rootInput);
    if (!statSync(rootDir).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new CrossrootError('NOT_FOUND', `enter root '${rootInput}': no such directory`, {
      hint: 'create one with crossroot create DIR --arch ARCH, or check the path',
    });
  }
  if (rootDir === '/') throw new CrossrootError('NOT_A_ROOT', "enter root '/': the host's own root is not a foreign root", { hint: 'give the directory of a root filesystem' });
  const hasShell = pathKind(resolveHostPathInRoot(rootDir, '/bin/sh').hostPath) === 'file';
  const hasUsr = pathKind(resolveHostPathInRoot(rootDir, '/usr').hostPath) === 'dir';
  if (!hasShell && !hasUsr) {
    throw new CrossrootError('NOT_A_ROOT', `enter root '${rootDir}': it has neither /bin/sh nor /usr`, {
      hint: 'give the top directory of a root filesystem (the one holding bin/, etc/ and usr/)',
    });
  }
  return rootDir;
}

/** The root's architecture: its programs', which --arch may name but not contradict. */
function rootArchOf(rootDir: string, archOption: string | undefined): Architecture {
  const detected = detectRootArch(rootDir)?.arch ?? null;
  const requested = archOption === undefined ? null : resolveArch(archOption);
  if (detected !== null && requested !== null && detected.name !== requested.name) {
    throw new CrossrootError('ARCH_MISMATCH', `enter root '${rootDir}': its programs are '${detected.name}', not '${requested.name}'`, {
      hint: 'drop --arch, or give the root of that architecture',
    });
  }
  const arch = detected ?? requested;
  if (arch === null) {
    throw new CrossrootError('NOT_A_ROOT', `enter root '${rootDir}': cannot tell its architecture (no ELF /bin/sh)`, { hint: 'name it with --arch ARCH' });
  }
  return arch;
}

async function emulationOf(arch: Architecture, rootDir: string, options: EnterOptions): Promise<{ emulation: EmulationDecision; emulatorPath: string | null; personality: 'linux32' | null }> {
  const nativeArches = guessNativeArches();
  const native = nativeArches.includes(arch.name);
  const choice = options.emulation ?? 'auto';
  const facts = await emulationFacts(arch, rootDir, native, choice, options.hostEnv['PATH'] ?? '');
  const personality = native && arch.bits === 32 && nativeArches.some((name) => archByName(name).bits === 64) ? 'linux32' : null;
  return { emulation: chooseEmulation(choice, arch, facts), emulatorPath: facts.emulator?.realPath ?? null, personality };
}

/** The user inside (root unless --user) and the working directory (checked to exist, or to be a bind's destination). */
function userAndWorkdir(rootDir: string, options: EnterOptions): { user: ResolvedUser; workdir: string } {
  const passwd = parsePasswd(readRootText(rootDir, '/etc/passwd') ?? '');
  const groups = parseGroup(readRootText(rootDir, '/etc/group') ?? '');
  const resolved = resolveUser(options.user ?? '0', passwd, groups);
  const user = options.user === undefined && resolved.name === null ? { ...resolved, home: '/root' } : resolved;
  const isDir = (path: string): boolean => {
    try {
      return statSync(resolveHostPathInRoot(rootDir, path).hostPath).isDirectory();
    } catch {
      return false;
    }
  };
  const workdir = options.workdir;
  if (workdir === undefined) return { user, workdir: options.argv === null && isDir(user.home) ? user.home : '/' };
  if (!workdir.startsWith('/')) throw new CrossrootError('USAGE', `parse --workdir '${workdir}': give an absolute path inside the root`);
  const bindTargets = (options.binds ?? []).map((text) => parseBindSpec(text).target.replace(/\/+$/, ''));
  const inBind = bindTargets.some((target) => workdir === target || workdir.startsWith(`${target}/`));
  if (!inBind && !isDir(workdir)) {
    throw new CrossrootError('NOT_FOUND', `change to --workdir '${workdir}': no such directory in the root`, {
      hint: `create it (crossroot run ${rootDir} -- mkdir -p ${workdir}) or bind one there with --bind SRC:${workdir}`,
    });
  }
  return { user, workdir };
}

function bindRequests(options: EnterOptions): BindRequest[] {
  return (options.binds ?? []).map((text) => {
    const spec = parseBindSpec(text);
    let source: string;
    try {
      source = realpathSync(spec.source.startsWith('/') ? spec.source : `${options.cwd}/${spec.source}`);
    } catch {
      throw new CrossrootError('NOT_FOUND', `bind '${spec.source}': no such file or directory on the host`);
    }
    return { source, target: spec.target, sourceKind: statSync(source).isDirectory() ? 'dir' : 'file', readOnly: spec.readOnly };
  });
}

/** A regular host file (symlinks resolved), or null. */
function hostFile(path: string): string | null {
  try {
    const real = realpathSync(path);
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

/** Everything up to the plan: no process started, nothing written. */
export async function prepareRun(options: EnterOptions): Promise<PreparedRun> {
  const rootDir = await rootDirOf(options);
  const arch = rootArchOf(rootDir, options.arch);
  const warnings: string[] = [];
  const leaked = mountsUnder(rootDir);
  if (leaked.length > 0) {
    warnings.push(`'${rootDir}' has ${leaked.length} mount(s) left under it by another tool (${leaked.slice(0, 3).join(', ')}${leaked.length > 3 ? ', ...' : ''}); unmount them (umount -R) before removing the root`);
  }
  const { emulation, emulatorPath, personality } = await emulationOf(arch, rootDir, options);
  const { user, workdir } = userAndWorkdir(rootDir, options);
  const binds = bindRequests(options);
  const env = defaultEnvironment(user, options.hostEnv);
  for (const assignment of options.env ?? []) {
    const [name, value] = parseEnvAssignment(assignment);
    env[name] = value;
  }
  const argv = options.argv ?? [user.shell, '-l'];
  if (options.argv !== null && argv[0] !== undefined) checkCommandInRoot(rootDir, argv[0], workdir, env['PATH']);
  const mapping = idMapsOfThisUser();
  const plan = planEnter({
    rootDir,
    view: { readlink: rootReadlink(rootDir), kind: (path) => pathKind(path === '/' ? rootDir : `${rootDir}${path}`) },
    arch,
    emulation,
    emulatorPath,
    personality,
    hostname: options.hostname === undefined ? hostnameOf(options.rootDir === undefined ? `${basename(rootDir)}-root` : basename(rootDir)) : checkHostname(options.hostname),
    network: options.network ?? 'host',
    hostResolvConf: hostFile('/etc/resolv.conf'),
    hostHosts: hostFile('/etc/hosts'),
    hostDevices: ['null', 'zero', 'full', 'random', 'urandom', 'tty'].filter((name) => existsSync(`/dev/${name}`)),
    console: terminalOnStdin(),
    procReadOnly: ['sys', 'sysrq-trigger'].filter((name) => existsSync(`/proc/${name}`)),
    ttyGroupMapped: mappedCount(mapping.gid) > 5,
    binds,
    workdir,
    user,
    argv,
    env,
  });
  const accelerated = await prepareAcceleration(plan, options);
  return { plan: accelerated.plan, mapping, warnings: [...warnings, ...plan.warnings], acceleration: accelerated.acceleration };
}
