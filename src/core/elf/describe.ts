// ELF identification in words, as file(1) and readelf -h print it: the OS ABI
// (EI_OSABI) and the machine-specific e_flags that tell ABIs apart (ARM EABI
// version and float ABI, MIPS ISA level and ABI, RISC-V and LoongArch float
// ABI, PowerPC64 ELFv1/v2). Tables are data; unknown values stay numbers.
import { EM } from './machines.ts';

/** EI_OSABI names as file(1) prints them (magic/Magdir/elf). */
export const OSABI_NAMES: Readonly<Record<number, string>> = {
  0: 'SYSV', 1: 'HP-UX', 2: 'NetBSD', 3: 'GNU/Linux', 4: 'GNU/Hurd', 5: '86Open', 6: 'Solaris', 7: 'Monterey',
  8: 'IRIX', 9: 'FreeBSD', 10: 'Tru64', 11: 'Novell Modesto', 12: 'OpenBSD', 13: 'OpenVMS', 14: 'HP NonStop Kernel',
  15: 'AROS', 16: 'FenixOS', 17: 'Nuxi CloudABI', 97: 'ARM', 255: 'embedded',
};

export function osabiName(osabi: number): string {
  return OSABI_NAMES[osabi] ?? `OS ABI ${osabi}`;
}

const ARM_FLOAT: ReadonlyArray<readonly [number, string]> = [[0x400, 'hard-float'], [0x200, 'soft-float']];
const MIPS_ARCH: Readonly<Record<number, string>> = {
  0x0: 'MIPS-I', 0x1: 'MIPS-II', 0x2: 'MIPS-III', 0x3: 'MIPS-IV', 0x4: 'MIPS-V', 0x5: 'MIPS32', 0x6: 'MIPS64',
  0x7: 'MIPS32 rel2', 0x8: 'MIPS64 rel2', 0x9: 'MIPS32 rel6', 0xa: 'MIPS64 rel6',
};
const MIPS_ABI: Readonly<Record<number, string>> = { 0x1000: 'o32', 0x2000: 'o64', 0x3000: 'eabi32', 0x4000: 'eabi64' };
const RISCV_FLOAT: Readonly<Record<number, string>> = { 0x0: 'soft-float', 0x2: 'single-float', 0x4: 'double-float', 0x6: 'quad-float' };
const LOONGARCH_FLOAT: Readonly<Record<number, string>> = { 0x1: 'soft-float', 0x2: 'single-float', 0x3: 'double-float' };

function armFlags(flags: number): string {
  const words: string[] = [];
  const eabi = flags >>> 24;
  words.push(eabi === 0 ? 'no EABI' : `EABI${eabi}`);
  for (const [bit, name] of ARM_FLOAT) if ((flags & bit) !== 0) words.push(name);
  if ((flags & 0x00800000) !== 0) words.push('BE8');
  return words.join(' ');
}

function mipsFlags(bits: 32 | 64, flags: number): string {
  const abi = (flags & 0x20) !== 0 ? 'n32' : MIPS_ABI[flags & 0xf000] ?? (bits === 64 ? 'n64' : 'o32');
  const words = [MIPS_ARCH[flags >>> 28] ?? `MIPS arch ${flags >>> 28}`, abi];
  if ((flags & 0x400) !== 0) words.push('NaN 2008');
  return words.join(' ');
}

/** e_flags in words for the machines whose flags name an ABI, or null (show the number). */
export function elfFlagsText(machine: number, bits: 32 | 64, flags: number): string | null {
  switch (machine) {
    case EM.EM_ARM: return armFlags(flags);
    case EM.EM_MIPS: return mipsFlags(bits, flags);
    case EM.EM_RISCV: return [(flags & 0x1) !== 0 ? 'RVC' : null, (flags & 0x8) !== 0 ? 'RVE' : null, RISCV_FLOAT[flags & 0x6]]
      .filter((word) => word !== null && word !== undefined).join(' ');
    case EM.EM_LOONGARCH: return LOONGARCH_FLOAT[flags & 0x7] ?? null;
    case EM.EM_PPC64: return (flags & 0x3) === 0 ? null : `ELFv${flags & 0x3}`;
    default: return null;
  }
}

/** An ABI that the machine number alone does not tell: x32 (X86-64 in ELFCLASS32), MIPS n32. */
export function abiOf(machine: number, bits: 32 | 64, flags: number): string | null {
  if (machine === EM.EM_X86_64 && bits === 32) return 'x32';
  if (machine === EM.EM_MIPS && bits === 32 && (flags & 0x20) !== 0) return 'n32';
  return null;
}
