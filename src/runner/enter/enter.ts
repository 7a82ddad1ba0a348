// `crossroot run` and `crossroot shell`: gathers the facts (the root, its
// architecture, emulators, host binfmt entries, the user inside), has
// core/enter-plan.ts turn them into an EnterPlan, then executes it:
//
//   crossroot (node)
//     unshare --user --mount --pid --fork --kill-child -- node stage2.js   (fd 3: a socket)
//       stage 2 = PID 1 of the new PID namespace, which runs
//         [setarch linux32] [setpriv ...] unshare --root DIR --wd W --setuid U -- CMD
//
// Stage 2 is started first, and while node boots there, crossroot plans,
// writes the new user namespace's uid_map/gid_map from outside (as root: the
// identity map; rootless: newuidmap and newgidmap with the user's /etc/subuid
// and /etc/subgid ranges) and sets the run up from outside too
// (enter-setup.ts: nsenter + mount(8), /proc/PID/root). Then it sends the
// command, which is stage 2's "go".
//
// With `accelerate`, runner/accelerate.ts plans native cross tools of the
// root's exact compiler version (core/accelerate-plan.ts); their steps come
// after the run's own and go through the same setup, inside the run's mount
// namespace only. Stage 2 unmounts them first at the end, so that the run's
// placeholders can be removed from the root.
//
// Nothing of a run outlives it: the mounts live in the private mount
// namespace, every process in the PID namespace dies with stage 2, and stage 2
// exits when the socket reaches EOF, which happens when crossroot dies, even
// by SIGKILL (stage 2 then removes the run's temporary files first; a
// parent-death signal on unshare would kill it before it could).
import { checkCommandInRoot } from './command-lookup.ts';
import type { EnterEvent } from './events.ts';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, rmdirSync, statSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Architecture } from '../../core/arch/arch.ts';
import { archByName, resolveArch } from '../../core/arch/arch.ts';
import type { BinfmtEntry } from '../../core/binfmt/entry.ts';
import { findHandler } from '../../core/binfmt/match.ts';
import { referenceHead } from '../../core/binfmt/install-plan.ts';
import { parseElf } from '../../core/elf/elf.ts';
import type { CreatedEntry } from '../../core/accelerate/accelerate-plan.ts';
import { accelerationSteps, accelerationUnmounts, emulatedToolLines, substitutedToolLines, withCreatedEntries } from '../../core/accelerate/accelerate-plan.ts';
import type { BindRequest, EmulationChoice, EmulationDecision, EmulationFacts, EnterPlan, PathKind, Stage2Step } from '../../core/enter/enter-plan.ts';
import { chooseEmulation, defaultEnvironment, parseBindSpec, parseEnvAssignment, planEnter } from '../../core/enter/enter-plan.ts';
import type { ErrorCode } from '../../core/errors.ts';
import { CrossrootError, isCrossrootError } from '../../core/errors.ts';
import type { ResolvedUser } from '../../core/users/passwd.ts';
import { parseGroup, parsePasswd, resolveUser } from '../../core/users/passwd.ts';
import { DEFAULT_BINFMT_DIR, isBinfmtDir, readInstance } from '../../kernel/binfmt-fs.ts';
import type { Emulator } from '../host/emulators.ts';
import { QEMU_BINFMT_DIR, describeEmulator, emulatorFileNames, honoursPreserveArgv0 } from '../host/emulators.ts';
import { withFileSource } from '../fs/file-source.ts';
import { guessNativeArches } from '../host/native.ts';
import type { RunningProcess } from '../process/process.ts';
import { ProcessError, exitStatusOf, nodeScriptArgv, startProcess } from '../process/process.ts';
import { jsonLine, onJsonLines } from '../process/json-lines.ts';
import { resolveHostPathInRoot, rootReadlink } from '../fs/root-fs.ts';
import type { TemporaryEntry } from './enter-setup.ts';
import { setUpRun } from './enter-setup.ts';
import type { Stage2Input, Stage2Message } from './stage2.ts';
import type { ProgressState } from '../../core/create/create-plan.ts';
import { ensureManagedRoot } from '../roots/roots.ts';
import type { AccelerationFacts } from '../accelerate/accelerate.ts';
import { planRootAcceleration } from '../accelerate/accelerate.ts';
import type { IcecreamOptions, PreparedIcecream } from '../icecream/icecream-run.ts';
import { prepareIcecream } from '../icecream/icecream-run.ts';
import type { ProfileReport } from '../../core/enter/profile.ts';
import { renamePrograms } from '../../core/enter/profile.ts';
import { PRIVATE_BINFMT_KERNEL, hasPrivateBinfmt } from '../../core/host/kernel-release.ts';
import type { IdMaps } from '../../core/users/id-maps.ts';
import { mappedCount } from '../../core/users/id-maps.ts';
import { mountsUnder } from '../host/mounts.ts';
import { detectRootArch } from '../fs/root-arch.ts';
import { kindOf } from '../fs/kind.ts';
import { idMapsOfThisUser, waitForUserNamespace, writeIdMaps } from '../host/userns.ts';

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
  /**
   * Native cross tools of exactly the root's compiler version in place of the
   * emulated ones, in the run's mount namespace only (runner/accelerate.ts);
   * a root that cannot be accelerated runs emulated, and stderr says why.
   */
  readonly accelerate?: boolean;
  /** With `accelerate`: compile jobs go to this icecream cluster (runner/icecream/icecream-run.ts). */
  readonly icecream?: IcecreamOptions | undefined;
  /** Sample the run's processes and report CPU time per program (stage 2). */
  readonly profile?: boolean;
  /** The command; null runs the user's login shell. */
  readonly argv: readonly string[] | null;
  readonly verbose?: boolean;
  /** Progress of creating the managed root on first use. */
  readonly progress?: ((state: ProgressState, seconds: number) => void) | undefined;
  /** Called once the managed root exists (to clear a progress line). */
  readonly rootReady?: (() => void) | undefined;
  /** Receives warnings, notes and --verbose details (the CLI renders them on stderr). */
  readonly onEvent: (event: EnterEvent) => void;
  /** The caller's environment (TERM, LANG) and cwd (relative --bind sources). */
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export interface EnterResult {
  readonly exitCode: number;
  readonly plan: EnterPlan;
  readonly timings: Readonly<Record<string, number>>;
  /** With `accelerate`: the acceleration plan and facts (null when not asked or the root runs natively). */
  readonly acceleration: AccelerationFacts | null;
  /** With `profile`: CPU time per program, most first (null when not asked). */
  readonly profile: ProfileReport | null;
}

