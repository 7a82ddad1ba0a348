// `crossroot completion bash|zsh|fish`: the shell completion script, generated
// from the command tree, so that every command and option is in it.
import { Argument } from 'commander';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { onRun } from '../context.ts';
import { addHelpSections, addJsonOption } from '../options.ts';
import { completionScript, SHELLS } from '../render/completion.ts';
import type { Shell } from '../render/completion.ts';
import { writeJson } from '../render/json.ts';
import { commandTree } from '../tree.ts';

export function registerCompletion(program: Command, context: CliContext): void {
  const command = program.command('completion')
    .description('Print the shell completion script for bash, zsh or fish.')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS));
  addJsonOption(command, 'print the command tree the script is generated from, as JSON');
  addHelpSections(command, {
    examples: [
      'crossroot completion bash > /etc/bash_completion.d/crossroot',
      'crossroot completion zsh > "${fpath[1]}/_crossroot"',
      'crossroot completion fish > ~/.config/fish/completions/crossroot.fish',
    ],
  });
  onRun<{ json?: boolean }>(command, context, async ([shell], options) => {
    const tree = commandTree(await context.program());
    if (options.json === true) writeJson(context.io, tree);
    else context.io.stdout(completionScript(shell as Shell, tree));
    return 0;
  });
}
