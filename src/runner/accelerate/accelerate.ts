// Gathers the facts the acceleration planner needs (src/core/accelerate-plan.ts)
// without running anything from the root: dpkg's database and the file tree of
// the foreign root, of the host, and of crossroot's amd64 tools root of the
// same Debian suite, which it creates (mmdebstrap, no emulation needed) and
// caches on first use under $CROSSROOT_HOME/tools (default /var/lib/crossroot).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CrossrootError } from '../../core/errors.ts';
import { acceleratedArch, planAcceleration, toolsRootPackages, NATIVE_RUNTIME } from '../../core/accelerate/accelerate-plan.ts';
import type { AcceleratePlan, PackageOwner, ToolsCandidate, TreeFacts } from '../../core/accelerate/accelerate-plan.ts';
import { dpkgListNames, isToolchainPackage, parseDpkgList, parseDpkgStatus } from '../../core/root/dpkg-status.ts';
import { resolveHostPathInRoot, rootReadlink } from '../fs/root-fs.ts';
import { ProcessError, runProcess } from '../process/process.ts';
import { ensureTwinPackages, twinFacts } from './twins.ts';
import { kindOf } from '../fs/kind.ts';

/** Reads a small text file inside a tree, the path resolved within it; null when absent. */
function readInTree(treeDir: string, path: string): string | null {
  try {
    return readFileSync(resolveHostPathInRoot(treeDir, path).hostPath, 'utf8');
  } catch {
    return null;
  }
}

/** The owners of files installed by toolchain packages, from the tree's dpkg database. */
function toolchainOwners(treeDir: string): Map<string, PackageOwner> {
  const owners = new Map<string, PackageOwner>();
  const status = readInTree(treeDir, '/var/lib/dpkg/status');
  if (status === null) return owners;
  for (const pkg of parseDpkgStatus(status)) {
    if (!isToolchainPackage(pkg.package)) continue;
    for (const name of dpkgListNames(pkg)) {
      const list = readInTree(treeDir, `/var/lib/dpkg/info/${name}`);
      if (list === null) continue;
      const owner = { package: pkg.package, version: pkg.version, architecture: pkg.architecture };
      for (const path of parseDpkgList(list)) owners.set(path, owner);
    }
  }
  return owners;
}