/** Reads of the root's small text files stop here (a hostile root may hold anything). */
const MAX_TEXT_FILE = 4 * 1024 * 1024;

/** kindOf() in enter-plan's words (a symlink is 'link' there). */
function pathKind(hostPath: string): PathKind {
  const kind = kindOf(hostPath);
  return kind === 'symlink' ? 'link' : kind;
}

/** Reads a root file resolved within the root; null when missing, not regular or too big. */
function readRootText(rootDir: string, path: string): string | null {
  try {
    const { hostPath } = resolveHostPathInRoot(rootDir, path);
    const stat = statSync(hostPath);
    if (!stat.isFile() || stat.size > MAX_TEXT_FILE) return null;
    return readFileSync(hostPath, 'utf8');
  } catch {
    return null;
  }
}

/** Why user namespaces cannot be used, or null when they look available. */
function usernsBlocker(): string | null {
  const read = (path: string): string | null => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      return null;
    }
  };
  if (read('/proc/sys/user/max_user_namespaces') === '0') return 'user.max_user_namespaces is 0';
  if (process.geteuid?.() !== 0) {
    if (read('/proc/sys/kernel/unprivileged_userns_clone') === '0') return 'kernel.unprivileged_userns_clone is 0';
  }
  return null;
}

/**
 * The emulator files of one architecture, best first (static first, then PATH order, then
 * /usr/libexec/qemu-binfmt): emulators.ts's search, limited to one architecture because every
 * candidate found is opened and parsed, and run startup time matters.
 */
