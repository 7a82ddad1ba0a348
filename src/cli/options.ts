// The options several commands share, defined once: --arch (with --platform,
// the OCI spelling, as its alias), --json, --quiet, --verbose, --progress,
// --binfmt-dir; and the help sections every command has (EXAMPLES, EXIT STATUS).
import { Option } from 'commander';
import type { Command } from 'commander';
import { DEFAULT_BINFMT_DIR } from '../kernel/binfmt-fs.ts';
import { PROGRESS_MODES } from './render/progress.ts';
import type { ProgressMode } from './render/progress.ts';

/** `--arch ARCH` and its alias `--platform linux/arm64/v8` (docker's spelling); read both with archOf(). */
export function addArchOption(command: Command, description: string): Command {
  return command
    .option('--arch <arch>', description)
    .addOption(new Option('--platform <platform>', 'the same as --arch, in OCI form (linux/arm64/v8)').conflicts('arch'));
}

export interface ArchOptions {
  readonly arch?: string;
  readonly platform?: string;
}

export function archOf(options: ArchOptions): string | undefined {
  return options.arch ?? options.platform;
}

export function addJsonOption(command: Command, description = 'print one JSON document'): Command {
  return command.option('--json', description);
}

/** --quiet and --progress, for commands that show progress. */
export function addProgressOptions(command: Command): Command {
  return command
    .option('-q, --quiet', 'print no progress')
    .addOption(new Option('--progress <mode>', 'progress display: a redrawn line on a terminal (tty), plain lines (plain), or tty when stderr is a terminal (auto)')
      .choices(PROGRESS_MODES).default('auto', 'auto'));
}

export interface ProgressOptions {
  readonly quiet?: boolean;
  readonly progress?: ProgressMode;
}

export function addBinfmtDirOption(command: Command, description = 'the binfmt_misc instance'): Command {
  return command.addOption(new Option('--binfmt-dir <dir>', description).default(DEFAULT_BINFMT_DIR, DEFAULT_BINFMT_DIR));
}

export function addVerboseOption(command: Command, description: string): Command {
  return command.option('-v, --verbose', description);
}

/** Collects a repeatable option's values. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The EXIT STATUS most commands have. */
export const STANDARD_EXIT = '0 success; 1 failure; 2 usage error (a bad option, argument or architecture name).';

export interface HelpSections {
  readonly examples: readonly string[];
  readonly exitStatus?: string;
}

/** The sections of each command, for the man page (commander keeps help text only as text). */
const SECTIONS = new WeakMap<Command, Required<HelpSections>>();

export function helpSectionsOf(command: Command): Required<HelpSections> | undefined {
  return SECTIONS.get(command);
}

/** The help sections every command has: EXAMPLES and EXIT STATUS, after the options. */
export function addHelpSections(command: Command, sections: HelpSections): Command {
  SECTIONS.set(command, { examples: sections.examples, exitStatus: sections.exitStatus ?? STANDARD_EXIT });
  const lines = ['', 'EXAMPLES', ...sections.examples.map((example) => `  ${example}`), '', 'EXIT STATUS', `  ${sections.exitStatus ?? STANDARD_EXIT}`];
  return command.addHelpText('after', lines.join('\n'));
}
