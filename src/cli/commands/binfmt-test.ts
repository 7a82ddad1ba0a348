// `crossroot binfmt test [ARCH...]`: runs the probe program of each architecture
// directly and inside an empty root (new mount namespace), and explains every
// failure with the health reasons of the entry that handles it. Without
// arguments: every architecture the host does not run natively that has a
// handler (an architecture nobody registered is not "failing", it is absent;
// name it to test it anyway). When the instance cannot answer (binfmt_misc
// not mounted, or no foreign entry and no architecture named) the test runs in
// a private instance of crossroot's own with its entries for the emulators on
// disk, as `run` does (runner/binfmt/private-test.ts); `privateInstance` in
// the JSON says so. Exit 1 when any tested architecture fails, or when there
// is nothing to test.
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
import { describeProbe, testedVerdicts } from '../../core/binfmt/health.ts';
import { CrossrootError } from '../../core/errors.ts';
import type { NamespaceKind, StatusReport } from '../../runner/binfmt/health.ts';
import { collectStatus } from '../../runner/binfmt/health.ts';
import { PRIVATE_TEST_NOTE, testInPrivateInstance } from '../../runner/binfmt/private-test.ts';

interface TestedInstance {
  readonly results: readonly ArchVerdict[];
  /** True when the instance at the path could not answer and crossroot tested one of its own (private-test.ts). */
  readonly privateInstance: boolean;
  readonly namespace: NamespaceKind;
  readonly note: string | null;
}

/**
 * The instance at the path when it has something to test; otherwise (not
 * mounted, or no foreign entry and no architecture named) a private instance
 * of crossroot's own, as `run` uses.
 */
async function testedInstance(report: StatusReport, requested: readonly ArchName[] | null): Promise<TestedInstance> {
  const found = report.mounted ? testedVerdicts(report.verdict.arches, requested) : [];
  const atPath = { results: found, privateInstance: false, namespace: report.namespace.namespace, note: report.namespace.note };
  if (report.mounted && (found.length > 0 || requested !== null)) return atPath;
  const outcome = await testInPrivateInstance(requested);
  if (outcome.results === null) {
    if (report.mounted) return atPath; // nothing registered, and no private instance to try: nothing to test
    throw new CrossrootError('BINFMT_NOT_MOUNTED', `test binfmt_misc at '${report.path}': it is not mounted, and no private instance can be made: ${outcome.failure}`, { hint: report.hint });
  }
  const why = report.mounted ? `binfmt_misc at '${report.path}' has no foreign entry in use` : `binfmt_misc is not mounted at '${report.path}'`;
  return { results: outcome.results, privateInstance: true, namespace: 'private', note: `${why}: ${PRIVATE_TEST_NOTE}` };
}

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
    .description('Run a tiny program of each architecture directly and inside an empty root, and explain every failure (in a private instance of its own when binfmt_misc is not mounted).')
    .argument('[arch...]', 'architectures by any name (arm64, armhf, linux/riscv64, ...); default: every registered foreign one');
  addBinfmtDirOption(command, 'the binfmt_misc instance to test');
  addJsonOption(command, 'print one JSON document: ok, the tested instance (privateInstance: crossroot\'s own), one result per architecture');
  addHelpSections(command, {
    examples: ['crossroot binfmt test', 'crossroot binfmt test arm64 riscv64 --json'],
    exitStatus: '0 every tested architecture works; 1 one fails, or there is nothing to test; 2 usage error.',
  });
  onRun<TestOptions>(command, context, async (args, options) => {
    const { io } = context;
    const requested: ArchName[] | null = args.length === 0 ? null : [...new Set(args.map((alias) => resolveArch(alias).name))];
    const report = await collectStatus({
      binfmtDir: options.binfmtDir,
      probeArches: requested ?? ARCHITECTURES.map((arch) => arch.name),
      versions: false,
    });
    const tested = await testedInstance(report, requested);
    const { results } = tested;
    const ok = results.length > 0 && results.every((verdict) => verdict.works === true);
    if (options.json === true) {
      writeJson(io, {
        ok,
        path: report.path,
        namespace: tested.namespace,
        note: tested.note,
        privateInstance: tested.privateInstance,
        results: results.map(testResultJson),
      });
    } else if (results.length === 0) {
      io.stderr(`crossroot: test binfmt_misc: no foreign architecture ${tested.privateInstance ? 'has an emulator on disk' : 'is registered'}, nothing to test\n`);
      io.stderr(tested.privateInstance
        ? 'hint: install QEMU user-mode emulators (Debian: apt-get install qemu-user-static), or name architectures to test\n'
        : 'hint: register emulators with \'crossroot binfmt install all\', or name architectures to test\n');
    } else {
      if (tested.note !== null) io.stdout(`note: ${tested.privateInstance ? '' : `${report.path} is a private instance: `}${tested.note}\n\n`);
      printHuman(io, results);
    }
    return ok ? 0 : 1;
  });
}
