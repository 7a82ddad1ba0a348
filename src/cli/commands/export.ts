// `crossroot export (ROOT | --arch ARCH[,ARCH...]) --output FILE [--format oci|docker]
//  [--tag NAME:TAG] [--json]`: roots as an OCI image layout tar or a docker archive.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext, Io } from '../context.ts';
import { onRun } from '../context.ts';
import { addArchOption, addHelpSections, addJsonOption, archOf } from '../options.ts';
import type { ArchOptions } from '../options.ts';
import { writeJson } from '../render/json.ts';
import { progressReporter } from '../render/progress.ts';
import { exportImage } from '../../runner/image/export.ts';
import type { ExportProgress, ExportResult, ImageFormat } from '../../runner/image/export.ts';
import { ensureManagedRoot } from '../../runner/roots/roots.ts';
import { checkTag } from '../../core/image/oci.ts';
import { UsageError } from '../../core/errors.ts';

interface ExportCliOptions extends ArchOptions {
  readonly output?: string;
  readonly format?: string;
  readonly tag?: string;
  readonly json?: boolean;
}

const FORMATS: readonly ImageFormat[] = ['oci', 'docker'];

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** One updating line on a terminal ("arm64: 5123 files, 80.2 MB"), nothing otherwise. */
function exportProgress(io: Io, quiet: boolean): { update: (event: ExportProgress) => void; done: () => void } {
  let last = 0;
  let drawn = false;
  if (quiet || io.stderrIsTTY !== true) return { update: () => { /* only on a terminal */ }, done: () => { /* nothing drawn */ } };
  return {
    update: (event) => {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const text = event.stage === 'layer'
        ? `exporting ${event.debianArch}: ${event.entries} files, ${megabytes(event.bytes)} read`
        : `writing the archive: ${megabytes(event.bytes)}`;
      io.stderr(`\r\x1b[K${text}`);
      drawn = true;
    },
    done: () => {
      if (drawn) io.stderr('\r\x1b[K');
    },
  };
}

export function renderExportResult(result: ExportResult): string {
  const lines = [`exported ${result.images.map((image) => image.platform).join(', ')} as ${result.format} image '${result.tag}' to ${result.output} (${megabytes(result.size)}) in ${result.seconds.toFixed(1)} s`];
  for (const image of result.images) {
    lines.push(`  ${image.platform}: ${image.entries} entries${image.skipped > 0 ? ` (${image.skipped} device nodes and sockets left out)` : ''}, layer ${megabytes(image.layerSize)}, manifest ${image.manifest}`);
  }
  if (result.index !== null) lines.push(`  index ${result.index}`);
  return `${lines.join('\n')}\n`;
}

export function registerExport(program: Command, context: CliContext): void {
  const command = program.command('export')
    .description('Write roots as an OCI image (tar of an image layout) or a docker archive, without a daemon, reproducibly.')
    .argument('[root]', 'root directory to export');
  addArchOption(command, 'export the managed roots of these architectures instead (comma-separated: one image index)');
  command
    .option('--output <file>', 'the archive to write')
    .option('--format <format>', 'oci (default: skopeo oci-archive:, podman load) or docker (docker load, podman load)')
    .option('--tag <name:tag>', 'image name (default: crossroot-ARCH:latest)');
  addJsonOption(command, 'print one JSON object: output, format, tag, index, size, seconds, images');
  addHelpSections(command, {
    examples: [
      'crossroot export ./arm64-root --output arm64.tar && skopeo copy oci-archive:arm64.tar docker://registry.example/root:arm64',
      'crossroot export --arch arm64,amd64 --output multi.tar --tag myroot:latest',
      'crossroot export ./root --format docker --output root.tar && podman load -i root.tar',
    ],
    exitStatus: '0 the archive was written; 1 it could not be (nothing is left at FILE); 2 usage error.',
  });
  onRun<ExportCliOptions>(command, context, async ([root], options) => {
    const { io } = context;
    if (options.output === undefined) throw new UsageError("export: '--output' is required", { hint: "e.g. 'crossroot export ./arm64-root --output arm64.tar'" });
    const archList = archOf(options);
    if ((root === undefined) === (archList === undefined)) {
      throw new UsageError('export: give either ROOT or --arch', { hint: "e.g. 'crossroot export ./arm64-root --output root.tar' or 'crossroot export --arch arm64,amd64 --output multi.tar'" });
    }
    const format = options.format ?? 'oci';
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`parse option '--format': '${format}' is not one of ${FORMATS.join(', ')}`);
    const tag = options.tag === undefined ? undefined : checkTag(options.tag);
    const quiet = options.json === true;
    let roots: string[];
    if (root !== undefined) {
      roots = [resolve(io.cwd, root)];
    } else {
      const archs = (archList ?? '').split(',').map((arch) => arch.trim()).filter((arch) => arch !== '');
      if (archs.length === 0) throw new UsageError("parse option '--arch': no architecture given");
      roots = [];
      for (const arch of archs) {
        const creating = progressReporter(io, { quiet });
        try {
          roots.push((await ensureManagedRoot(arch, { progress: creating.update, json: quiet, env: io.env })).dir);
        } finally {
          creating.done();
        }
      }
    }
    const progress = exportProgress(io, quiet);
    let result: ExportResult;
    try {
      result = await exportImage({
        roots, output: resolve(io.cwd, options.output), format: format as ImageFormat, tag,
        sourceDateEpoch: io.env['SOURCE_DATE_EPOCH'], onProgress: progress.update,
      });
    } finally {
      progress.done();
    }
    if (options.json === true) writeJson(io, result);
    else io.stdout(renderExportResult(result));
    return 0;
  });
}
