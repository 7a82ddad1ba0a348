// `crossroot create --from-tar`: a root filesystem tarball imported into a
// partial tree (no entry may write outside it), its architecture read from
// its programs, then marked and renamed into place like a bootstrapped root.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { CrossrootError } from '../../core/errors.ts';
import { INITIAL_PROGRESS, resolveTargetArch } from '../../core/create/create-plan.ts';
import type { TargetArch } from '../../core/create/create-plan.ts';
import { resolveHostPathInRoot } from '../fs/root-fs.ts';
import { detectRootArch } from '../fs/root-arch.ts';
import { removeTree } from './build-namespace.ts';
import { checkTarget, makePartialDir, putInPlace, writeMarker } from './target.ts';
import type { CreateOptions, CreateResult } from './create.ts';
import { applyImage, imagePlatformWarnings } from '../image/import.ts';
import { extractRootTarball } from './root-tarball.ts';

/** The root's architecture with its Debian port, or null (no ELF essential program, or no Debian port). */
function rootTargetArch(root: string): TargetArch | null {
  const found = detectRootArch(root);
  return found === null || found.debianArch === null ? null : { arch: found.arch, debianArch: found.debianArch };
}

function osReleaseCodename(root: string): string | null {
  try {
    const path = resolveHostPathInRoot(root, '/etc/os-release').hostPath;
    if (!statSync(path).isFile()) return null;
    return /^VERSION_CODENAME=["']?([a-z0-9.-]+)/m.exec(readFileSync(path, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

export async function importTarball(options: CreateOptions, dir: string, started: number): Promise<CreateResult> {
  const image = options.fromImage !== undefined;
  const file = resolve(options.fromImage ?? options.fromTar ?? '');
  if (!existsSync(file) || !(statSync(file).isFile() || (image && statSync(file).isDirectory()))) throw new CrossrootError('NOT_FOUND', `import '${file}': no such file`);
  const wanted = options.arch === undefined ? null : resolveTargetArch(options.arch);
  const existing = checkTarget(dir, options.force === true);
  const partial = await makePartialDir(dir);
  try {
    const stage = (name: string): void => options.onProgress?.({ ...INITIAL_PROGRESS, stage: name }, (performance.now() - started) / 1000);
    stage(`extracting ${basename(file)}`);
    const applied = image ? await applyImage(file, partial, { debianArch: wanted?.debianArch, onStage: stage }) : null;
    if (!image) await extractRootTarball(file, partial);
    const found = rootTargetArch(partial);
    if (found === null) {
      throw new CrossrootError('CREATE_FAILED', `import '${file}': the archive holds no root filesystem with an ELF /bin/sh`, { hint: 'a root tarball has bin/sh at its top level' });
    }
    if (wanted !== null && wanted.arch.name !== found.arch.name) {
      throw new CrossrootError('CREATE_FAILED', `import '${file}': its /bin/sh is '${found.debianArch}', not '${wanted.debianArch}'`);
    }
    const target = wanted ?? found;
    const warnings = applied === null ? [] : [...applied.warnings, ...imagePlatformWarnings(applied, found.debianArch)];
    const suite = osReleaseCodename(partial) ?? 'unknown';
    const variant = options.variant ?? 'imported';
    writeMarker(partial, {
      format: 1, arch: target.arch.name, debianArch: found.debianArch, suite, variant, includes: [], mirror: null,
      tool: image ? 'image' : 'tar', created: new Date().toISOString(), ownerUid: process.getuid?.() ?? 0,
    });
    await putInPlace(partial, dir, existing);
    return {
      dir, arch: target.arch.name, debianArch: found.debianArch, suite, variant, tool: image ? 'image' : 'tar', ...(image ? { warnings } : {}),
      seconds: (performance.now() - started) / 1000, cache: { hit: false, packages: 0, downloaded: 0, snapshot: false },
    };
  } catch (error) {
    await removeTree(partial).catch(() => { /* best effort */ });
    throw error;
  }
}

