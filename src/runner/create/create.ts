// `crossroot create`: builds a Debian root of any architecture, privately,
// or imports one from a tarball. The modules of the concept:
//   bootstrap.ts       the bootstrap (or snapshot copy) and its progress
//   build-namespace.ts the user+mount+PID namespace it runs in (create-stage.ts)
//   snapshots.ts       finished roots reused while the archive is unchanged
//   tar-import.ts      --from-tar
//   root-tarball.ts    unpacking a tarball inside a tree (also the layers of --from-image)
//   target.ts          what is at DIR, the marker, the rename into place
//   create-twins.ts    same-version native programs after the essential phase (twins-hook.ts)
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CrossrootError, UsageError } from '../../core/errors.ts';
import { DEFAULT_MIRROR, DEFAULT_SUITE, DEFAULT_VARIANT, canonicalSuite, checkSuite, isVariant, resolveTargetArch, staticEmulatorPath } from '../../core/create/create-plan.ts';
import type { BootstrapTool, ProgressState, Variant } from '../../core/create/create-plan.ts';
import { guessNativeArches } from '../host/native.ts';
import { acceleratedArch } from '../../core/accelerate/accelerate-plan.ts';
import { existingToolsRoot } from '../accelerate/accelerate.ts';
import type { BootstrapRequest, CreateTwinsOutcome } from './bootstrap.ts';
import { bootstrapRoot } from './bootstrap.ts';
import { isRoot } from './build-namespace.ts';
import { importTarball } from './tar-import.ts';

export interface CreateOptions {
  readonly dir: string;
  /** Required unless fromTar is given (then detected from the root's /bin/sh). */
  readonly arch?: string | undefined;
  readonly suite?: string | undefined;
  readonly variant?: string | undefined;
  readonly includes?: readonly string[] | undefined;
  readonly mirror?: string | undefined;
  readonly force?: boolean | undefined;
  readonly fromTar?: string | undefined;
  /** Import an OCI image (layout directory or tar) or a docker archive instead (runner/image/import.ts). */
  readonly fromImage?: string | undefined;
  readonly tool?: BootstrapTool | undefined;
  /** Bootstrap even when a current snapshot of the same request exists. */
  readonly fresh?: boolean | undefined;
  /**
   * Run the programs of the bootstrap after its essential phase natively, with
   * the same-version twins of an existing tools root of the suite (default true).
   */
  readonly twins?: boolean | undefined;
  /** The environment the bootstrap takes the proxies and SOURCE_DATE_EPOCH from (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Where the tools roots are (default: crossrootHome()). */
  readonly home?: string | undefined;
  /** Cache root (default: cacheRoot()). */
  readonly cacheRoot?: string | undefined;
  /** Called on every progress event (and once a second is enough for a display). */
  readonly onProgress?: ((state: ProgressState, seconds: number) => void) | undefined;
}

export interface CreateResult {
  readonly dir: string;
  readonly arch: string;
  readonly debianArch: string;
  readonly suite: string;
  readonly variant: string;
  readonly tool: BootstrapTool | 'tar' | 'image';
  /** What an import noticed but did not refuse (an image whose stated platform is not its ELF files'). */
  readonly warnings?: readonly string[];
  readonly seconds: number;
  readonly cache: {
    /** True when nothing had to be downloaded. */
    readonly hit: boolean;
    /** Packages in the shared cache for this suite and port after the create. */
    readonly packages: number;
    /** Packages fetched from the mirror by this create. */
    readonly downloaded: number;
    /** True when the root was copied from a snapshot of an identical earlier create (archive unchanged). */
    readonly snapshot: boolean;
  };
  /** What the twins did (bootstraps only). */
  readonly twins?: CreateTwinsOutcome;
}

/** Where downloaded packages are shared: /var/cache/crossroot as root, ~/.cache/crossroot otherwise; $CROSSROOT_CACHE wins. */
export function cacheRoot(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const override = env['CROSSROOT_CACHE'];
  if (override !== undefined && override !== '') return resolve(override);
  if (isRoot()) return '/var/cache/crossroot';
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'crossroot');
}


