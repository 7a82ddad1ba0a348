// The native helper of `crossroot run` (crossroot-enter.c, built by
// `npm run build` and scripts/setup.sh with the system's C compiler): where
// it is, how a plan becomes its records, and the conversation with it.
//
// The helper makes the namespaces, says "U"; crossroot writes the uid/gid
// maps and sends one byte, then the plan's records and "go". The helper is
// PID 1 of the run: it mounts, runs the command, reaps every orphan and
// reports the command's exit status as its own.
import { existsSync, statSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { SetupStep } from '../../core/enter/setup-steps.ts';
import { CrossrootError } from '../../core/errors.ts';
import type { RunningProcess } from '../process/process.ts';
import { runProcess, startProcess } from '../process/process.ts';

const HELPER_NAME = 'crossroot-enter';

/** Where the built helper lives: next to this module in dist/, or dist/ of the checkout when run from source. */
export function helperPath(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? `../../../dist/runner/enter/${HELPER_NAME}` : `./${HELPER_NAME}`, import.meta.url));
}

/** The helper's C source (shipped in the checkout, not in the package). */
export function helperSource(): string {
  return fileURLToPath(new URL(`./${HELPER_NAME}.c`, import.meta.url));
}

/** The compiler command that builds the helper (scripts/build-native.sh runs the same). */
export function helperBuildCommand(source: string, output: string): string[] {
  return ['cc', '-O2', '-Wall', '-Wextra', '-o', output, source];
}

/**
 * The helper, built first when running from a checkout whose build is older
 * than the source (a developer's edit); a missing helper in an installed
 * package is an error with a hint.
 */
export async function ensureHelper(): Promise<string> {
  const path = helperPath();
  const source = helperSource();
  const stale = existsSync(source) && (!existsSync(path) || statSync(path).mtimeMs < statSync(source).mtimeMs);
  if (!stale && existsSync(path)) return path;
  if (stale) {
    const result = await runProcess(['sh', fileURLToPath(new URL('../../../scripts/build-native.sh', import.meta.url))]).catch(() => null);
    if (result?.exitCode === 0 && existsSync(path)) return path;
  }
  throw new CrossrootError('SPAWN', `start the run: the helper '${path}' is missing`, {
    hint: 'build it: npm run build (or scripts/setup.sh); it needs a C compiler (apt-get install gcc libc6-dev)',
  });
}

/** Joins a path's base letter for the helper: R inside the root, S inside the scratch directory, H on the host. */
export function basedPath(path: string, rootDir: string, scratchDir: string | null): string {
  const under = (dir: string): boolean => path === dir || path.startsWith(`${dir}/`);
  if (under(rootDir)) return `R${path.slice(rootDir.length) || '/'}`;
  if (scratchDir !== null && path !== scratchDir && under(scratchDir)) return `S${path.slice(scratchDir.length)}`;
  return `H${path}`;
}

export interface HelperPlan {
  readonly rootDir: string;
  readonly scratchDir: string | null;
  readonly hostname: string | null;
  readonly loopback: boolean;
  readonly steps: readonly SetupStep[];
  readonly exec: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** The plan as the helper's records (fields, each sent NUL-terminated). */
export function helperRecords(plan: HelperPlan): string[] {
  const at = (path: string): string => basedPath(path, plan.rootDir, plan.scratchDir);
  const fields: string[] = ['root', plan.rootDir];
  if (plan.scratchDir !== null) fields.push('scratch', plan.scratchDir);
  if (plan.hostname !== null) fields.push('hostname', plan.hostname);
  if (plan.loopback) fields.push('loopback');
  for (const step of plan.steps) {
    switch (step.op) {
      case 'mount': {
        const bind = /(^|,)(r?bind)(,|$)/.test(step.options);
        fields.push('mount', step.fstype, bind ? at(step.source) : `H${step.source}`, at(step.target), step.options);
        break;
      }
      case 'shadow': fields.push('shadow', at(step.path)); break;
      case 'mkdir': case 'file': fields.push(step.op, at(step.path)); break;
      case 'symlink': fields.push('symlink', at(step.path), step.target); break;
      case 'write': fields.push('write', at(step.path), step.mode.toString(8), step.text); break;
      case 'copy': fields.push('copy', at(step.path), `H${step.from}`); break;
      case 'register': fields.push('register', at(step.dir), step.text); break;
    }
  }
  fields.push('exec', String(plan.exec.length), ...plan.exec);
  const env = Object.entries(plan.env).map(([name, value]) => `${name}=${value}`);
  fields.push('env', String(env.length), ...env);
  return fields;
}

export function encodeFields(fields: readonly string[]): string {
  if (fields.some((field) => field.includes('\0'))) throw new CrossrootError('USAGE', 'start the run: an argument or path contains a NUL byte');
  return fields.map((field) => `${field}\0`).join('');
}

/** What the helper said, as it said it. */
export type HelperMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'pid'; readonly pid: number }
  | { readonly kind: 'error'; readonly code: string; readonly message: string }
  | { readonly kind: 'ticks'; readonly ticks: number };

/** Splits the helper's NUL-terminated fields into messages (fields of a message may arrive in pieces). */
export class HelperReader {
  private pending = '';
  private readonly fields: string[] = [];

  push(chunk: string): HelperMessage[] {
    this.pending += chunk;
    for (let end = this.pending.indexOf('\0'); end >= 0; end = this.pending.indexOf('\0')) {
      this.fields.push(this.pending.slice(0, end));
      this.pending = this.pending.slice(end + 1);
    }
    const messages: HelperMessage[] = [];
    for (;;) {
      const [name, first, second] = this.fields;
      if (name === 'U') {
        this.fields.splice(0, 1);
        messages.push({ kind: 'ready' });
      } else if (name === 'pid' && first !== undefined) {
        this.fields.splice(0, 2);
        messages.push({ kind: 'pid', pid: Number(first) });
      } else if (name === 'ticks' && first !== undefined) {
        this.fields.splice(0, 2);
        messages.push({ kind: 'ticks', ticks: Number(first) });
      } else if (name === 'error' && first !== undefined && second !== undefined) {
        this.fields.splice(0, 3);
        messages.push({ kind: 'error', code: first, message: second });
      } else if (name !== undefined && !['U', 'pid', 'ticks', 'error'].includes(name)) {
        this.fields.splice(0, 1); // not ours
      } else {
        return messages;
      }
    }
  }
}

export interface StartedHelper {
  readonly process: RunningProcess;
  readonly channel: Duplex;
}

/** Starts the helper (its namespaces are made at once; it then waits for the maps). */
export function startHelper(path: string, options: { readonly networkNone: boolean }): StartedHelper {
  const child = startProcess([path, ...(options.networkNone ? ['--net-none'] : [])], { channels: 1, env: {} });
  const channel = child.channels[0];
  if (channel === undefined) throw new CrossrootError('SPAWN', 'start the run: no channel to the helper');
  return { process: child, channel };
}