function emulatorCandidatesFor(arch: Architecture, path: string): Emulator[] {
  const { pathNames, binfmtName } = emulatorFileNames(arch);
  const dirs = path.split(':').filter((dir) => dir.startsWith('/'));
  const found: Emulator[] = [];
  const seen = new Set<string>();
  const add = (path: string, source: 'path' | 'qemu-binfmt'): void => {
    if (seen.has(path)) return;
    seen.add(path);
    const emulator = describeEmulator(arch.name, path, source);
    if (emulator !== null) found.push(emulator);
  };
  for (const dir of dirs) for (const name of pathNames) add(`${dir}/${name}`, 'path');
  add(`${QEMU_BINFMT_DIR}/${binfmtName}`, 'qemu-binfmt');
  return [...found.filter((emulator) => emulator.static), ...found.filter((emulator) => !emulator.static)];
}

async function emulationFacts(arch: Architecture, rootDir: string, native: boolean, choice: EmulationChoice, hostPath: string): Promise<EmulationFacts> {
  const kernelOk = hasPrivateBinfmt(release());
  const userns = usernsBlocker();
  const privateBlocker = !kernelOk
    ? `Linux ${release()} has no private binfmt_misc instances (needs >= ${PRIVATE_BINFMT_KERNEL.join('.')})`
    : userns;
  if (native) {
    return { native, privateBlocker, emulator: null, dynamicEmulatorOnly: null, hostEntry: null, hostInterpreterStatic: null, hostInterpreterInRoot: false };
  }
  const candidates = emulatorCandidatesFor(arch, hostPath);
  const statics = candidates.filter((candidate) => candidate.static);
  // A `-binfmt-P` name honours P without asking QEMU its version (a spawn saved).
  const best = statics.find((candidate) => candidate.requiresP) ?? statics[0] ?? null;
  const emulator = best === null ? null : {
    path: best.path,
    realPath: best.realPath,
    honoursP: best.requiresP || (await honoursPreserveArgv0(best)) === true,
  };
  let hostEntry: BinfmtEntry | null = null;
  let hostInterpreterStatic: boolean | null = null;
  let hostInterpreterInRoot = false;
  const needHost = choice !== 'private' && !(choice === 'auto' && privateBlocker === null && emulator !== null);
  if (needHost && isBinfmtDir(DEFAULT_BINFMT_DIR)) {
    try {
      const instance = readInstance(DEFAULT_BINFMT_DIR);
      hostEntry = findHandler(instance.entries, referenceHead(arch), '/bin/sh', instance.enabled);
    } catch {
      hostEntry = null;
    }
  }
  if (hostEntry !== null) {
    const interpreter = hostEntry.interpreter;
    if (hostEntry.flags.F) {
      try {
        hostInterpreterStatic = withFileSource(realpathSync(interpreter), (source) => parseElf(source).interpreter === null);
      } catch {
        hostInterpreterStatic = null;
      }
    }
    try {
      hostInterpreterInRoot = statSync(resolveHostPathInRoot(rootDir, interpreter).hostPath).isFile();
    } catch {
      hostInterpreterInRoot = false;
    }
  }
  return {
    native,
    privateBlocker,
    emulator,
    dynamicEmulatorOnly: best === null ? candidates[0]?.path ?? null : null,
    hostEntry,
    hostInterpreterStatic,
    hostInterpreterInRoot,
  };
}

/** The signals crossroot passes to the command while it runs. */
const RELAYED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;
const KEYBOARD = new Set<string>(['SIGINT', 'SIGQUIT']);

/** Whether this process is in its terminal's foreground process group (a keyboard signal then reached the command too). */
function inForegroundGroup(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = fields[2];
    const tpgid = fields[5];
    return pgrp !== undefined && pgrp === tpgid;
  } catch {
    return false;
  }
}

