// Whole Debian package builds, side by side in one run (issue 9):
//   emulated            dpkg-buildpackage -b in the arm64 build root, tests included
//   accelerated         the same with `run --accelerate` (compiler tools + twins), tests included
//   accelerated nocheck the same with DEB_BUILD_OPTIONS=nocheck
//   cross               Debian's cross build: dpkg-buildpackage -a arm64 -b in an amd64 root with
//                       crossbuild-essential-arm64, nocheck (arm64 tests cannot run there)
//   native amd64        dpkg-buildpackage -b in that amd64 root, tests included, for scale
// Prints wall times, ratios, whether the accelerated .debs are byte-identical to
// the emulated ones, and the CPU time still emulated from --profile.
// Goals: accelerated (tests included) <= 1.2x the cross build, >= 10x faster than emulated.
//   node --import tsx bench/accelerate-build.ts [NAME | PACKAGE=VERSION:DIR ...] [--cached-emulated]
// Without packages: libogg (autotools + libtool, C), tinyxml2 (cmake, C++) and
// libdevel-globaldestruction-perl (perl, MakeMaker); libjson-perl (its tests load JSON::XS) by name. Each has its own build roots (its build
// dependencies); the cross build is nocheck with the nocheck build profile. --cached-emulated reuses the emulated result the
// identity test cached (its time was measured then, under that load).
import { loadavg } from 'node:os';
import type { ProfileReport } from '../src/core/enter/profile.ts';
import { buildPackage, emulatedBuild, ensureBuildRoot } from '../test/support/accelerate-build.ts';
import type { BuildResult, SourcePackage } from '../test/support/accelerate-build.ts';

/** A package of the bench and the build dependencies of its two build roots (arm64; amd64 for the cross and native builds). */
interface BenchPackage extends SourcePackage {
  readonly arm64Deps: readonly string[];
  readonly amd64Deps: readonly string[];
  /** Architecture: all only (no cross build: the native nocheck build is its stand-in). */
  readonly archAll?: boolean;
}

const CROSS = ['crossbuild-essential-arm64', 'libc6-dev:arm64'];
const DEFAULTS: readonly BenchPackage[] = [
  { name: 'libogg', version: '1.3.5-3', dir: 'libogg-1.3.5', arm64Deps: [], amd64Deps: CROSS },
  { name: 'tinyxml2', version: '11.0.0+dfsg-1', dir: 'tinyxml2-11.0.0+dfsg', arm64Deps: ['cmake'], amd64Deps: [...CROSS, 'cmake', 'libstdc++6:arm64'] },
  { name: 'libdevel-globaldestruction-perl', version: '0.14-4', dir: 'libdevel-globaldestruction-perl-0.14',
    arm64Deps: ['libsub-exporter-progressive-perl'], amd64Deps: ['libsub-exporter-progressive-perl'], archAll: true },
];

/** By name only: perl with an XS module in its tests (JSON::XS, which the twin perl loads from the tools root); emulated, its tests take over half an hour. */
const EXTRA: readonly BenchPackage[] = [
  { name: 'libjson-perl', version: '4.10000-1', dir: 'libjson-perl-4.10000', arm64Deps: ['libjson-xs-perl', 'libtest-pod-perl'], amd64Deps: ['libjson-xs-perl', 'libtest-pod-perl'], archAll: true },
];

function parsePackage(text: string): BenchPackage {
  const known = [...DEFAULTS, ...EXTRA].find((pkg) => pkg.name === text);
  if (known !== undefined) return known;
  const match = /^([a-z0-9.+-]+)=([^:]+):(.+)$/.exec(text);
  if (match === null) throw new Error(`bench: '${text}' is not a default package name or PACKAGE=VERSION:DIR`);
  return { name: match[1] ?? '', version: match[2] ?? '', dir: match[3] ?? '', arm64Deps: ['cmake'], amd64Deps: [...CROSS, 'cmake'] };
}

const args = process.argv.slice(2);
const cachedEmulated = args.includes('--cached-emulated');
const packages = args.filter((arg) => !arg.startsWith('--')).map(parsePackage);
const load = (): string => loadavg().map((value) => value.toFixed(2)).join(' ');

