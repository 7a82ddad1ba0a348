// `crossroot doctor [--json] [--fix]`: is this machine ready for crossroot? Each
// check has a stable id, a severity, a message and a fix. Exit 1 when any
// error-severity check fails. --fix installs the Debian packages that fix
// failed checks (as root; otherwise it prints the command).
import type { Command } from 'commander';
import type { CliContext, Io } from '../context.ts';
import { onRun } from '../context.ts';
import { addBinfmtDirOption, addHelpSections, addJsonOption } from '../options.ts';
import { writeJson } from '../render/json.ts';
import { painter } from '../render/style.ts';
import { formatTable, plural } from '../render/table.ts';
import type { DoctorCheck } from '../../core/host/doctor.ts';
import { doctorOk } from '../../core/host/doctor.ts';
import type { FixResult } from '../../runner/host/doctor.ts';
import { fixChecks, runDoctor } from '../../runner/host/doctor.ts';

interface DoctorOptions {
  readonly json?: boolean;
  readonly fix?: boolean;
  readonly binfmtDir: string;
  readonly icecream?: string;
}

function checkJson(check: DoctorCheck) {
  return { id: check.id, ok: check.ok, severity: check.severity, message: check.message, fix: check.fix };
}

function printHuman(io: Io, checks: readonly DoctorCheck[], fix: FixResult | null): void {
  const paint = painter(io);
  const rows: string[][] = [];
  for (const check of checks) {
    const mark = check.ok ? 'ok' : check.severity === 'error' ? paint('bad', 'FAIL') : check.severity === 'warning' ? paint('warn', 'warn') : 'note';
    rows.push([mark, check.id, check.message]);
    if (!check.ok && check.fix !== null) rows.push(['', '', `fix: ${check.fix}`]);
  }
  io.stdout(formatTable(null, rows, { width: io.columns }));
  if (fix !== null && fix.packages.length > 0) {
    io.stdout(fix.ran
      ? `\n${fix.ok ? 'installed' : 'FAILED to install'}: ${fix.packages.join(' ')}\n`
      : `\nrun as root to fix: ${fix.argv.join(' ')}\n`);
  }
  const failed = checks.filter((check) => !check.ok && check.severity === 'error').length;
  io.stdout(failed === 0 ? `\n${paint('good', 'no errors')}\n` : `\n${paint('bad', plural(failed, 'error'))}\n`);
}

export function registerDoctor(program: Command, context: CliContext): void {
  const command = program
    .command('doctor')
    .description('Check that this machine can run foreign programs and roots: kernel, binfmt_misc, user namespaces, emulators, tools.')
    .option('--fix', 'install the Debian packages that fix failed checks (as root; otherwise print the command)')
    .option('--icecream <scheduler[:port]>', 'also check this icecream scheduler: reachable, and how many helpers and cores it offers');
  addBinfmtDirOption(command, 'the binfmt_misc instance to check');
  addJsonOption(command, 'print one JSON document: ok, one record per check');
  addHelpSections(command, {
    examples: ['crossroot doctor', 'crossroot doctor --fix', 'crossroot doctor --json', 'crossroot doctor --icecream scheduler.lan'],
    exitStatus: '0 no check failed with severity error (warnings do not count); 1 one did; 2 usage error.',
  });
  onRun<DoctorOptions>(command, context, async (_args, options) => {
    const { io } = context;
    let checks = await runDoctor({ binfmtDir: options.binfmtDir, env: io.env, icecream: options.icecream });
    let fix: FixResult | null = null;
    if (options.fix) {
      fix = await fixChecks(checks);
      if (fix.ran) checks = await runDoctor({ binfmtDir: options.binfmtDir, env: io.env, icecream: options.icecream });
      if (fix.ran && !fix.ok && options.json !== true) io.stderr(`crossroot: ${fix.error ?? 'install packages: apt-get failed'}\n`);
    }
    const ok = doctorOk(checks) && (fix === null || fix.packages.length === 0 || (fix.ran && fix.ok));
    if (options.json === true) {
      writeJson(io, {
        ok,
        checks: checks.map(checkJson),
        ...(fix === null ? {} : { fix: { packages: fix.packages, ran: fix.ran, ok: fix.ok, command: fix.argv.join(' ') } }),
      });
    } else {
      printHuman(io, checks, fix);
    }
    return ok ? 0 : 1;
  });
}
