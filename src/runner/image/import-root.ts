// The library's importImage: `crossroot create DIR --from-image FILE`.
import { createRoot } from '../create/create.ts';
import type { CreateOptions, CreateResult } from '../create/create.ts';

export interface ImportImageOptions {
  readonly dir: string;
  /** An OCI image layout (directory or tar) or a docker archive. */
  readonly file: string;
  /** Which platform of an image index; also checked against the image's ELF files. */
  readonly arch?: string | undefined;
  readonly force?: boolean | undefined;
  readonly onProgress?: CreateOptions['onProgress'];
}

export function importImage(options: ImportImageOptions): Promise<CreateResult> {
  return createRoot({ dir: options.dir, fromImage: options.file, arch: options.arch, force: options.force, onProgress: options.onProgress });
}
