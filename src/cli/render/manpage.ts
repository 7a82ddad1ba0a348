// crossroot(1), in roff, from the command tree (cli/tree.ts): the same
// descriptions, options, examples and exit statuses as --help. `npm run build`
// writes it to dist/man/crossroot.1; package.json's `man` field installs it.
import type { CommandNode } from '../tree.ts';
import { allCommands } from '../tree.ts';

/** Text safe in roff: backslashes doubled, a leading dot or quote escaped, dashes as \-. */
export function roffText(text: string): string {
  return text.replaceAll('\\', '\\e').replaceAll('-', '\\-').replace(/^([.'])/gm, '\\&$1');
}

function commandSection(node: CommandNode): string[] {
  const name = ['crossroot', ...node.path].join(' ');
  const lines = [`.SS "${roffText(`${name} ${node.usage}`).replaceAll('"', '\\(dq')}"`, roffText(node.description)];
  for (const option of node.options) lines.push('.TP', `.B ${roffText(option.flags)}`, roffText(option.description));
  if (node.examples.length > 0) {
    lines.push('.PP', 'Examples:', '.RS', '.nf');
    for (const example of node.examples) lines.push(roffText(example));
    lines.push('.fi', '.RE');
  }
  if (node.exitStatus !== null) lines.push('.PP', `Exit status: ${roffText(node.exitStatus)}`);
  return lines;
}

export function manPage(tree: CommandNode, version: string, date: string): string {
  const commands = allCommands(tree).filter((node) => node.path.length > 0);
  return [
    `.TH CROSSROOT 1 "${date}" "crossroot ${version}" "User Commands"`,
    '.SH NAME',
    'crossroot \\- run, inspect and build software for any CPU architecture from one Linux machine',
    '.SH SYNOPSIS',
    '.B crossroot',
    '.I command',
    '[options] [arguments]',
    '.SH DESCRIPTION',
    roffText(tree.description),
    'Every command takes \\fB\\-\\-help\\fR and \\fB\\-\\-json\\fR; colour is used only on a terminal and never when NO_COLOR is set.',
    '.SH COMMANDS',
    ...commands.flatMap(commandSection),
    '.SH EXIT STATUS',
    '0 success; 1 failure; 2 usage error. \\fBrun\\fR and \\fBshell\\fR exit with the status of the program they run.',
    '.SH ENVIRONMENT',
    '.TP', '.B NO_COLOR', 'When set and not empty, no colour.',
    '.TP', '.B CROSSROOT_HOME', 'Where the managed roots and caches live.',
    '.TP', '.B CROSSROOT_DEBUG', 'When set, an internal error prints its stack.',
    '.SH SEE ALSO',
    '.BR binfmt_misc (7),',
    '.BR qemu-user (1),',
    '.BR mmdebstrap (1)',
    '',
  ].join('\n');
}
