// crossroot explain PATH [ARG...]: predicts, without running anything, how
// execve(PATH, [argv0, ARG...]) goes on this kernel with the visible
// binfmt_misc entries. Exit 0 when the exec would succeed and the program
// start, 1 when either would fail (the prediction itself worked), 2 on usage errors.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { onRun } from '../context.ts';
import { addHelpSections, addJsonOption } from '../options.ts';
import { displayable, displayText as fromBytes, writeJson } from '../render/json.ts';
import type { ExecStep, Problem } from '../../core/exec/simulate.ts';
import { UsageError } from '../../core/errors.ts';
import { DEFAULT_BINFMT_DIR } from '../../kernel/binfmt-fs.ts';
import type { ExplainOptions, ExplainReport } from '../../runner/inspect/explain.ts';
import { explain } from '../../runner/inspect/explain.ts';

export function registerExplain(program: Command, context: CliContext): void {
  const command = program.command('explain')
    .description('Predict how the kernel would execute PATH: binfmt_misc entry, #! script, ELF loader, argv and errno.')
    .argument('<path>', 'the file to execute, as execve(2) would get it (relative to the current directory)')
    .argument('[args...]', "the program's arguments after argv[0]: every word after PATH, options included")
    // Words after PATH are the program's (`explain /bin/ls --version`), not crossroot's options.
    .passThroughOptions()
    .option('--argv0 <name>', 'the argv[0] the caller passes (default: PATH)')
    .option('--root <dir>', 'predict for a process chrooted at DIR: paths and interpreters are looked up inside it')
    .option('--binfmt-dir <dir>', `the binfmt_misc instance to use (default: ${DEFAULT_BINFMT_DIR})`);
  addJsonOption(command, 'print one JSON object: steps, argv, loader, errno, problems');
  addHelpSections(command, {
    examples: ['crossroot explain /bin/ls --version', 'crossroot explain --root ./arm64-root /usr/bin/python3 -c pass', 'crossroot explain ./script.sh --json'],
    exitStatus: '0 the exec would succeed and the program start; 1 either would fail (or crossroot could not tell); 2 usage error.',
  });
  onRun<ExplainOptions & { json?: boolean }>(command, context, async (args, options) => {
    const [path, ...rest] = args;
    if (path === undefined || path === '') throw new UsageError('explain: give the PATH to execute');
    const report = explain(path, rest, options, context.io);
    if (options.json === true) writeJson(context.io, displayable(report));
    else context.io.stdout(renderExplain(report));
    return report.ok && report.starts ? 0 : 1;
  });
}

function quoteArgv(argv: readonly string[]): string {
  return `[${argv.map((arg) => JSON.stringify(fromBytes(arg))).join(', ')}]`;
}

function renderStep(step: ExecStep, index: number): string {
  const file = fromBytes(step.file);
  const next = step.interpreter === undefined ? '' : fromBytes(step.interpreter);
  let text: string;
  switch (step.handler) {
    case 'binfmt_misc':
      text = `binfmt_misc entry '${fromBytes(step.entry ?? '')}' matches ${file} (${fromBytes(step.detail)}): ${step.result === 'failed' ? `cannot open ${next}` : `runs ${next}`}`;
      break;
    case 'script':
      text = step.result === 'declined' ? `${file} starts with #!, but ${fromBytes(step.detail)}` : `${file} is a script (${fromBytes(step.detail)}): ${step.result === 'failed' ? `cannot open ${next}` : `runs ${next}`}`;
      break;
    case 'elf':
      text = step.result === 'loaded' ? `${file}: ${fromBytes(step.detail)}: the kernel loads it` : `${file}: ${fromBytes(step.detail)}`;
      break;
  }
  const argv = step.result === 'declined' ? '' : `\n   argv ${quoteArgv(step.argv)}`;
  const errno = step.errno === undefined ? '' : ` (${step.errno})`;
  return `${index + 1}. ${text}${errno}${argv}\n`;
}

function renderProblem(problem: Problem): string {
  return `${problem.severity}: [${problem.code}] ${fromBytes(problem.message)}\n  fix: ${fromBytes(problem.fix)}\n`;
}

export function renderExplain(report: ExplainReport): string {
  let out = `execve(${JSON.stringify(fromBytes(report.path))})${report.root === null ? '' : ` inside root ${fromBytes(report.root)}`}\n`;
  report.steps.forEach((step, index) => { out += renderStep(step, index); });
  if (report.ok) {
    out += `=> ok: runs ${fromBytes(report.program ?? '')}${report.loader === null ? ' (static)' : ` with loader ${fromBytes(report.loader)}`}\n`;
    out += `   argv ${quoteArgv(report.argv ?? [])}\n`;
    const auxv = [report.execfd ? 'AT_EXECFD' : '', report.preserveArgv0 ? 'AT_FLAGS_PRESERVE_ARGV0' : ''].filter(Boolean);
    if (auxv.length > 0) out += `   auxv ${auxv.join(', ')}\n`;
    const cause = report.starts ? undefined : report.problems.find((problem) => problem.severity === 'error');
    if (cause !== undefined) out += `=> but the program fails to start: ${fromBytes(cause.message)}\n`;
  } else {
    const cause = report.problems.find((problem) => problem.severity === 'error');
    out += `=> fails with ${report.errno ?? '?'}${cause === undefined ? '' : `: ${fromBytes(cause.message)}`}\n`;
  }
  if (report.problems.length > 0) {
    out += '\n';
    for (const problem of report.problems) out += renderProblem(problem);
  }
  return out;
}
