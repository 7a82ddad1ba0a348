// Which catalog architectures the host kernel runs WITHOUT binfmt_misc — decided by running them.
//
// A child process in a new user and mount namespace mounts its OWN binfmt_misc instance
// (private-instance.ts; an empty one hides every registration of the host), then execs
// the probe program of every architecture (core/probe-elf.ts; i486 = the i386 probe with EM_486).
// A probe that exits with its built-in status ran natively: x86_64 and i386 (ia32 emulation) on a
// PC, aarch64 and — only where the CPU has AArch32 — arm on arm64. No family guess, no cache.
//
// The child is node running native-probe-child (.ts from source under tsx, .js from dist): argv
// stays data, the input goes through stdin as JSON.
// Fallback, when user namespaces or private instances are unavailable: the family of uname -m
// (x86_64 -> x86_64 + i386, aarch64 -> aarch64 + arm when /proc/cpuinfo shows a 32-bit CPU
// architecture or a compat hwcap, ...), reported as method 'guess' with the reason.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { machine, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchName } from '../../core/arch/arch.ts';
import { ARCH_NAMES, archByName } from '../../core/arch/arch.ts';
import type { NativeMachine } from '../../core/exec/simulate.ts';
import { referenceProgram } from '../../core/binfmt/install-plan.ts';
import { buildProbeElf, isProbeArch } from '../../core/probe/probe-elf.ts';
import type { NativeChildInput, NativeChildReport } from './native-probe-child.ts';
import { nodeScriptArgv } from '../process/process.ts';
import { runInPrivateInstance } from './private-instance.ts';

const PROBE_STATUS = 42;

export interface NativeProbe {
  readonly arches: ArchName[];
  /** 'probe': measured in a private instance; 'guess': from uname -m, see `reason`. */
  readonly method: 'probe' | 'guess';
  readonly reason: string | null;
  /** Per probed architecture: how its probe ended (probe method only). */
  readonly details: readonly { readonly arch: ArchName; readonly native: boolean; readonly exitCode: number | null; readonly error: string | null }[];
}

/** The probe program of `arch` exiting with `status`, or null when crossroot has none. */
export function nativeProbeProgram(arch: ArchName, status: number): Uint8Array | null {
  if (isProbeArch(arch)) return buildProbeElf(arch, status);
  const program = referenceProgram(arch);
  if (program === null) return null;
  // referenceProgram() builds with status 0; rebuild i486 from i386 with the wanted status.
  const rebuilt = buildProbeElf('i386', status);
  rebuilt[18] = program[18] ?? 0;
  rebuilt[19] = program[19] ?? 0;
  return rebuilt;
}

/** uname -m family guess, for hosts without user namespaces or private binfmt_misc instances. */
export function guessNativeArches(unameMachine: string = machine(), cpuinfo?: string | null): ArchName[] {
  // Only an aarch64 kernel needs /proc/cpuinfo (whether its CPUs run 32-bit code): read then only (every run asks).
  const info = unameMachine !== 'aarch64' ? null : cpuinfo === undefined ? readCpuinfo() : cpuinfo;
  const has32BitArm = info !== null && (/CPU architecture:\s*[1-7]\b/.test(info) || /^Features\s*:.*\b(?:half|thumb|vfp)\b/m.test(info));
  const table: Readonly<Record<string, ArchName[]>> = {
    x86_64: ['x86_64', 'i386', 'i486'],
    i686: ['i386', 'i486'],
    i386: ['i386', 'i486'],
    aarch64: has32BitArm ? ['aarch64', 'arm'] : ['aarch64'],
    armv7l: ['arm'],
    armv8l: ['arm'],
    ppc64le: ['ppc64le'],
    ppc64: ['ppc64', 'ppc'],
    s390x: ['s390x'],
    riscv64: ['riscv64'],
    mips64: ['mips64', 'mipsn32', 'mips'],
    loongarch64: ['loongarch64'],
    sparc64: ['sparc64', 'sparc', 'sparc32plus'],
  };
  return table[unameMachine] ?? (ARCH_NAMES.includes(unameMachine as ArchName) ? [unameMachine as ArchName] : []);
}

/** The ELF machines of `arches` (default: the host's native ones), as the exec simulator matches them. */
export function nativeMachines(arches: readonly ArchName[] = guessNativeArches()): NativeMachine[] {
  const seen = new Set<string>();
  return arches.flatMap((name) => {
    const arch = archByName(name);
    const key = `${arch.machine}/${arch.bits}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [{ machine: arch.machine, class: arch.bits }];
  });
}

function readCpuinfo(): string | null {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
}

function guess(reason: string): NativeProbe {
  return { arches: guessNativeArches(), method: 'guess', reason, details: [] };
}

/** Probes every architecture crossroot has a program for; see the file comment. */
export async function probeNativeArches(options: { readonly tempParent?: string } = {}): Promise<NativeProbe> {
  const dir = mkdtempSync(join(options.tempParent ?? tmpdir(), 'crossroot-native-'));
  try {
    const mountDir = join(dir, 'binfmt_misc');
    mkdirSync(mountDir);
    const probes: { arch: ArchName; path: string }[] = [];
    for (const arch of ARCH_NAMES) {
      const program = nativeProbeProgram(arch, PROBE_STATUS);
      if (program === null) continue;
      const path = join(dir, `probe-${arch}`);
      writeFileSync(path, program, { mode: 0o755 });
      chmodSync(path, 0o755);
      probes.push({ arch, path });
    }
    const input: NativeChildInput = { mountDir, probes };
    const outcome = await runInPrivateInstance<NativeChildReport>(nodeScriptArgv(import.meta.url, 'native-probe-child'), input, 60_000);
    if (outcome.report === null) return guess(outcome.failure);
    const { report } = outcome;
    const details = report.results.map((result) => ({
      arch: result.arch as ArchName,
      native: result.exitCode === PROBE_STATUS && result.signal === null,
      exitCode: result.exitCode,
      error: result.error,
    }));
    return { arches: details.filter((d) => d.native).map((d) => d.arch), method: 'probe', reason: null, details };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