function emulatedShare(result: BuildResult): string {
  const profile = result.profile as ProfileReport | null;
  if (profile === null) return 'no profile';
  const emulated = profile.programs.filter((row) => row.mode === 'emulated');
  const seconds = emulated.reduce((sum, row) => sum + row.cpuSeconds, 0);
  const top = emulated.slice(0, 6).map((row) => `${row.program} ${row.cpuSeconds.toFixed(1)} s`).join(', ');
  return `${seconds.toFixed(1)} of ${profile.totalCpuSeconds.toFixed(1)} CPU s emulated (${(100 * seconds / Math.max(profile.totalCpuSeconds, 0.01)).toFixed(0)}%;`
    + ` ${profile.unsampledCpuSeconds.toFixed(1)} s in unsampled short processes): ${top}`;
}

process.stdout.write(`load average before: ${load()}\n`);
let failed = false;
for (const pkg of packages.length === 0 ? DEFAULTS : packages) {
  const arm64 = await ensureBuildRoot('arm64', pkg.arm64Deps);
  const amd64 = await ensureBuildRoot('amd64', pkg.amd64Deps);
  const line = (label: string, result: BuildResult | null, note = ''): void => {
    process.stdout.write(`${pkg.name} ${pkg.version} ${label.padEnd(22)} ${result === null ? '      -' : result.seconds.toFixed(0).padStart(7)} s ${note}\n`);
  };
  const attempt = async (label: string, build: () => Promise<BuildResult>): Promise<BuildResult | null> => {
    try {
      return await build();
    } catch (error) {
      line(label, null, `FAILED: ${(error instanceof Error ? error.message : String(error)).split('\n').slice(-3).join(' | ')}`);
      failed = true;
      return null;
    }
  };
  const emulated = await attempt('emulated', async () => (cachedEmulated ? emulatedBuild(arm64, pkg) : buildPackage(arm64, pkg, [])));
  if (emulated !== null) line('emulated', emulated, cachedEmulated && 'cached' in emulated && emulated.cached === true ? '(cached)' : '');
  const accelerated = await attempt('accelerated', () => buildPackage(arm64, pkg, ['--accelerate']));
  const identical = emulated !== null && accelerated !== null && JSON.stringify(emulated.debs) === JSON.stringify(accelerated.debs);
  if (accelerated !== null) line('accelerated', accelerated, `.debs ${identical ? 'byte-identical to emulated' : 'DIFFERENT from emulated'}`);
  const nocheck = await attempt('accelerated nocheck', () => buildPackage(arm64, pkg, ['--accelerate'], { buildOptions: 'nocheck' }));
  if (nocheck !== null) line('accelerated nocheck', nocheck);
  // An Architecture: all package has no cross build: Debian builds it once, natively; that nocheck build stands in for it.
  const crossLabel = pkg.archAll === true ? 'amd64 nocheck (arch all)' : 'cross (-a arm64)';
  const crossBuild = await attempt(crossLabel, () => buildPackage(amd64, pkg, [], { buildOptions: 'nocheck', ...(pkg.archAll === true ? {} : { hostArch: 'arm64' }) }));
  if (crossBuild !== null) line(crossLabel, crossBuild, `.debs ${emulated !== null && JSON.stringify(crossBuild.debs) === JSON.stringify(emulated.debs) ? 'identical' : 'differ'}`);
  const native = await attempt('native amd64', () => buildPackage(amd64, pkg, []));
  if (native !== null) line('native amd64', native);
  if (emulated !== null && accelerated !== null) {
    process.stdout.write(`  accelerated: ${(emulated.seconds / accelerated.seconds).toFixed(1)}x faster than emulated (goal >= 10x)`
      + `${crossBuild === null ? '' : `, ${(accelerated.seconds / crossBuild.seconds).toFixed(2)}x ${crossLabel} (goal <= 1.2x)`}`
      + `${nocheck === null || crossBuild === null ? '' : `; nocheck ${(nocheck.seconds / crossBuild.seconds).toFixed(2)}x ${crossLabel}`}\n`);
    process.stdout.write(`  still emulated (accelerated, --profile): ${emulatedShare(accelerated)}\n`);
    if (!identical) failed = true;
  }
}
process.stdout.write(`load average after: ${load()}\n`);
process.exitCode = failed ? 1 : 0;
