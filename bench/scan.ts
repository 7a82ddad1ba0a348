// `npm run bench`: `crossroot scan` against `file` and `scanelf` (pax-utils)
// on the same trees, side by side in one run, as a user would run each.
//
//   npm run bench -- scan [--reps N] [TREE...]
//
// Default trees: /usr/bin, /usr/sbin, /usr/lib/x86_64-linux-gnu (whatever
// exists) and the extracted Debian packages under .cache/debian-packages.
// Each tool runs once to warm the page cache, then N rounds (default 5) run
// every tool once each (round-robin, fair on a busy machine); the median wall
// time counts. files/s is regular files in the trees per second.
// `file` gets the list of regular files precomputed (file -N -f LIST), so its
// time excludes the walk: the comparison is, if anything, in file's favour.
import { copyFileSync, existsSync, readdirSync, rmSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../src/runner/process/process.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

function parseArgs(argv: string[]): { reps: number; trees: string[] } {
  let reps = 5;
  const trees: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--reps') reps = Math.max(1, Number(argv[++i] ?? '5') || 5);
    else trees.push(arg);
  }
  if (trees.length === 0) {
    trees.push(...['/usr/bin', '/usr/sbin', '/usr/lib/x86_64-linux-gnu'].filter((tree) => existsSync(tree)));
    const packages = join(repoRoot, '.cache/debian-packages');
    if (existsSync(packages)) trees.push(packages);
  }
  return { reps, trees };
}

/** Regular files under the trees, symlinks not followed (the set every tool is given). */
function regularFiles(trees: string[]): string[] {
  const out: string[] = [];
  const stack = [...trees].reverse();
  while (stack.length > 0) {
    const dir = stack.pop() ?? '';
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const path = `${dir.replace(/\/+$/, '')}/${entry.name}`;
      if (entry.isFile()) out.push(path);
      else if (entry.isDirectory()) stack.push(path);
    }
  }
  return out;
}

interface Tool {
  readonly name: string;
  readonly argv: readonly string[];
  /** ELF files the tool reported, from its output. */
  readonly countElf: (stdout: string) => number;
}

/** The compiled CLI, when built after the last change to the scan sources (`npm run build`). */
function isFresh(compiled: string): boolean {
  if (!existsSync(compiled)) return false;
  const built = statSync(compiled).mtimeMs;
  const sources = ['src/runner/inspect/scan.ts', 'src/cli/commands/scan.ts', 'src/cli/main.ts', 'src/core/elf/elf.ts', 'src/core/bytes/byte-reader.ts', 'src/core/arch/arch.ts'];
  return sources.every((source) => statSync(join(repoRoot, source)).mtimeMs <= built);
}

/**
 * The compiled CLI, as an installed crossroot runs: dist/ when it is newer
 * than the sources, else a fresh build into .cache/bench-dist (tsx's
 * on-the-fly compilation would add ~0.3 s of start-up to every run).
 */
async function compiledCli(): Promise<string> {
  const dist = join(repoRoot, 'dist/cli/bin.js');
  if (isFresh(dist)) return dist;
  // Laid out like the package (dist/ beside package.json, which main.ts reads for the version).
  const packageDir = join(repoRoot, '.cache/bench-package');
  const outDir = join(packageDir, 'dist');
  const build = await runProcess(['npx', 'tsc', '-p', 'tsconfig.build.json', '--outDir', outDir, '--declaration', 'false'],
    { cwd: repoRoot, timeoutMs: 300_000 });
  if (build.exitCode !== 0) throw new Error(`build crossroot for the bench: ${build.stdout}${build.stderr}`);
  copyFileSync(join(repoRoot, 'package.json'), join(packageDir, 'package.json'));
  return join(outDir, 'cli/bin.js');
}

async function timeRun(tool: Tool): Promise<{ seconds: number; elf: number }> {
  const started = performance.now();
  const result = await runProcess(tool.argv, { timeoutMs: 30 * 60 * 1000 });
  const seconds = (performance.now() - started) / 1000;
  if (result.exitCode !== 0 && result.exitCode !== 1) {
    throw new Error(`${tool.name} failed (${String(result.exitCode)}): ${result.stderr.slice(0, 500)}`);
  }
  return { seconds, elf: tool.countElf(result.stdout) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] ?? 0 : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const { reps, trees } = parseArgs(process.argv.slice(2));
  const files = regularFiles(trees);
  const scratch = mkdtempSync(join(tmpdir(), 'crossroot-bench-'));
  const listFile = join(scratch, 'files.txt');
  writeFileSync(listFile, `${files.join('\n')}\n`);

  const crossrootArgv = ['node', await compiledCli()];
  const tools: Tool[] = [
    {
      name: 'crossroot scan',
      argv: [...crossrootArgv, 'scan', ...trees, '--json'],
      countElf: (stdout) => (JSON.parse(stdout) as { total: { elf: number } }).total.elf,
    },
    {
      name: 'scanelf -R -y',
      argv: ['scanelf', '-R', '-y', '-B', '-F', '%F %a %o %i', ...trees],
      countElf: (stdout) => stdout.split('\n').filter((line) => line !== '').length,
    },
    {
      name: 'file -N -f LIST',
      argv: ['file', '-N', '-f', listFile],
      countElf: (stdout) => stdout.split('\n').filter((line) => /: ELF /.test(line)).length,
    },
  ];

  console.log(`trees: ${trees.join(' ')}`);
  console.log(`${files.length} regular files; ${reps} timed rounds of every tool after one warm-up run each; median wall time\n`);
  // Round-robin: every round runs each tool once, so that a busy machine
  // (other jobs coming and going) weighs on all tools alike.
  const runnable: Tool[] = [];
  const elfFound = new Map<string, number>();
  const times = new Map<string, number[]>();
  for (const tool of tools) {
    try {
      elfFound.set(tool.name, (await timeRun(tool)).elf); // warm the page cache and the tool's own caches
      runnable.push(tool);
      times.set(tool.name, []);
    } catch (error) {
      console.log(`${tool.name}: not run: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (let i = 0; i < reps; i++) {
    for (const tool of runnable) {
      const run = await timeRun(tool);
      times.get(tool.name)?.push(run.seconds);
      elfFound.set(tool.name, run.elf);
    }
  }
  const results = runnable.map((tool) => ({ name: tool.name, seconds: median(times.get(tool.name) ?? []), elf: elfFound.get(tool.name) ?? 0 }));
  rmSync(scratch, { recursive: true, force: true });

  const ours = results.find((result) => result.name.startsWith('crossroot'));
  const header = ['tool', 'seconds', 'files/s', 'ELF found', 'time vs crossroot'];
  const rows = results.map((result) => [
    result.name,
    result.seconds.toFixed(3),
    Math.round(files.length / result.seconds).toString(),
    result.elf.toString(),
    ours === undefined ? '-' : `${(result.seconds / ours.seconds).toFixed(2)}x`,
  ]);
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => (row[column] ?? '').length)));
  for (const row of [header, ...rows]) console.log(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  '));
  const scanelf = results.find((result) => result.name.startsWith('scanelf'));
  const file = results.find((result) => result.name.startsWith('file'));
  if (ours !== undefined) {
    console.log('');
    if (file !== undefined) console.log(`crossroot is ${(file.seconds / ours.seconds).toFixed(1)}x faster than file (goal: >= 4x)`);
    if (scanelf !== undefined) console.log(`crossroot takes ${(ours.seconds / scanelf.seconds).toFixed(2)}x scanelf's time (goal: <= 2x)`);
  }
}

await main();
