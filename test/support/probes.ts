// Small static C programs the kernel tests exec: compiled once with gcc
// -static into .cache/probes (needs gcc and libc6-dev, installed by .ci/run).
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../../src/runner/process/process.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const CACHE_DIR = join(here, '..', '..', '.cache');

export interface Probes {
  /** exec-probe [--chroot DIR] [--cwd DIR] PATH ARGV0 [ARG...]: raw execve, prints "exec-probe-errno NAME" on failure. */
  readonly execProbe: string;
  /** Prints its argv (hex) and AT_EXECFD / AT_FLAGS. */
  readonly argvPrinter: string;
}

async function compile(name: string): Promise<string> {
  const source = join(here, 'probes', `${name}.c`);
  const output = join(CACHE_DIR, 'probes', name);
  if (existsSync(output) && statSync(output).mtimeMs >= statSync(source).mtimeMs) return output;
  mkdirSync(dirname(output), { recursive: true });
  const result = await runProcess(['gcc', '-static', '-O2', '-o', output, source]);
  if (result.exitCode !== 0) throw new Error(`compile probe '${name}': ${result.stderr}`);
  return output;
}

export async function ensureProbes(): Promise<Probes> {
  return { execProbe: await compile('exec-probe'), argvPrinter: await compile('argv-printer') };
}

export interface PrintedArgs {
  readonly argv: string[];
  readonly execfd: number | null;
  readonly atFlags: number;
}

/** Parses argv-printer's output; null when the output is not from it. */
export function parsePrintedArgs(stdout: string): PrintedArgs | null {
  const lines = stdout.split('\n');
  if (!lines[0]?.startsWith('argv-printer argc ')) return null;
  const argv: string[] = [];
  let execfd: number | null = null;
  let atFlags = 0;
  for (const line of lines.slice(1)) {
    if (line.startsWith('arg ')) argv.push(Buffer.from(line.slice(4), 'hex').toString('latin1'));
    else if (line.startsWith('execfd ')) execfd = line === 'execfd none' ? null : Number(line.slice(7));
    else if (line.startsWith('atflags ')) atFlags = Number(line.slice(8));
  }
  return { argv, execfd, atFlags };
}