/** The validated request of a bootstrap; usage errors for bad options, CREATE_FAILED without an emulator. */
function bootstrapRequest(options: CreateOptions, dir: string, started: number): BootstrapRequest {
  if (options.arch === undefined) throw new UsageError("create root: '--arch' is required", { hint: "e.g. 'crossroot create DIR --arch arm64'" });
  const target = resolveTargetArch(options.arch);
  const suite = canonicalSuite(options.suite ?? DEFAULT_SUITE);
  checkSuite(suite, target.debianArch, options.suite);
  const variant = options.variant ?? DEFAULT_VARIANT;
  if (!isVariant(variant)) throw new UsageError(`parse option '--variant': '${variant}' is not a variant`, { hint: "use 'minbase', 'buildd', 'apt', 'required', 'important' or 'standard'" });
  const mirror = options.mirror ?? DEFAULT_MIRROR;
  if (!/^(https?|file):\/\/\S+$/.test(mirror)) throw new UsageError(`parse option '--mirror': '${mirror}' is not an http(s):// or file:// URL`);
  const native = guessNativeArches();
  const emulate = !native.includes(target.arch.name);
  if (emulate && !existsSync(staticEmulatorPath(target.arch))) {
    throw new CrossrootError('CREATE_FAILED', `create root: the static emulator '${staticEmulatorPath(target.arch)}' is missing`, { hint: 'install qemu-user-static' });
  }
  const tool = options.tool ?? 'mmdebstrap';
  return {
    dir, target, suite, variant, includes: [...(options.includes ?? [])], mirror, tool, emulate,
    force: options.force === true, fresh: options.fresh === true, cacheRoot: options.cacheRoot ?? cacheRoot(), started, onProgress: options.onProgress,
    twins: twinsSource(options, target.debianArch, suite, emulate, native.includes('x86_64')), hostEnv: options.env ?? process.env,
  };
}

/** The tools root a bootstrap's twins come from, or why it has none. */
function twinsSource(options: CreateOptions, debianArch: string, suite: string, emulate: boolean, hostIsX86: boolean): BootstrapRequest['twins'] {
  if (options.twins === false) return { refused: 'turned off (--no-twins)' };
  if (!emulate) return { refused: 'the root runs natively' };
  // The native runtime is mounted read-only at amd64's multiarch paths while the packages install.
  if ((options.includes ?? []).some((name) => /:amd64\b/.test(name))) return { refused: 'an --include package is amd64\'s, whose paths the twins\' runtime holds' };
  if (!hostIsX86) return { refused: 'twins are x86-64 programs and the host is not x86-64' };
  const arch = acceleratedArch(debianArch);
  if (arch === null) return { refused: `crossroot has no twins for '${debianArch}'` };
  const toolsRoot = existingToolsRoot(suite, options.home);
  if (toolsRoot === null) return { refused: `no '${suite}' tools root yet (the first 'crossroot run --accelerate' makes one)` };
  return { toolsRoot, multiarch: arch.multiarch };
}

export async function createRoot(options: CreateOptions): Promise<CreateResult> {
  const started = performance.now();
  const dir = resolve(options.dir);
  if (options.fromTar !== undefined || options.fromImage !== undefined) return importTarball(options, dir, started);
  const request = bootstrapRequest(options, dir, started);
  const outcome = await bootstrapRoot(request);
  return {
    dir, arch: request.target.arch.name, debianArch: request.target.debianArch, suite: request.suite, variant: request.variant, tool: request.tool,
    seconds: (performance.now() - started) / 1000,
    cache: { hit: outcome.downloaded === 0, packages: outcome.packages, downloaded: outcome.downloaded, snapshot: outcome.fromSnapshot },
    twins: outcome.twins,
  };
}

export type { Variant };
