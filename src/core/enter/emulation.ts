// How foreign binaries of a root run, as data (pure): the facts the runner
// gathers about the kernel and the host in, an EmulationDecision out. `auto`
// takes the first mode that works of private, host, bind, copy; DESIGN.md
// section 4 is the contract.
import type { Architecture } from '../arch/arch.ts';
import type { BinfmtEntry } from '../binfmt/entry.ts';
import { ownRegisterString } from '../binfmt/own-entries.ts';
import { CrossrootError } from '../errors.ts';

export const EMULATION_MODES = ['private', 'host', 'bind', 'copy'] as const;
export type EmulationMode = (typeof EMULATION_MODES)[number];
export type EmulationChoice = EmulationMode | 'auto';

export function isEmulationChoice(value: string): value is EmulationChoice {
  return value === 'auto' || (EMULATION_MODES as readonly string[]).includes(value);
}

/** What the kernel and host offer for running the root's architecture. */
export interface EmulationFacts {
  /** The host CPU runs the root's binaries itself (amd64 or i386 on x86_64). */
  readonly native: boolean;
  /** null when a private binfmt_misc instance can be used; else why not. */
  readonly privateBlocker: string | null;
  /** The static emulator on the host for this architecture, or null. */
  readonly emulator: { readonly path: string; readonly realPath: string; readonly honoursP: boolean } | null;
  /** A dynamic emulator exists but no static one (for the hint). */
  readonly dynamicEmulatorOnly: string | null;
  /** The host's enabled entry that handles the architecture (newest first), or null. */
  readonly hostEntry: BinfmtEntry | null;
  /** For a host entry with F: whether its interpreter is static (null: unknown). */
  readonly hostInterpreterStatic: boolean | null;
  /** For a host entry without F: whether its interpreter path exists inside the root. */
  readonly hostInterpreterInRoot: boolean;
}

export interface EmulationDecision {
  readonly mode: EmulationMode | 'native';
  /** Why this mode (for --verbose and diagnostics). */
  readonly reason: string;
  /** A private binfmt_misc instance is mounted in the run (private, and bind/copy without a host entry). */
  readonly privateInstance: boolean;
  /** The register string written to the private instance, if any. */
  readonly register: string | null;
  /** bind/copy: where the emulator must appear inside the root (the entry's interpreter path). */
  readonly interpreterInRoot: string | null;
}

/** `/usr/bin/qemu-aarch64-static`: where the bind and copy modes put the emulator when no host entry says otherwise. */
export function conventionalInterpreter(arch: Pick<Architecture, 'emulator'>): string {
  return `/usr/bin/${arch.emulator}-static`;
}

function registerString(arch: Architecture, interpreter: string, fixBinary: boolean, preserveArgv0: boolean): string {
  // C (credentials from the binary, so sudo and su work) implies O.
  return ownRegisterString(arch, interpreter, { P: preserveArgv0, O: true, C: true, F: fixBinary });
}

const INSTALL_HINT = "install static emulators: 'apt-get install qemu-user-static'; 'crossroot doctor' shows what is missing";

/**
 * Chooses how foreign binaries of the root will run: `auto` takes the first
 * that works of private, host, bind, copy; a forced mode is checked and gives
 * EMULATION_UNAVAILABLE with a hint when it cannot work.
 */
