// `crossroot inspect PATH... [--root DIR] [--json]`: what each file is.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { onRun } from '../context.ts';
import { addHelpSections, addJsonOption } from '../options.ts';
import { writeJson } from '../render/json.ts';
import { checkedRoot, inspectPath } from '../../runner/inspect/inspect.ts';
import type { InspectRecord } from '../../runner/inspect/inspect.ts';

interface InspectOptions {
  readonly root?: string;
  readonly json?: boolean;
}

export function registerInspect(program: Command, context: CliContext): void {
  const command = program.command('inspect')
    .description('Show what files are: ELF (class, machine, architecture, loader, libraries), #! script, or other.')
    .argument('<path...>', 'files to inspect')
    .option('--root <dir>', 'resolve each PATH inside this root directory, symlinks included, as a chroot would');
  addJsonOption(command, 'print a JSON array, one object per path');
  addHelpSections(command, {
    examples: ['crossroot inspect /bin/ls', 'crossroot inspect --root ./arm64-root /usr/bin/python3 --json'],
    exitStatus: '0 every path was read; 1 one could not be (the others are still shown); 2 usage error.',
  });
  onRun<InspectOptions>(command, context, async (paths, options) => {
    const { io } = context;
    const root = options.root === undefined ? undefined : checkedRoot(resolve(io.cwd, options.root));
    const records = paths.map((path) => inspectPath(path, { cwd: io.cwd, root }));
    if (options.json === true) writeJson(io, records);
    else for (const record of records) io.stdout(`${describe(record)}\n`);
    for (const record of records) {
      if (record.error !== undefined) io.stderr(`crossroot: ${record.error.message}\n`);
    }
    return records.some((record) => record.error !== undefined) ? 1 : 0;
  });
}

/** One compact line per file. */
export function describe(record: InspectRecord): string {
  const where = record.resolvedPath !== undefined && record.resolvedPath !== record.path
    ? `${record.path} (-> ${record.resolvedPath})` : record.path;
  if (record.kind === null) return `${where}: unreadable (${record.error?.code ?? 'IO'})`;
  if (record.kind === 'other') return `${where}: not ELF, not a script`;
  if (record.kind === 'script') {
    const script = record.script;
    if (script === undefined || script.interpreter === null) {
      return `${where}: script with an unusable #! line (${script?.reason ?? 'unknown'}: ${script?.errno ?? 'ENOEXEC'})`;
    }
    // A CR stays visible: the kernel takes it as part of the interpreter or argument.
    const shown = (text: string): string => text.replace(/\r/g, '\\r');
    return `${where}: script, interpreter ${shown(script.interpreter)}${script.argument === null ? '' : `, argument '${shown(script.argument)}'`}`
      + (script.crlf ? ' (CRLF line ending: the kernel keeps the \\r)' : '');
  }
  const elf = record.elf;
  if (elf === undefined) {
    const what = record.error?.code === 'ELF_TRUNCATED' ? 'truncated' : 'malformed';
    return `${where}: ELF, ${what}${record.error?.detail === undefined ? '' : `: ${record.error.detail}`}`;
  }
  const arch = record.arch === null
    ? (record.debianArch === null ? 'no QEMU target' : `${record.debianArch}, no QEMU target`)
    : record.debianArch === null ? record.arch : `${record.arch} (${record.debianArch})`;
  const parts = [
    `ELF ${elf.class}-bit ${elf.endian === 'little' ? 'LSB' : 'MSB'} ${elf.type}${elf.pie ? ' (PIE)' : ''}`,
    `${elf.machineName}${elf.abi === null ? '' : ` ${elf.abi}`}, ${arch}`,
    `${elf.osabiName}, ${elf.flagsText ?? `flags 0x${elf.flags.toString(16)}`}`,
  ];
  if (elf.interpreter !== null) parts.push(`interpreter ${elf.interpreter}`);
  else if (elf.static && elf.type === 'EXEC') parts.push('static');
  else if (elf.static && elf.pie) parts.push('static-pie');
  if (elf.soname !== null) parts.push(`soname ${elf.soname}`);
  if (elf.needed.length > 0) parts.push(`needs ${elf.needed.join(' ')}`);
  if (elf.runpath !== null) parts.push(`runpath ${elf.runpath}`);
  if (elf.rpath !== null) parts.push(`rpath ${elf.rpath}`);
  if (elf.buildId !== null) parts.push(`build-id ${elf.buildId}`);
  return `${where}: ${parts.join(', ')}`;
}

