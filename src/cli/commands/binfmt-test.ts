// `crossroot binfmt test [ARCH...]`: runs the probe program of each architecture
// directly and inside an empty root (new mount namespace), and explains every
// failure with the health reasons of the entry that handles it. Without
// arguments: every architecture the host does not run natively that has a
// handler (an architecture nobody registered is not "failing", it is absent;
// name it to test it anyway). Exit 1 when any tested architecture fails, or
// when there is nothing to test.
import type { Command } from 'commander';
import type { CliContext, Io } from '../context.ts';
import { onRun } from '../context.ts';
import { addBinfmtDirOption, addHelpSections, addJsonOption } from '../options.ts';
import { testResultJson } from '../render/binfmt.ts';
import { writeJson } from '../render/json.ts';
import { painter } from '../render/style.ts';
import { formatTable, plural } from '../render/table.ts';
import type { ArchName } from '../../core/arch/arch.ts';
import { ARCHITECTURES, resolveArch } from '../../core/arch/arch.ts';
import type { ArchVerdict } from '../../core/binfmt/health.ts';
import { describeProbe } from '../../core/binfmt/health.ts';
import { CrossrootError } from '../../core/errors.ts';
import { collectStatus } from '../../runner/binfmt/health.ts';

interface TestOptions {
  readonly binfmtDir: string;
  readonly json?: boolean;
}

function printHuman(io: Io, results: readonly ArchVerdict[]): void {
  const paint = painter(io);
  io.stdout(formatTable(['ARCH', 'HANDLER', 'DIRECT', 'EMPTY ROOT', 'RESULT'], results.map((verdict) => [
    verdict.arch,
    verdict.handler ?? (verdict.native === true ? '(native)' : '-'),
    verdict.probes === null ? '-' : verdict.probes.direct.ok ? 'ok' : describeProbe(verdict.probes.direct),
    verdict.probes === null ? '-' : verdict.probes.emptyRoot.ok ? 'ok' : describeProbe(verdict.probes.emptyRoot),
    verdict.works === true ? paint('good', 'ok') : paint('bad', 'FAILED'),
  ]), { width: io.columns }));
  for (const verdict of results.filter((candidate) => candidate.works !== true)) {
    io.stdout(`\n${verdict.arch}: ${verdict.reason ?? 'not probed'}\n`);
    const fix = verdict.problems.find((problem) => problem.fix !== null)?.fix;
    if (fix) io.stdout(`  fix: ${fix}\n`);
  }
  const failed = results.filter((verdict) => verdict.works !== true).length;
  io.stdout(`\n${results.length - failed} of ${plural(results.length, 'architecture')} work${results.length === 1 ? 's' : ''}\n`);
}

export function registerBinfmtTest(binfmt: Command, context: CliContext): void {
  const command = binfmt
    .command('test')
    .description('Run a tiny program of each architecture directly and inside an empty root, and explain every failure.')
    .argument('[arch...]', 'architectures by any name (arm64, armhf, linux/riscv64, ...); default: every registered foreign one');
  addBinfmtDirOption(command, 'the binfmt_misc instance to test');
  addJsonOption(command, 'print one JSON document: ok, instance, one result per architecture');
  addHelpSections(command, {
    examples: ['crossroot binfmt test', 'crossroot binfmt test arm64 riscv64 --json'],
    exitStatus: '0 every tested architecture works; 1 one fails, or nothing is registered to test; 2 usage error.',
  });
  onRun<TestOptions>(command, context, async (args, options) => {
    const { io } = context;
    const requested: ArchName[] | null = args.length === 0 ? null : [...new Set(args.map((alias) => resolveArch(alias).name))];
    const report = await collectStatus({
      binfmtDir: options.binfmtDir,
      probeArches: requested ?? ARCHITECTURES.map((arch) => arch.name),
      versions: false,
    });
    if (!report.mounted) {
      throw new CrossrootError('BINFMT_NOT_MOUNTED', `test binfmt_misc at '${report.path}': it is not mounted`, { hint: report.hint });
    }
    const results = requested === null
      ? report.verdict.arches.filter((verdict) => verdict.handler !== null && verdict.native !== true)
      : report.verdict.arches.filter((verdict) => requested.includes(verdict.arch));
    const ok = results.length > 0 && results.every((verdict) => verdict.works === true);
    if (options.json === true) {
      writeJson(io, {
        ok,
        path: report.path,
        namespace: report.namespace.namespace,
        note: report.namespace.note,
        results: results.map(testResultJson),
      });
    } else if (results.length === 0) {
      io.stderr('crossroot: test binfmt_misc: no foreign architecture is registered, nothing to test\n');
      io.stderr('hint: register emulators with \'crossroot binfmt install all\', or name architectures to test\n');
    } else {
      if (report.namespace.note !== null) io.stdout(`note: ${report.path} is a private instance: ${report.namespace.note}\n\n`);
      printHuman(io, results);
    }
    return ok ? 0 : 1;
  });
}