/** TreeFacts of a directory on the host ('/' for the host itself). */
export function treeFacts(treeDir: string): TreeFacts {
  const dir = resolve(treeDir);
  const owners = toolchainOwners(dir);
  const readlink = rootReadlink(dir);
  // dpkg records paths as shipped (/usr/bin/x on merged-usr, maybe /bin/x on older
  // roots); a resolved path is matched directly, then through the common aliases.
  const aliases = (path: string): string[] => [path, path.replace(/^\/usr\//, '/')];
  return {
    hostDir: dir,
    readlink,
    kind: (path) => kindOf(join(dir, path)),
    list: (path) => {
      try {
        return readdirSync(join(dir, path)).sort();
      } catch {
        return [];
      }
    },
    owner: (path) => {
      for (const alias of aliases(path)) {
        const owner = owners.get(alias);
        if (owner !== undefined) return owner;
      }
      return null;
    },
  };
}

export interface RootIdentity {
  readonly debianArch: string | null;
  /** VERSION_CODENAME of /etc/os-release ('bookworm'), else null. */
  readonly suite: string | null;
}

/** The root's Debian architecture (dpkg's arch file or the libc6 stanza) and suite, read from files only. */
export function rootIdentity(rootDir: string): RootIdentity {
  let debianArch = readInTree(rootDir, '/var/lib/dpkg/arch')?.split('\n')[0]?.trim() || null;
  if (debianArch === null) {
    const status = readInTree(rootDir, '/var/lib/dpkg/status');
    debianArch = status === null ? null
      : parseDpkgStatus(status).find((pkg) => pkg.package === 'libc6' || pkg.package === 'dpkg')?.architecture ?? null;
  }
  const osRelease = readInTree(rootDir, '/etc/os-release') ?? readInTree(rootDir, '/usr/lib/os-release') ?? '';
  const codename = /^VERSION_CODENAME="?([a-z0-9-]+)"?$/m.exec(osRelease)?.[1] ?? null;
  return { debianArch, suite: codename };
}

export function crossrootHome(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env['CROSSROOT_HOME'] ?? '/var/lib/crossroot';
}

/** Where the tools root for a suite, triplet and gcc major lives. */
export function toolsRootPath(suite: string, triplet: string, gccMajor: string, home = crossrootHome()): string {
  return join(home, 'tools', `${suite}-${NATIVE_RUNTIME.debian}-${triplet}-gcc${gccMajor}`);
}

const TOOLS_ROOT_MARKER = '.crossroot-tools-complete';

export interface EnsureToolsRootOptions {
  readonly mirror?: string;
  readonly home?: string;
  /** Progress lines (mmdebstrap's output is collected, not streamed). */
  readonly log?: (line: string) => void;
}

/**
 * The amd64 tools root for a suite/triplet/major, created with mmdebstrap in
 * a private mount namespace on first use (no emulation: about 10-20 s plus
 * downloads) and reused afterwards. The marker is written last, so an
 * interrupted creation is redone.
 */
export async function ensureToolsRoot(suite: string, triplet: string, gccMajor: string, options: EnsureToolsRootOptions = {}): Promise<string> {
  return createToolsRootAt(toolsRootPath(suite, triplet, gccMajor, options.home), suite, toolsRootPackages(triplet, gccMajor), options);
}

/** The amd64 tools root of a suite without cross compilers, for the twins of a root without gcc. */
export function twinsToolsRootPath(suite: string, home = crossrootHome()): string {
  return join(home, 'tools', `${suite}-${NATIVE_RUNTIME.debian}-twins`);
}

/**
 * A finished tools root of `suite` that exists already (the twins one first,
 * then any with cross compilers: every one is an amd64 root of the suite),
 * or null. Creates nothing: `create` uses twins only when one is there.
 */
export function existingToolsRoot(suite: string, home = crossrootHome()): string | null {
  const twins = twinsToolsRootPath(suite, home);
  if (existsSync(join(twins, TOOLS_ROOT_MARKER))) return twins;
  let names: string[];
  try { names = readdirSync(join(home, 'tools')).sort(); } catch { return null; }
  const name = names.find((entry) => entry.startsWith(`${suite}-${NATIVE_RUNTIME.debian}-`) && existsSync(join(home, 'tools', entry, TOOLS_ROOT_MARKER)));
  return name === undefined ? null : join(home, 'tools', name);
}

export async function ensureTwinsToolsRoot(suite: string, options: EnsureToolsRootOptions = {}): Promise<string> {
  return createToolsRootAt(twinsToolsRootPath(suite, options.home), suite, [], options);
}

async function createToolsRootAt(dir: string, suite: string, packages: readonly string[], options: EnsureToolsRootOptions): Promise<string> {
  if (existsSync(join(dir, TOOLS_ROOT_MARKER))) return dir;
  if (!/^[a-z0-9-]+$/.test(suite)) throw new CrossrootError('USAGE', `create tools root: suite '${suite}' is not a plain name`);
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, '..'), { recursive: true });
  options.log?.(`creating the ${suite} amd64 tools root${packages.length === 0 ? '' : ` with ${packages.join(', ')}`} in '${dir}'`);
  const argv = ['unshare', '--mount', '--propagation', 'private', '--',
    'mmdebstrap', '--mode=root', '--variant=apt', `--arch=${NATIVE_RUNTIME.debian}`, ...(packages.length === 0 ? [] : [`--include=${packages.join(',')}`]),
    suite, partial, ...(options.mirror === undefined ? [] : [options.mirror])];
  const result = await runProcess(argv, { timeoutMs: 30 * 60 * 1000 });
  if (result.exitCode !== 0) {
    rmSync(partial, { recursive: true, force: true });
    throw new ProcessError(result, {
      code: 'TOOLS_ROOT',
      program: 'mmdebstrap',
      action: `create tools root '${dir}'`,
      hint: `check that suite '${suite}' has${packages.length === 0 ? '' : ` the packages ${packages.join(', ')}`} for amd64, and that the mirror is reachable`,
    });
  }
  renameSync(partial, dir);
  writeFileSync(join(dir, TOOLS_ROOT_MARKER), `${packages.join(' ')}\n`);
  return dir;
}

