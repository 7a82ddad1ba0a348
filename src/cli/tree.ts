// The command tree as data, read from the commander definitions: the one
// source of help, shell completion and the man page, so that a command or an
// option added anywhere appears in all three.
import type { Command } from 'commander';
import { helpSectionsOf } from './options.ts';

export interface OptionNode {
  /** "--arch <arch>", "-v, --verbose". */
  readonly flags: string;
  readonly long: string | undefined;
  readonly short: string | undefined;
  readonly description: string;
  readonly takesValue: boolean;
  readonly choices: readonly string[];
}

export interface CommandNode {
  /** ["binfmt", "status"]; [] for the program. */
  readonly path: readonly string[];
  readonly description: string;
  readonly usage: string;
  readonly options: readonly OptionNode[];
  readonly examples: readonly string[];
  readonly exitStatus: string | null;
  readonly commands: readonly CommandNode[];
}

export function commandTree(command: Command, path: readonly string[] = []): CommandNode {
  const sections = helpSectionsOf(command);
  return {
    path,
    description: command.description(),
    usage: command.usage(),
    options: command.options.filter((option) => !option.hidden).map((option) => ({
      flags: option.flags,
      long: option.long,
      short: option.short,
      description: option.description,
      takesValue: option.required || option.optional,
      choices: option.argChoices ?? [],
    })),
    examples: sections?.examples ?? [],
    exitStatus: sections?.exitStatus ?? null,
    commands: command.commands.map((sub) => commandTree(sub, [...path, sub.name()])),
  };
}

/** Every node of the tree, the program first, depth first. */
export function allCommands(node: CommandNode): CommandNode[] {
  return [node, ...node.commands.flatMap(allCommands)];
}
