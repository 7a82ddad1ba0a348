// The command-line entry: argv and an Io in, an exit status out.
// 0 success, 1 failure (any partial failure counts), 2 usage error.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { CliContext, Io } from './context.ts';
import { reportError } from './context.ts';
import { UsageError } from '../core/errors.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerExplain } from './commands/explain.ts';
import { registerScan } from './commands/scan.ts';
import { registerBinfmt } from './commands/binfmt.ts';
import { registerDoctor } from './commands/doctor.ts';

/** From package.json: two levels up from both src/cli and dist/cli. */
export const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function buildProgram(context: CliContext): Command {
  const { io } = context;
  const program = new Command('crossroot')
    .description('Run, inspect and build software for any CPU architecture from one Linux machine.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      outputError: () => { /* reported by main() in crossroot's own format */ },
    })
    .exitOverride();
  registerInspect(program, context);
  registerExplain(program, context);
  registerScan(program, context);
  registerBinfmt(program, context);
  registerDoctor(program, context);
  // Subcommands inherit the output and exit behaviour.
  const inherit = (command: Command): void => {
    for (const sub of command.commands) {
      sub.configureOutput({
        writeOut: (text) => io.stdout(text),
        writeErr: (text) => io.stderr(text),
        outputError: () => { /* reported by main() */ },
      }).exitOverride();
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const context: CliContext = { io, exitCode: 0 };
  const program = buildProgram(context);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        || error.code === 'commander.help') return 0;
      const message = error.message.replace(/^error: /, '');
      const name = commandPath(program, argv);
      return reportError(io, new UsageError(`parse arguments: ${message}`, {
        hint: `run 'crossroot ${name}--help' for usage`,
      }));
    }
    return reportError(io, error);
  }
}

/** "binfmt check " for argv ["binfmt", "check", "--bad"], for the hint. */
function commandPath(program: Command, argv: readonly string[]): string {
  let command = program;
  let path = '';
  for (const word of argv) {
    const sub = command.commands.find((candidate) => candidate.name() === word);
    if (!sub) break;
    command = sub;
    path += `${word} `;
  }
  return path;
}