/** The host pid of `pid`'s first child, once it exists. */
async function firstChild(pid: number, done: Promise<unknown>): Promise<number> {
  let exited = false;
  void done.then(() => { exited = true; }, () => { exited = true; });
  for (let waited = 0; !exited && waited < 10_000; waited++) {
    try {
      const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0];
      if (first !== undefined && first !== '') return Number(first);
    } catch {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new CrossrootError('ENTER_FAILED', 'start the run: stage 2 did not start', { hint: 'run again with --verbose; check that unshare and node work (crossroot doctor)' });
}

export interface PreparedRun {
  readonly plan: EnterPlan;
  readonly mapping: IdMaps;
  readonly warnings: readonly string[];
  readonly acceleration: PreparedAcceleration | null;
}

export interface PreparedAcceleration {
  readonly facts: AccelerationFacts;
  /** Created by enterRoot before the setup, removed after the run (stage 2 removes it if crossroot dies). */
  readonly scratchDir: string | null;
  /** Unmounted by stage 2 before it removes the run's temporary entries. */
  readonly unmounts: readonly string[];
  /** Notes for stderr (tools left emulated and why), empty when all is accelerated. */
  readonly notes: readonly string[];
  /** With `icecream`: the cluster's part of the run, started after the setup. */
  readonly icecream?: PreparedIcecream | null;
}

/** The entries the run's own steps create (root-relative), which a shadow directory must keep. */
function createdEntries(rootDir: string, steps: readonly Stage2Step[]): CreatedEntry[] {
  const created: CreatedEntry[] = [];
  for (const step of steps) {
    if (step.op === 'mount' || step.op === 'register' || !step.path.startsWith(`${rootDir}/`)) continue;
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
  let facts: AccelerationFacts;
  try {
    facts = await planRootAcceleration(plan.rootDir, {
      ...(options.hostEnv['CROSSROOT_HOME'] === undefined ? {} : { home: options.hostEnv['CROSSROOT_HOME'] }),
      log: (line) => options.onEvent({ kind: 'note', message: line }),
      ...(resolveArch(plan.arch)?.debian[0] === undefined ? {} : { debianArch: resolveArch(plan.arch)?.debian[0] }),
    });
  } catch (error) {
    // No tools root (it could not be created: offline, not root, ...): the run goes on, emulated.
    const reason = error instanceof Error ? error.message : String(error);
    options.onEvent({ kind: 'note', message: `accelerate: nothing accelerated: ${reason}` });
    return { plan, acceleration: null };
  }
  const notes = emulatedToolLines(facts.plan);
  if (facts.plan.refused !== null || facts.plan.mounts.length === 0) {
    if (options.icecream !== undefined) options.onEvent({ kind: 'note', message: 'icecream: not used: nothing is accelerated' });
    return { plan, acceleration: { facts, scratchDir: null, unmounts: [], notes } };
  }
  const icecream = options.icecream === undefined ? null : await prepareRunIcecream(plan, facts, options);
  const scratchDir = join(tmpdir(), `crossroot-accel-${String(process.pid)}-${randomBytes(4).toString('hex')}`);
  const mounts = withCreatedEntries([...facts.plan.mounts, ...(icecream?.mounts ?? [])], createdEntries(plan.rootDir, plan.steps));
  const steps = [...accelerationSteps(mounts, plan.rootDir, scratchDir), ...(icecream?.steps ?? [])];
  return {
    plan: { ...plan, steps: [...plan.steps, ...steps], env: { ...plan.env, ...icecream?.env } },
    acceleration: { facts, scratchDir, unmounts: accelerationUnmounts(mounts, plan.rootDir, scratchDir), notes, icecream },
  };
}

/** The icecream part of an accelerated run, or null (stderr says why) when the cluster cannot be used. */
async function prepareRunIcecream(plan: EnterPlan, facts: AccelerationFacts, options: EnterOptions): Promise<PreparedIcecream | null> {
  if (options.icecream === undefined) return null;
  const runMount = plan.steps.find((step) => step.op === 'mount' && step.what === 'run');
  const runDir = runMount?.op === 'mount' && runMount.target.startsWith(`${plan.rootDir}/`) ? runMount.target.slice(plan.rootDir.length) : null;
  const prepared = await prepareIcecream(facts, runDir, options.icecream, options.hostEnv['CROSSROOT_HOME']);
  if (typeof prepared !== 'string') return prepared;
  options.onEvent({ kind: 'note', message: `icecream: not used: ${prepared}; compiling locally, accelerated` });
  return null;
}

/** Everything up to the plan: no process started, nothing written. */
export async function prepareRun(options: EnterOptions): Promise<PreparedRun> {
  const warnings: string[] = [];
  let rootInput = options.rootDir;
  if (rootInput === undefined) {
    if (options.arch === undefined) throw new CrossrootError('USAGE', 'choose a root: give DIR or --arch ARCH');
    const ensured = await ensureManagedRoot(options.arch, { progress: options.progress, env: options.hostEnv, create: options.createRoot });
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
  const hasShell = kindOf(resolveHostPathInRoot(rootDir, '/bin/sh').hostPath) === 'file';
  const hasUsr = kindOf(resolveHostPathInRoot(rootDir, '/usr').hostPath) === 'dir';
  if (!hasShell && !hasUsr) {
    throw new CrossrootError('NOT_A_ROOT', `enter root '${rootDir}': it has neither /bin/sh nor /usr`, {
      hint: 'give the top directory of a root filesystem (the one holding bin/, etc/ and usr/)',
    });
  }
  const detected = detectRootArch(rootDir)?.arch ?? null;
  const requested = options.arch === undefined ? null : resolveArch(options.arch);
  if (detected !== null && requested !== null && detected.name !== requested.name) {
    throw new CrossrootError('ARCH_MISMATCH', `enter root '${rootDir}': its programs are '${detected.name}', not '${requested.name}'`, {
      hint: 'drop --arch, or give the root of that architecture',
    });
  }
  const arch = detected ?? requested;
  if (arch === null) {
    throw new CrossrootError('NOT_A_ROOT', `enter root '${rootDir}': cannot tell its architecture (no ELF /bin/sh)`, {
      hint: 'name it with --arch ARCH',
    });
  }
  const leaked = mountsUnder(rootDir);
  if (leaked.length > 0) {
    warnings.push(`'${rootDir}' has ${leaked.length} mount(s) left under it by another tool (${leaked.slice(0, 3).join(', ')}${leaked.length > 3 ? ', ...' : ''}); unmount them (umount -R) before removing the root`);
  }
  const nativeArches = guessNativeArches();
  const native = nativeArches.includes(arch.name);
  const choice = options.emulation ?? 'auto';
  const facts = await emulationFacts(arch, rootDir, native, choice, options.hostEnv['PATH'] ?? '');
  const emulation: EmulationDecision = chooseEmulation(choice, arch, facts);
  const hostIs64 = nativeArches.some((name) => archByName(name).bits === 64);
  const personality = native && arch.bits === 32 && hostIs64 ? 'linux32' : null;

  const passwd = parsePasswd(readRootText(rootDir, '/etc/passwd') ?? '');
  const groups = parseGroup(readRootText(rootDir, '/etc/group') ?? '');
  const user: ResolvedUser = resolveUser(options.user ?? '0', passwd, groups);
  const userWithHome = options.user === undefined && user.name === null ? { ...user, home: '/root' } : user;

  const isDir = (path: string): boolean => {
    try {
      return statSync(resolveHostPathInRoot(rootDir, path).hostPath).isDirectory();
    } catch {
      return false;
    }
  };
  const bindTargets = (options.binds ?? []).map((text) => parseBindSpec(text).target.replace(/\/+$/, ''));
  let workdir = options.workdir;
  if (workdir !== undefined) {
    if (!workdir.startsWith('/')) throw new CrossrootError('USAGE', `parse --workdir '${workdir}': give an absolute path inside the root`);
    const inBind = bindTargets.some((target) => workdir === target || (workdir ?? '').startsWith(`${target}/`));
    if (!inBind && !isDir(workdir)) {
      throw new CrossrootError('NOT_FOUND', `change to --workdir '${workdir}': no such directory in the root`, {
        hint: `create it (crossroot run ${rootDir} -- mkdir -p ${workdir}) or bind one there with --bind SRC:${workdir}`,
      });
    }
  } else {
    workdir = options.argv === null && isDir(userWithHome.home) ? userWithHome.home : '/';
  }

  const binds: BindRequest[] = (options.binds ?? []).map((text) => {
    const spec = parseBindSpec(text);
    let source: string;
    try {
      source = realpathSync(spec.source.startsWith('/') ? spec.source : `${options.cwd}/${spec.source}`);
    } catch {
      throw new CrossrootError('NOT_FOUND', `bind '${spec.source}': no such file or directory on the host`);
    }
    return { source, target: spec.target, sourceKind: statSync(source).isDirectory() ? 'dir' : 'file', readOnly: spec.readOnly };
  });
  const env = defaultEnvironment(userWithHome, options.hostEnv);
  for (const assignment of options.env ?? []) {
    const [name, value] = parseEnvAssignment(assignment);
    env[name] = value;
  }
  const argv = options.argv ?? [userWithHome.shell, '-l'];
  if (options.argv !== null && argv[0] !== undefined) checkCommandInRoot(rootDir, argv[0], workdir, env['PATH']);
  const mapping = idMapsOfThisUser();
  const hostFile = (path: string): string | null => {
    try {
      const real = realpathSync(path);
      return statSync(real).isFile() ? real : null;
    } catch {
      return null;
    }
  };
  const plan = planEnter({
    rootDir,
    view: { readlink: rootReadlink(rootDir), kind: (path) => pathKind(path === '/' ? rootDir : `${rootDir}${path}`) },
    arch,
    emulation,
    emulatorPath: facts.emulator?.realPath ?? null,
    personality,
    hostResolvConf: hostFile('/etc/resolv.conf'),
    hostHosts: hostFile('/etc/hosts'),
    hostDevices: ['null', 'zero', 'full', 'random', 'urandom', 'tty'].filter((name) => existsSync(`/dev/${name}`)),
    console: terminalOnStdin(),
    procReadOnly: ['sys', 'sysrq-trigger'].filter((name) => existsSync(`/proc/${name}`)),
    sysSubmounts: [...new Set(mountsUnder('/sys').filter((point) => point !== '/sys'))],
    ttyGroupMapped: mappedCount(mapping.gid) > 5,
    binds,
    workdir,
    user: userWithHome,
    argv,
    env,
  });
  const accelerated = await prepareAcceleration(plan, options);
  return { plan: accelerated.plan, mapping, warnings: [...warnings, ...plan.warnings], acceleration: accelerated.acceleration };
}

/** The host pty on stdin (/dev/pts/N), or null: not a terminal, or one the run cannot show. */
function terminalOnStdin(): string | null {
  try {
    const path = readlinkSync('/proc/self/fd/0');
    return /^\/dev\/pts\/\d+$/.test(path) && statSync(path).isCharacterDevice() ? path : null;
  } catch {
    return null;
  }
}

function describePlan(plan: EnterPlan, mapping: IdMaps, acceleration: PreparedAcceleration | null): string[] {
  const lines = [
    `root '${plan.rootDir}' (${plan.arch})`,
    `emulation: ${plan.emulation.mode}: ${plan.emulation.reason}`,
    `user namespace: ${mapping.kind === 'identity' ? 'identity map (root)' : 'newuidmap/newgidmap with /etc/subuid and /etc/subgid'}`,
  ];
  for (const step of plan.steps) {
    if (step.op === 'mount') lines.push(`mount ${step.what}: ${step.fstype === 'none' ? step.source : step.fstype} on ${step.target} (${step.options})`);
    else if (step.op === 'register') lines.push(`register ${step.text.split(':')[1] ?? ''} in the private binfmt_misc instance`);
    else if (step.op !== 'symlink') lines.push(`create ${step.op === 'mkdir' ? 'directory' : 'file'} ${step.path}${'temporary' in step && step.temporary ? ' (removed after the run)' : ''}`);
  }
  if (acceleration !== null) {
    const { facts } = acceleration;
    lines.push(`accelerate: native tools from ${facts.plan.sourceDir ?? facts.toolsRoot ?? 'nowhere'}${facts.plan.source === null ? '' : ` (${facts.plan.source})`}`);
    for (const line of substitutedToolLines(facts.plan)) lines.push(`accelerate: ${line}`);
  }
  if (plan.personality !== null) lines.push(`personality ${plan.personality}`);
  lines.push(`exec ${plan.exec.join(' ')}`);
  return lines;
}

function startStage2(): RunningProcess {
  const argv = ['unshare', '--user', '--mount', '--pid', '--fork', '--kill-child=SIGKILL', '--', ...nodeScriptArgv(import.meta.url, 'stage2')];
  // From source, tsx caches compiled files in $TMPDIR/tsx-<uid>; stage 2 starts before its ids are
  // mapped (uid 65534), so keep that cache in the project's .cache rather than as a stray /tmp/tsx-65534.
  if (!import.meta.url.endsWith('.ts')) return startProcess(argv, { channels: 1 });
  const cache = fileURLToPath(new URL('../../../.cache/stage2-tmp', import.meta.url));
  try {
    mkdirSync(cache, { recursive: true });
    return startProcess(argv, { channels: 1, env: { ...process.env, TMPDIR: cache } });
  } catch {
    return startProcess(argv, { channels: 1 }); // a user who cannot write the project: tsx's default
  }
}

/** Runs the plan; resolves with the command's exit status (128+N for signal N). */
export async function enterRoot(options: EnterOptions): Promise<EnterResult> {
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  // Stage 2 starts first: node's startup there overlaps with the planning here (it waits for the plan).
  // When the root is managed and not created yet, the plan comes first (creating it takes a while anyway).
  const early = options.rootDir !== undefined;
  let child = early ? startStage2() : null;
  let prepared: PreparedRun;
  try {
    prepared = await prepareRun(options);
  } catch (error) {
    if (child !== null) {
      child.kill('SIGKILL');
      await child.done.catch(() => undefined);
      for (const unused of child.channels) unused.destroy(); // an unread socket would keep crossroot alive
    }
    throw error;
  }
  const { plan, mapping, warnings, acceleration } = prepared;
  for (const warning of warnings) options.onEvent({ kind: 'warning', message: warning });
  for (const note of acceleration?.notes ?? []) options.onEvent({ kind: 'note', message: `accelerate: ${note}` });
  if (options.verbose === true) for (const line of describePlan(plan, mapping, acceleration)) options.onEvent({ kind: 'detail', message: line });
  timings['plan'] = performance.now() - t0;
  child ??= startStage2();
  const channel = child.channels[0];
  if (child.pid === undefined || channel === undefined) {
    for (const unused of child.channels) unused.destroy();
    await child.done;
    throw new CrossrootError('SPAWN', 'start the run: unshare did not start');
  }
  let stage2Error: CrossrootError | null = null;
  let profile: ProfileReport | null = null;
  channel.on('error', () => { /* stage 2 gone: its exit status tells */ });
  onJsonLines(channel, (value) => {
    const message = value as Stage2Message;
    if ('profile' in message) profile = message.profile;
    else if ('error' in message) stage2Error = new CrossrootError(message.error.code as ErrorCode, message.error.message);
  });
  const relay = (signal: NodeJS.Signals): void => {
    if (KEYBOARD.has(signal) && inForegroundGroup()) return; // the terminal sent it to the command already
    channel.write(jsonLine({ signal }));
  };
  for (const signal of RELAYED) process.on(signal, relay);
  try {
    const inNamespace = await waitForUserNamespace(child.pid, child.done);
    if (!inNamespace) {
      throw new ProcessError(await child.done, {
        code: 'USERNS_BLOCKED',
        action: "create the run's namespaces",
        hint: 'user namespaces may be disabled: check sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone and kernel.apparmor_restrict_unprivileged_userns, or run crossroot doctor',
      });
    }
    try {
      await writeIdMaps(child.pid, mapping);
    } catch (error) {
      child.kill('SIGKILL');
      await child.done;
      if (isCrossrootError(error)) throw error;
      throw new CrossrootError('USERNS_BLOCKED', `write the uid/gid maps of the run: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        hint: 'check that user namespaces are allowed (crossroot doctor)',
      });
    }
    timings['mapped'] = performance.now() - t0;
    // The acceleration's shadows and scratch are unmounted first at the end (then placeholders can be removed).
    const temporary: TemporaryEntry[] = (acceleration?.unmounts ?? []).map((path) => ({ path, kind: 'mount', mounted: false }));
    const scratchDir = acceleration?.scratchDir ?? null;
    if (scratchDir !== null) {
      mkdirSync(scratchDir, { mode: 0o700 });
      temporary.push({ path: scratchDir, kind: 'dir', mounted: false });
    }
    try {
      // unshare itself stays in the host's PID namespace; its child, stage 2, is PID 1 of the new one.
      const stage2 = await firstChild(child.pid, child.done);
      await setUpRun(stage2, plan.rootDir, plan.steps, temporary, scratchDir);
      for (const line of await acceleration?.icecream?.start() ?? []) options.onEvent({ kind: 'note', message: `icecream: ${line}` });
    } catch (error) {
      // Stage 2 removes what was created, then exits; the namespaces go with it.
      const abort: Stage2Input = { temporary, exec: null, env: {}, profileProc: null };
      channel.write(jsonLine(abort));
      await child.done;
      removeScratch(scratchDir);
      await acceleration?.icecream?.finish();
      throw error;
    }
    timings['setup'] = performance.now() - t0;
    const procMount = plan.steps.find((step) => step.op === 'mount' && step.what === 'proc');
    const input: Stage2Input = {
      temporary, exec: plan.exec, env: plan.env,
      profileProc: options.profile === true && procMount?.op === 'mount' ? { dir: procMount.target, rootDir: plan.rootDir } : null,
    };
    channel.write(jsonLine(input));
    const result = await child.done;
    removeScratch(scratchDir);
    for (const line of await acceleration?.icecream?.finish() ?? []) options.onEvent({ kind: 'note', message: `icecream: ${line}` });
    timings['total'] = performance.now() - t0;
    if (stage2Error !== null) throw stage2Error;
    const exitCode = exitStatusOf(result);
    if (options.verbose === true) {
      options.onEvent({ kind: 'timings', timings: { ...timings } });
    }
    const names = new Map((acceleration?.facts.plan.mounts ?? []).flatMap((mount) => mount.kind === 'bind' && mount.sourceInRoot === true
      ? [[`${mount.source}-native`, mount.target], [`${mount.source}-emulated`, mount.target]] as const : []));
    return { exitCode, plan, timings, acceleration: acceleration?.facts ?? null, profile: profile === null ? null : renamePrograms(profile, names) };
  } finally {
    for (const signal of RELAYED) process.off(signal, relay);
    channel.destroy();
  }
}

/** The acceleration's scratch mount point, on the host: empty once the run's namespace is gone. */
function removeScratch(dir: string | null): void {
  if (dir === null) return;
  try {
    rmdirSync(dir);
  } catch {
    // already removed by stage 2
  }
}
