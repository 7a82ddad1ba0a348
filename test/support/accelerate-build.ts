// Real Debian source packages built with dpkg-buildpackage in a foreign root,
// emulated or accelerated, for the identity test and the benchmark:
//
//   /var/cache/crossroot-test/accelerate/            (under TEST_CROSSROOT_HOME)
//     build-<arch>[+pkg...]/         a copy of the toolchain test root + deb-src + debhelper, dpkg-dev,
//                                    fakeroot and the extra build dependencies named, made once (emulated apt)
//     sources/<package>_<version>/   `apt-get source` output, fetched once
//     debs/<key>/                    the emulated build's .deb files, keyed by the build root's dpkg
//                                    status, the source and the build options: warm runs rebuild
//                                    only the accelerated side
//
// Both builds run in the same root at the same build path (/build/<package>-<upstream>),
// from a fresh copy of the sources, as `crossroot run` runs them for a user.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runProcess } from '../../src/runner/process/process.ts';
import type { RunResult } from '../../src/runner/process/process.ts';
import { TEST_CROSSROOT_HOME, ensureTestRoot, withDirLock } from './cached-roots.ts';
import type { TestArch } from './cached-roots.ts';

const BIN = new URL('../../src/cli/bin.ts', import.meta.url).pathname;
const TSX = import.meta.resolve('tsx');
export const BUILD_CACHE = join(TEST_CROSSROOT_HOME, 'accelerate');

export function crossroot(args: readonly string[], env: Record<string, string> = {}): Promise<RunResult> {
  // CROSSROOT_DEBUG: a crossroot failure in a long build brings its stack along (the builds are too long to rerun for it).
  return runProcess([process.execPath, '--import', TSX, BIN, ...args], { timeoutMs: 3 * 60 * 60 * 1000, env: { CROSSROOT_DEBUG: '1', ...process.env, ...env } });
}

function must(run: RunResult, what: string): RunResult {
  if (run.exitCode !== 0) throw new Error(`${what} failed (exit ${String(run.exitCode)}): ${run.stderr.slice(-3000)}${run.stdout.slice(-3000)}`);
  return run;
}

/** The build root of `arch`: the toolchain test root plus deb-src and the build dependencies named. */
export async function ensureBuildRoot(arch: TestArch, packages: readonly string[]): Promise<string> {
  const dir = join(BUILD_CACHE, `build-${arch}${packages.length === 0 ? '' : `+${[...packages].sort().join('+').replaceAll(':', '_')}`}`);
  const marker = join(dir, '.crossroot-build-root');
  const wanted = [...new Set(['debhelper', 'fakeroot', 'dpkg-dev', ...packages])].sort().join(' ');
  const ready = (): boolean => existsSync(marker) && readFileSync(marker, 'utf8').trim() === wanted;
  if (ready()) return dir;
  const source = await ensureTestRoot(arch, { toolchain: true });
  return withDirLock(dir, async () => {
    if (ready()) return dir;
    if (!existsSync(marker)) {
      const partial = `${dir}.partial`;
      rmSync(partial, { recursive: true, force: true });
      must(await runProcess(['cp', '-a', '--reflink=auto', source, partial], { timeoutMs: 30 * 60 * 1000 }), 'copy the test root');
      const suite = /^deb \S+ (\S+) /m.exec(readFileSync(join(partial, 'etc/apt/sources.list'), 'utf8'))?.[1] ?? 'trixie';
      writeFileSync(join(partial, 'etc/apt/sources.list'), `${readFileSync(join(partial, 'etc/apt/sources.list'), 'utf8')}deb-src http://deb.debian.org/debian ${suite} main\n`);
      rmSync(dir, { recursive: true, force: true });
      renameSync(partial, dir);
    }
    // pkg:arch names (libc6-dev:arm64 for a cross build's dpkg-shlibdeps) need that architecture in dpkg first.
    const foreign = [...new Set(packages.flatMap((name) => /:([a-z0-9]+)$/.exec(name)?.[1] ?? []))];
    const addArch = foreign.map((name) => `dpkg --add-architecture ${name} && `).join('');
    must(await crossroot(['run', dir, '--env', 'DEBIAN_FRONTEND=noninteractive', '--', 'sh', '-c',
      `${addArch}apt-get update -q && apt-get install -y -q --no-install-recommends ${wanted}`]), 'install the build dependencies');
    writeFileSync(marker, `${wanted}\n`);
    return dir;
  });
}

