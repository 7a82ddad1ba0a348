// e_machine numbers (Linux include/uapi/linux/elf-em.h, binutils include/elf/common.h)
// for the architectures QEMU user mode emulates, plus a few neighbours. Only
// ELF facts: mapping a machine to a QEMU target or a Debian architecture is the
// architecture catalog's job (arch.ts), since it also needs class, byte order
// and e_flags.

export const ELF_MACHINES = [
  { number: 0, constant: 'EM_NONE', name: 'None' },
  { number: 2, constant: 'EM_SPARC', name: 'SPARC' },
  { number: 3, constant: 'EM_386', name: 'i386' },
  { number: 4, constant: 'EM_68K', name: 'M68K' },
  { number: 6, constant: 'EM_486', name: 'i486' },
  { number: 8, constant: 'EM_MIPS', name: 'MIPS' },
  { number: 10, constant: 'EM_MIPS_RS3_LE', name: 'MIPS-RS3-LE' },
  { number: 15, constant: 'EM_PARISC', name: 'PA-RISC' },
  { number: 18, constant: 'EM_SPARC32PLUS', name: 'SPARC32PLUS' },
  { number: 20, constant: 'EM_PPC', name: 'PowerPC' },
  { number: 21, constant: 'EM_PPC64', name: 'PowerPC64' },
  { number: 22, constant: 'EM_S390', name: 'S390' },
  { number: 40, constant: 'EM_ARM', name: 'ARM' },
  { number: 42, constant: 'EM_SH', name: 'SuperH' },
  { number: 43, constant: 'EM_SPARCV9', name: 'SPARCV9' },
  { number: 50, constant: 'EM_IA_64', name: 'IA-64' },
  { number: 62, constant: 'EM_X86_64', name: 'X86-64' },
  { number: 76, constant: 'EM_CRIS', name: 'CRIS' },
  { number: 92, constant: 'EM_OPENRISC', name: 'OpenRISC' },
  { number: 94, constant: 'EM_XTENSA', name: 'Xtensa' },
  { number: 113, constant: 'EM_ALTERA_NIOS2', name: 'Nios II' },
  { number: 164, constant: 'EM_HEXAGON', name: 'Hexagon' },
  { number: 183, constant: 'EM_AARCH64', name: 'AArch64' },
  { number: 189, constant: 'EM_MICROBLAZE', name: 'MicroBlaze' },
  { number: 243, constant: 'EM_RISCV', name: 'RISC-V' },
  { number: 247, constant: 'EM_BPF', name: 'BPF' },
  { number: 258, constant: 'EM_LOONGARCH', name: 'LoongArch' },
  { number: 0x9026, constant: 'EM_ALPHA', name: 'Alpha' },
  { number: 0xbaab, constant: 'EM_MICROBLAZE_OLD', name: 'MicroBlaze (old)' },
] as const;

export type ElfMachineEntry = (typeof ELF_MACHINES)[number];
export type ElfMachineConstant = ElfMachineEntry['constant'];
export type ElfMachineName = ElfMachineEntry['name'];

/** e_machine numbers by constant name: `EM.EM_AARCH64 === 183`. */
export const EM = Object.fromEntries(ELF_MACHINES.map((entry) => [entry.constant, entry.number])) as {
  readonly [K in ElfMachineConstant]: Extract<ElfMachineEntry, { constant: K }>['number'];
};

const BY_NUMBER: ReadonlyMap<number, ElfMachineEntry> = new Map(ELF_MACHINES.map((entry) => [entry.number, entry]));

/** The table entry for an e_machine number, or undefined for one not in the table. */
export function elfMachine(machine: number): ElfMachineEntry | undefined {
  return BY_NUMBER.get(machine);
}

/** A short human name: 'AArch64', 'X86-64', ... or "machine '0x1234'" for an unknown one. */
export function elfMachineName(machine: number): string {
  return BY_NUMBER.get(machine)?.name ?? `machine '0x${machine.toString(16)}'`;
}