export interface AccelerateOptions {
  /** Create the tools root when missing (default true); false plans with what exists. */
  readonly createToolsRoot?: boolean;
  /** Consider the host's own cross tools (default true); used only on an exact match. */
  readonly useHost?: boolean;
  /** A tools root to use instead of the managed one (tests: a mismatched suite). */
  readonly toolsRoot?: string;
  readonly home?: string;
  readonly mirror?: string;
  readonly log?: (line: string) => void;
  /** The Debian architecture when the root's dpkg database does not say (a root without dpkg). */
  readonly debianArch?: string;
  /** Also run the root's architecture-neutral programs natively (twins; default true). */
  readonly twins?: boolean;
  /** Twin packages to keep emulated (CROSSROOT_ACCELERATE_EMULATE). */
  readonly keepEmulated?: readonly string[];
}

export interface AccelerationFacts {
  readonly rootDir: string;
  readonly identity: RootIdentity;
  readonly toolsRoot: string | null;
  /** Why no tools root is available, when none is. */
  readonly toolsRootProblem: string | null;
  /** Packages the twins wanted that the tools root's suite could not supply at the root's version. */
  readonly twinsUnavailable: readonly string[];
  readonly plan: AcceleratePlan;
}

/** Reads the root, finds (or creates) the native tools, and plans the acceleration. */
export async function planRootAcceleration(rootDir: string, options: AccelerateOptions = {}): Promise<AccelerationFacts> {
  const dir = resolve(rootDir);
  if (kindOf(dir) !== 'dir') throw new CrossrootError('NOT_FOUND', `read root '${rootDir}': not a directory`);
  const identity = rootIdentity(dir);
  const root = treeFacts(dir);
  const debianArch = identity.debianArch ?? options.debianArch ?? 'unknown';
  const candidates: ToolsCandidate[] = [];
  if (options.useHost ?? true) candidates.push({ source: 'host', facts: treeFacts('/') });
  let toolsRoot: string | null = options.toolsRoot === undefined ? null : resolve(options.toolsRoot);
  let toolsRootProblem: string | null = null;
  const arch = acceleratedArch(debianArch);
  if (toolsRoot === null && arch !== null) {
    // The managed tools root follows the root's suite and its (newest) gcc major.
    const majors = (() => {
      const first = planAcceleration({ debianArch, root, candidates: [] });
      return first.gccMajors;
    })();
    const major = majors.at(-1);
    if (identity.suite === null) toolsRootProblem = 'the root\'s /etc/os-release names no VERSION_CODENAME';
    else if (major === undefined) {
      // No compiler to accelerate: the twins still run natively, from a tools root without cross compilers.
      const path = twinsToolsRootPath(identity.suite, options.home);
      if (existsSync(join(path, TOOLS_ROOT_MARKER))) toolsRoot = path;
      else if ((options.createToolsRoot ?? true) && options.twins !== false) {
        toolsRoot = await ensureTwinsToolsRoot(identity.suite, {
          ...(options.home === undefined ? {} : { home: options.home }),
          ...(options.mirror === undefined ? {} : { mirror: options.mirror }),
          ...(options.log === undefined ? {} : { log: options.log }),
        });
      } else toolsRootProblem = 'the root has no gcc';
    } else {
      const path = toolsRootPath(identity.suite, arch.triplet, major, options.home);
      if (existsSync(join(path, TOOLS_ROOT_MARKER))) toolsRoot = path;
      else if (options.createToolsRoot ?? true) {
        toolsRoot = await ensureToolsRoot(identity.suite, arch.triplet, major, {
          ...(options.home === undefined ? {} : { home: options.home }),
          ...(options.mirror === undefined ? {} : { mirror: options.mirror }),
          ...(options.log === undefined ? {} : { log: options.log }),
        });
      } else toolsRootProblem = `no tools root at '${path}' yet (it is created on the first 'crossroot run --accelerate')`;
    }
  }
  let twinsUnavailable: string[] = [];
  let twins: ReturnType<typeof twinFacts> | undefined;
  if (toolsRoot !== null && arch !== null && options.twins !== false) {
    if (options.createToolsRoot ?? true) twinsUnavailable = await ensureTwinPackages(dir, toolsRoot, arch.multiarch, options.log);
  }
  if (toolsRoot !== null) {
    const facts = treeFacts(toolsRoot);
    candidates.push({ source: 'tools-root', facts });
    if (arch !== null && options.twins !== false) {
      twins = { ...twinFacts(dir, toolsRoot, facts, arch.multiarch, debianArch), keepEmulated: options.keepEmulated ?? [] };
    }
  }
  const plan = planAcceleration({ debianArch, root, candidates, ...(twins === undefined ? {} : { twins }) });
  twins?.save();
  return { rootDir: dir, identity, toolsRoot, toolsRootProblem, twinsUnavailable, plan };
}

