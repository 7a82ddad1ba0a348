// `crossroot icecream-env`: packs the icecream toolchain environment of the
// exact-version native cross compiler of a root (core/icecream/toolchain-env.ts
// plans the files) from crossroot's amd64 tools root, reproducibly (sorted
// entries, mtime 0, no owners), and caches it under
// $CROSSROOT_HOME/icecream/ by the hash of its content: the same compiler
// always gives the same environment name, so helpers unpack it once.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { create as createTar } from 'tar';
import { parseElf } from '../../core/elf/elf.ts';
import { CrossrootError } from '../../core/errors.ts';
import { EnvPlanError, envFileName, planToolchainEnv } from '../../core/icecream/toolchain-env.ts';
import type { EnvTreeFacts, ToolchainEnvPlan } from '../../core/icecream/toolchain-env.ts';
import { withFileSource } from '../fs/file-source.ts';
import { rootReadlink } from '../fs/root-fs.ts';
import { crossrootHome, planRootAcceleration } from '../accelerate/accelerate.ts';

/** Facts of a tree on the host for the planner. */
export function envTreeFacts(treeDir: string): EnvTreeFacts {
  const dir = resolve(treeDir);
  return {
    readlink: rootReadlink(dir),
    kind: (path) => {
      try {
        const stat = lstatSync(join(dir, path));
        return stat.isSymbolicLink() ? 'symlink' : stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : 'other';
      } catch {
        return null;
      }
    },
    elf: (path) => {
      try {
        return withFileSource(join(dir, path), (source) => {
          const elf = parseElf(source);
          return { needed: elf.needed, runpath: elf.runpath ?? elf.rpath, interpreter: elf.interpreter };
        });
      } catch {
        return null;
      }
    },
  };
}

export interface ToolchainEnv {
  /** The cached tarball (host path). */
  readonly path: string;
  /** sha256 of the tarball. */
  readonly sha256: string;
  readonly triplet: string;
  readonly gccMajor: string;
  readonly toolsDir: string;
  readonly files: number;
  /** Whether it was packed now (false: taken from the cache). */
  readonly created: boolean;
}

/** What identifies the inputs: every source file with its size and mtime, and where the tree is. */
function inputKey(toolsDir: string, plan: ToolchainEnvPlan): string {
  const hash = createHash('sha256').update(`${toolsDir}\n${plan.triplet}\n${plan.gccMajor}\n`);
  for (const entry of plan.entries) {
    if (entry.kind !== 'file' || entry.source === undefined) {
      hash.update(`${entry.kind} ${entry.path} ${entry.text ?? ''}\n`);
      continue;
    }
    const stat = statSync(join(toolsDir, entry.source));
    hash.update(`f ${entry.path} ${entry.source} ${String(stat.size)} ${String(stat.mtimeMs)} ${String(stat.mode)}\n`);
  }
  return hash.digest('hex');
}

export function icecreamCacheDir(home = crossrootHome()): string {
  return join(home, 'icecream');
}

/** Packs (or takes from the cache) the environment of the tools tree's cross gcc `major` for `triplet`. */
export async function ensureToolchainEnv(toolsDir: string, triplet: string, major: string, options: { home?: string } = {}): Promise<ToolchainEnv> {
  const dir = resolve(toolsDir);
  let plan: ToolchainEnvPlan;
  try {
    plan = planToolchainEnv(envTreeFacts(dir), triplet, major);
  } catch (error) {
    if (!(error instanceof EnvPlanError)) throw error;
    throw new CrossrootError('ICECREAM', `pack the icecream environment of '${triplet}-gcc-${major}' from '${dir}': ${error.message}`, {
      hint: 'run crossroot accelerate ROOT first: it creates the tools root with the cross compiler of the root\'s exact version',
    });
  }
  const cache = icecreamCacheDir(options.home);
  mkdirSync(cache, { recursive: true });
  const key = inputKey(dir, plan);
  const index = join(cache, `${key}.name`);
  const files = plan.entries.filter((entry) => entry.kind === 'file').length;
  const base = { triplet, gccMajor: major, toolsDir: dir, files };
  if (existsSync(index)) {
    const name = readFileSync(index, 'utf8').trim();
    const path = join(cache, name);
    if (/^crossroot-[0-9a-f]{32}\.tar\.gz$/.test(name) && existsSync(path)) {
      return { ...base, path, sha256: readFileSync(`${path}.sha256`, 'utf8').trim(), created: false };
    }
  }
  const stage = mkdtempSync(join(cache, '.stage-'));
  try {
    const tree = join(stage, 'tree');
    mkdirSync(tree, { mode: 0o755 });
    for (const entry of plan.entries) {
      const at = join(tree, entry.path);
      if (entry.kind === 'dir') {
        mkdirSync(at, { recursive: true, mode: 0o755 });
        chmodSync(at, 0o755);
        continue;
      }
      if (entry.kind === 'script') {
        writeFileSync(at, entry.text ?? '', { mode: 0o755 });
        chmodSync(at, 0o755);
        continue;
      }
      const source = join(dir, entry.source ?? entry.path);
      copyFileSync(source, at);
      chmodSync(at, (statSync(source).mode & 0o111) === 0 ? 0o644 : 0o755);
    }
    const tarball = join(stage, 'env.tar.gz');
    await createTar({ gzip: true, cwd: tree, file: tarball, portable: true, mtime: new Date(0), noDirRecurse: true },
      plan.entries.map((entry) => entry.path.slice(1)));
    const sha256 = createHash('sha256').update(readFileSync(tarball)).digest('hex');
    const name = envFileName(sha256);
    const path = join(cache, name);
    renameSync(tarball, path);
    writeFileSync(`${path}.sha256`, `${sha256}\n`);
    writeFileSync(index, `${name}\n`);
    return { ...base, path, sha256, created: true };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** The environment of a root's accelerated compiler: the tools root `run --accelerate` uses, created on first use. */
export async function toolchainEnvForRoot(rootDir: string, options: { home?: string; log?: (line: string) => void } = {}): Promise<ToolchainEnv> {
  const facts = await planRootAcceleration(rootDir, {
    ...(options.home === undefined ? {} : { home: options.home }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  const { plan } = facts;
  const major = plan.tools.filter((tool) => tool.tool === 'cc1' && tool.status === 'substituted').map((tool) => tool.gccMajor).at(-1);
  if (plan.triplet === null || plan.sourceDir === null || major === undefined || major === null) {
    throw new CrossrootError('ICECREAM', `pack the icecream environment of '${facts.rootDir}': its cc1 has no native cross compiler of the same version: ${plan.refused ?? 'cc1 stays emulated'}`, {
      hint: `run crossroot accelerate ${facts.rootDir} to see why`,
    });
  }
  return ensureToolchainEnv(plan.sourceDir, plan.triplet, major, options.home === undefined ? {} : { home: options.home });
}
