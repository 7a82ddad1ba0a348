// The command-line entry: argv and an Io in, an exit status out.
// 0 success, 1 failure (any partial failure counts), 2 usage error.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { CliContext, Io } from './context.ts';
import { reportError } from './context.ts';
import { UsageError } from '../core/errors.ts';

type RegisterCommand = (program: Command, context: CliContext) => void;

/**
 * The top-level commands in help order. Each module is imported only when
 * its command is the one being run (or for help), so that a command loads its
 * own code and nothing else: start-up time counts for `scan` and `binfmt status`.
 */
const COMMANDS: readonly { readonly name: string; readonly load: () => Promise<RegisterCommand> }[] = [
  { name: 'inspect', load: async () => (await import('./commands/inspect.ts')).registerInspect },
  { name: 'explain', load: async () => (await import('./commands/explain.ts')).registerExplain },
  { name: 'scan', load: async () => (await import('./commands/scan.ts')).registerScan },
  { name: 'binfmt', load: async () => (await import('./commands/binfmt.ts')).registerBinfmt },
  { name: 'create', load: async () => (await import('./commands/create.ts')).registerCreate },
  { name: 'roots', load: async () => (await import('./commands/roots.ts')).registerRoots },
  { name: 'accelerate', load: async () => (await import('./commands/accelerate.ts')).registerAccelerate },
  { name: 'icecream-env', load: async () => (await import('./commands/icecream-env.ts')).registerIcecreamEnv },
  { name: 'doctor', load: async () => (await import('./commands/doctor.ts')).registerDoctor },
  { name: 'run', load: async () => (await import('./commands/run.ts')).registerRun },
  { name: 'shell', load: async () => (await import('./commands/shell.ts')).registerShell },
];

/** The commands argv needs: the one it names; none for --version; all for help or anything else. */
function commandsFor(argv: readonly string[]): typeof COMMANDS {
  const first = argv[0];
  const named = COMMANDS.filter((command) => command.name === first);
  if (named.length > 0) return named;
  if (first === '-V' || first === '--version') return [];
  return COMMANDS;
}

/** From package.json: two levels up from both src/cli and dist/cli. */
export const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function buildProgram(context: CliContext, argv: readonly string[] = []): Promise<Command> {
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
  const registers = await Promise.all(commandsFor(argv).map((command) => command.load()));
  for (const register of registers) register(program, context);
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
  const program = await buildProgram(context, argv);
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
