// Runs the crossroot CLI as if the host had these binfmt_misc entries —
// without touching the host's: a user namespace (identity-mapped, so crossroot
// inside can create and map its own) with a private instance mounted over
// /proc/sys/fs/binfmt_misc holding `registers`. Needs root and Linux >= 6.7.
// Output is collected; the namespace and its instance die with the child.
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { runProcess } from '../../src/runner/process/process.ts';
import type { RunResult } from '../../src/runner/process/process.ts';

const stage = new URL('./fake-host-binfmt-stage.ts', import.meta.url).pathname;

export async function runCliWithHostEntries(registers: readonly string[], cli: readonly string[], timeoutMs = 60_000, tmpfs: readonly string[] = []): Promise<RunResult> {
  const own = readlinkSync('/proc/self/ns/user');
  const mapWhenUnshared = async (pid: number): Promise<void> => {
    for (let i = 0; i < 5000; i++) {
      try {
        if (readlinkSync(`/proc/${pid}/ns/user`) !== own) {
          writeFileSync(`/proc/${pid}/uid_map`, '0 0 4294967295\n');
          writeFileSync(`/proc/${pid}/gid_map`, '0 0 4294967295\n');
          return;
        }
      } catch {
        return; // gone
      }
      await sleep(1);
    }
  };
  let mapping: Promise<void> = Promise.resolve();
  const result = await runProcess([
    'unshare', '--user', '--mount', '--propagation', 'private', '--keep-caps', '--',
    process.execPath, '--import', import.meta.resolve('tsx'), stage, JSON.stringify({ registers, cli, tmpfs }),
  ], { timeoutMs, onSpawn: (pid) => { mapping = mapWhenUnshared(pid); } });
  await mapping;
  return result;
}

/** The register string of a Debian-like entry for aarch64 with the given interpreter and flags. */
export function aarch64Entry(name: string, interpreter: string, flags: string): string {
  const magic = '\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00';
  const mask = '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff';
  return `:${name}:M::${magic}:${mask}:${interpreter}:${flags}`;
}

/** The host's registrations (names and texts; empty when binfmt_misc is not mounted), to compare before and after. */
export function hostRegistrations(dir = '/proc/sys/fs/binfmt_misc'): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names.map((name) => {
    try {
      return `${name}: ${readFileSync(`${dir}/${name}`, 'utf8')}`;
    } catch {
      return name;
    }
  });
}