export function chooseEmulation(choice: EmulationChoice, arch: Architecture, facts: EmulationFacts): EmulationDecision {
  if (facts.native) {
    return {
      mode: 'native', privateInstance: false, register: null, interpreterInRoot: null,
      reason: `the host runs ${arch.name} natively${choice === 'auto' ? '' : `; --emulation ${choice} has nothing to do`}`,
    };
  }
  const unavailable = (mode: EmulationMode, why: string, hint: string): CrossrootError =>
    new CrossrootError('EMULATION_UNAVAILABLE', `use emulation '${mode}' for '${arch.name}': ${why}`, { hint });
  const noEmulator = (): string => facts.dynamicEmulatorOnly !== null
    ? `only a dynamic emulator was found ('${facts.dynamicEmulatorOnly}'), and a root needs a static one`
    : `no static emulator '${arch.emulator}-static' was found`;
  const entry = facts.hostEntry;

  const tryPrivate = (): EmulationDecision | string => {
    if (facts.privateBlocker !== null) return facts.privateBlocker;
    if (facts.emulator === null) return noEmulator();
    return {
      mode: 'private', privateInstance: true, interpreterInRoot: null,
      register: registerString(arch, facts.emulator.path, true, facts.emulator.honoursP),
      reason: `a private binfmt_misc instance with '${facts.emulator.path}' (flags F and C), invisible to the host`,
    };
  };
  const tryHost = (): EmulationDecision | string => {
    if (entry === null) return `the host has no enabled binfmt_misc entry for '${arch.name}'`;
    if (entry.flags.F && facts.hostInterpreterStatic === false) {
      return `the host entry '${entry.name}' pins the dynamic interpreter '${entry.interpreter}' (flag F), which cannot load inside a root`;
    }
    if (!entry.flags.F && !facts.hostInterpreterInRoot) {
      return `the host entry '${entry.name}' has no flag F and its interpreter '${entry.interpreter}' is not inside the root`;
    }
    return {
      mode: 'host', privateInstance: false, register: null, interpreterInRoot: null,
      reason: `the host entry '${entry.name}' (${entry.flags.F ? 'flag F' : 'interpreter present in the root'})`,
    };
  };
  const tryPlaced = (mode: 'bind' | 'copy'): EmulationDecision | string => {
    if (facts.emulator === null) return noEmulator();
    const verb = mode === 'bind' ? 'bind-mounted read-only' : 'copied for the run';
    if (entry !== null) {
      return {
        mode, privateInstance: false, register: null, interpreterInRoot: entry.interpreter,
        reason: `'${facts.emulator.realPath}' ${verb} at '${entry.interpreter}', where the host entry '${entry.name}' looks for it`,
      };
    }
    if (facts.privateBlocker !== null) {
      return `the host has no binfmt_misc entry for '${arch.name}' and no private instance is possible (${facts.privateBlocker})`;
    }
    const interpreter = conventionalInterpreter(arch);
    return {
      mode, privateInstance: true, interpreterInRoot: interpreter,
      register: registerString(arch, interpreter, false, facts.emulator.honoursP),
      reason: `'${facts.emulator.realPath}' ${verb} at '${interpreter}', named by a private entry without flag F`,
    };
  };
  const attempts: Record<EmulationMode, () => EmulationDecision | string> = {
    private: tryPrivate, host: tryHost, bind: () => tryPlaced('bind'), copy: () => tryPlaced('copy'),
  };
  const hints: Record<EmulationMode, string> = {
    private: facts.emulator === null ? INSTALL_HINT : 'private instances need Linux >= 6.7 and user namespaces; try --emulation host, or run crossroot doctor',
    host: `register one: 'crossroot binfmt install ${arch.name}' (or --emulation private on Linux >= 6.7)`,
    bind: facts.emulator === null ? INSTALL_HINT : `register an entry: 'crossroot binfmt install ${arch.name}', or use --emulation private`,
    copy: facts.emulator === null ? INSTALL_HINT : `register an entry: 'crossroot binfmt install ${arch.name}', or use --emulation private`,
  };
  if (choice !== 'auto') {
    const result = attempts[choice]();
    if (typeof result === 'string') throw unavailable(choice, result, hints[choice]);
    return result;
  }
  const reasons: string[] = [];
  for (const mode of EMULATION_MODES) {
    const result = attempts[mode]();
    if (typeof result !== 'string') return result;
    reasons.push(`${mode}: ${result}`);
  }
  throw new CrossrootError('EMULATION_UNAVAILABLE', `run '${arch.name}' binaries: no emulation mode works (${reasons.join('; ')})`, {
    hint: facts.emulator === null ? INSTALL_HINT : hints.host,
  });
}
