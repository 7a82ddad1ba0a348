// The command-line entry: argv and an Io in, an exit status out.
// 0 success, 1 failure (any partial failure counts), 2 usage error.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { CliContext, Io } from './context.ts';
import { jsonStreamOf } from './context.ts';
import { addHelpSections, STANDARD_EXIT } from './options.ts';
import { reportError } from './render/errors.ts';
import { UsageError } from '../core/errors.ts';

type RegisterCommand = (program: Command, context: CliContext) => void;

/**
 * The top-level commands in help order. Each module is imported only when
 * its command is the one being run (or for help), so that a command loads its
 * own code and nothing else: start-up time counts for `scan` and `binfmt status`.
 * A command added here is picked up by help, completion, the man page and the
 * tests that walk the tree.
 */
const COMMANDS: readonly { readonly name: string; readonly load: () => Promise<RegisterCommand> }[] = [
  { name: 'inspect', load: async () => (await import('./commands/inspect.ts')).registerInspect },
  { name: 'explain', load: async () => (await import('./commands/explain.ts')).registerExplain },
  { name: 'scan', load: async () => (await import('./commands/scan.ts')).registerScan },
  { name: 'binfmt', load: async () => (await import('./commands/binfmt.ts')).registerBinfmt },
  { name: 'create', load: async () => (await import('./commands/create.ts')).registerCreate },
  { name: 'roots', load: async () => (await import('./commands/roots.ts')).registerRoots },
  { name: 'export', load: async () => (await import('./commands/export.ts')).registerExport },
  { name: 'accelerate', load: async () => (await import('./commands/accelerate.ts')).registerAccelerate },
  { name: 'icecream-env', load: async () => (await import('./commands/icecream-env.ts')).registerIcecreamEnv },
  { name: 'doctor', load: async () => (await import('./commands/doctor.ts')).registerDoctor },
  { name: 'run', load: async () => (await import('./commands/run.ts')).registerRun },
  { name: 'shell', load: async () => (await import('./commands/shell.ts')).registerShell },
  { name: 'completion', load: async () => (await import('./commands/completion.ts')).registerCompletion },
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

/**
 * The program with the commands argv needs (all of them for an empty argv).
 * Output and exit settings are made before any command is added: commander
 * copies them into each subcommand as it is created.
 */
export async function buildProgram(context: CliContext, argv: readonly string[] = []): Promise<Command> {
  const { io } = context;
  const program = new Command('crossroot')
    .description('Run, inspect and build software for any CPU architecture from one Linux machine.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError(false)
    // Options after a command are that command's (`explain /bin/ls --version` is ls's --version).
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      outputError: () => { /* reported by main() in crossroot's own format */ },
    })
    .exitOverride();
  addHelpSections(program, {
    examples: ['crossroot doctor', 'crossroot run --arch arm64 -- uname -m', 'crossroot inspect /bin/ls', 'crossroot help binfmt status'],
    exitStatus: `${STANDARD_EXIT} run and shell exit with the status of what they run.`,
  });
  const registers = await Promise.all(commandsFor(argv).map((command) => command.load()));
  for (const register of registers) register(program, context);
  return program;
}

/** The command argv names and how many words named it ("binfmt status --json" -> status, 2). */
function commandNamed(program: Command, argv: readonly string[]): { command: Command; depth: number } {
  let command = program;
  let depth = 0;
  for (const word of argv) {
    const sub = command.commands.find((candidate) => candidate.name() === word || candidate.aliases().includes(word));
    if (sub === undefined) break;
    command = sub;
    depth += 1;
  }
  return { command, depth };
}

/** "binfmt check " for argv ["binfmt", "check", "--bad"], for the hint. */
function commandPath(program: Command, argv: readonly string[]): string {
  const { depth } = commandNamed(program, argv);
  return argv.slice(0, depth).map((word) => `${word} `).join('');
}

/** commander's parse error as crossroot's usage error: its suggestion becomes the hint. */
function usageErrorOf(error: CommanderError, program: Command, argv: readonly string[]): UsageError {
  const [first = '', ...rest] = error.message.replace(/^error: /, '').split('\n');
  const suggestion = /\(Did you mean (\S+)\?\)/.exec(rest.join(' '))?.[1];
  const path = commandPath(program, argv);
  return new UsageError(`parse arguments: ${first.trim()}`, {
    hint: suggestion === undefined ? `run 'crossroot ${path}--help' for usage` : `did you mean '${path}${suggestion}'? Run 'crossroot ${path}--help' for the commands`,
  });
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  // `crossroot help binfmt status` is `crossroot binfmt status --help`.
  const words = argv[0] === 'help' ? [...argv.slice(1), '--help'] : [...argv];
  const context: CliContext = { io, argv: words, exitCode: 0, program: async () => buildProgram(context, []) };
  const program = await buildProgram(context, words);
  // A group named with nothing after it (`crossroot`, `crossroot binfmt`): its help, on stdout.
  const named = commandNamed(program, words);
  if (named.depth === words.length && named.command.commands.length > 0) {
    named.command.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(words, { from: 'user' });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        || error.code === 'commander.help') return 0;
      return reportError(io, usageErrorOf(error, program, words), words.includes('--json') ? jsonStreamOf(named.command) : null);
    }
    return reportError(io, error);
  }
}
