// `crossroot doctor [--json] [--fix]`: is this machine ready for crossroot? Each
// check has a stable id, a severity, a message and a fix. Exit 1 when any
// error-severity check fails. --fix installs the Debian packages that fix
// failed checks (as root; otherwise it prints the command).
import type { Command } from 'commander';
import type { CliContext, Io } from '../context.ts';
import { onRun, writeJson } from '../context.ts';
import type { DoctorCheck } from '../../core/host/doctor.ts';
import { doctorOk } from '../../core/host/doctor.ts';
import { DEFAULT_BINFMT_DIR } from '../../kernel/binfmt-fs.ts';
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
  for (const check of checks) {
    const mark = check.ok ? 'ok  ' : check.severity === 'error' ? 'FAIL' : check.severity === 'warning' ? 'warn' : 'note';
    io.stdout(`${mark}  ${check.id.padEnd(26)} ${check.message}\n`);
    if (!check.ok && check.fix !== null) io.stdout(`      ${''.padEnd(26)} fix: ${check.fix}\n`);
  }
  if (fix !== null && fix.packages.length > 0) {
    io.stdout(fix.ran
      ? `\n${fix.ok ? 'installed' : 'FAILED to install'}: ${fix.packages.join(' ')}\n`
      : `\nrun as root to fix: ${fix.argv.join(' ')}\n`);
  }
  const failed = checks.filter((check) => !check.ok && check.severity === 'error').length;
  io.stdout(failed === 0 ? '\nno errors\n' : `\n${failed} error${failed === 1 ? '' : 's'}\n`);
}

export function registerDoctor(program: Command, context: CliContext): void {
  const command = program
    .command('doctor')
    .description('Check that this machine can run foreign programs and roots: kernel, binfmt_misc, user namespaces, emulators, tools.')
    .option('--binfmt-dir <dir>', 'the binfmt_misc instance to check', DEFAULT_BINFMT_DIR)
    .option('--fix', 'install the Debian packages that fix failed checks (as root; otherwise print the command)')
    .option('--icecream <scheduler[:port]>', 'also check this icecream scheduler: reachable, and how many helpers and cores it offers')
    .option('--json', 'print one JSON document');
  onRun<DoctorOptions>(command, context, async (_args, options) => {
    const { io } = context;
    let checks = await runDoctor({ binfmtDir: options.binfmtDir, env: io.env, icecream: options.icecream });
    let fix: FixResult | null = null;
    if (options.fix) {
      fix = await fixChecks(checks);
      if (fix.ran) checks = await runDoctor({ binfmtDir: options.binfmtDir, env: io.env, icecream: options.icecream });
      if (fix.ran && !fix.ok && !options.json) io.stderr(`crossroot: install packages: apt-get failed\n${fix.output.trim().split('\n').slice(-5).join('\n')}\n`);
    }
    const ok = doctorOk(checks) && (fix === null || fix.packages.length === 0 || (fix.ran && fix.ok));
    if (options.json) {
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