export interface SourcePackage {
  readonly name: string;
  readonly version: string;
  /** The directory dpkg-source unpacks to (name-upstream). */
  readonly dir: string;
}

/** `apt-get source NAME=VERSION` in the build root, once; the files stay cached. */
export async function ensureSource(root: string, pkg: SourcePackage): Promise<string> {
  const dir = join(BUILD_CACHE, 'sources', `${pkg.name}_${pkg.version}`);
  if (existsSync(join(dir, '.complete'))) return dir;
  return withDirLock(dir, async () => {
    if (existsSync(join(dir, '.complete'))) return dir;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    must(await crossroot(['run', root, '--bind', `${dir}:/build`, '--workdir', '/build', '--', 'apt-get', 'source', '-q', '--download-only', `${pkg.name}=${pkg.version}`]),
      `apt-get source ${pkg.name}`);
    writeFileSync(join(dir, '.complete'), '');
    return dir;
  });
}

export interface BuildResult {
  readonly seconds: number;
  /** .deb file name -> sha256. */
  readonly debs: Record<string, string>;
  readonly log: string;
  readonly stderr: string;
  readonly profile: unknown;
}

function hashDebs(dir: string): Record<string, string> {
  const debs: Record<string, string> = {};
  for (const name of readdirSync(dir).filter((file) => file.endsWith('.deb')).sort()) {
    debs[name] = createHash('sha256').update(readFileSync(join(dir, name))).digest('hex');
  }
  return debs;
}

/**
 * dpkg-buildpackage -b (DEB_BUILD_OPTIONS as given; -a HOSTARCH for a cross
 * build) of a source package in a fresh /build, with the run flags given
 * (--accelerate ...). Throws when the build fails, with the end of its log.
 */
export async function buildPackage(root: string, pkg: SourcePackage, flags: readonly string[],
  options: { buildOptions?: string; env?: Record<string, string>; hostArch?: string } = {}): Promise<BuildResult> {
  const sources = await ensureSource(root, pkg);
  const work = mkdtempSync(join(BUILD_CACHE, 'work-'));
  try {
    for (const file of readdirSync(sources).filter((name) => name !== '.complete')) cpSync(join(sources, file), join(work, file));
    const profile = join(work, 'profile.json');
    const dsc = readdirSync(work).find((name) => name.endsWith('.dsc')) ?? '';
    // A cross build is what Debian's are: the cross profile, and nocheck as a build profile too (its test dependencies unneeded).
    const cross = options.hostArch === undefined ? '' : ` -a ${options.hostArch} -P${(options.buildOptions ?? '').includes('nocheck') ? 'cross,nocheck' : 'cross'}`;
    const script = `dpkg-source -x ${dsc} ${pkg.dir} >/dev/null && cd ${pkg.dir} && dpkg-buildpackage${cross} -b -uc -us > ../build.log 2>&1`;
    const started = Date.now();
    const run = await crossroot(['run', root, ...flags, '--profile-json', profile, '--bind', `${work}:/build`, '--workdir', '/build',
      '--env', `DEB_BUILD_OPTIONS=${options.buildOptions ?? ''}`, '--', 'sh', '-c', script], options.env);
    const seconds = (Date.now() - started) / 1000;
    const log = existsSync(join(work, 'build.log')) ? readFileSync(join(work, 'build.log'), 'utf8') : '';
    if (run.exitCode !== 0) throw new Error(`dpkg-buildpackage of ${pkg.name} (${flags.join(' ')}) failed: ${run.stderr.slice(-2000)}\n${log.slice(-4000)}`);
    return { seconds, debs: hashDebs(work), log, stderr: run.stderr, profile: existsSync(profile) ? JSON.parse(readFileSync(profile, 'utf8')) as unknown : null };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The emulated build's result, cached by the build root's dpkg status, the source and the build options. */
export async function emulatedBuild(root: string, pkg: SourcePackage, buildOptions = ''): Promise<BuildResult & { cached: boolean }> {
  const status = readFileSync(join(root, 'var/lib/dpkg/status'));
  const key = createHash('sha256').update(status).update(`\0${pkg.name}=${pkg.version}\0${buildOptions}`).digest('hex').slice(0, 16);
  const file = join(BUILD_CACHE, 'debs', `${pkg.name}_${pkg.version}-${key}.json`);
  if (existsSync(file)) return { ...(JSON.parse(readFileSync(file, 'utf8')) as BuildResult), cached: true };
  const result = await buildPackage(root, pkg, [], { buildOptions });
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, JSON.stringify({ ...result, stderr: '' }));
  return { ...result, cached: false };
}
