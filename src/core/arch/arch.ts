// The architecture catalog: QEMU's user-mode targets, the binfmt_misc
// magic/mask that recognises each one's ELF files, and the names users type
// for them (Debian, OCI, GNU triplets, uname -m).
//
// Source of the magic/mask table: QEMU scripts/qemu-binfmt-conf.sh (34
// targets, in its order), as surveyed in research/binfmt-registrars.md 1.3.
// Two upstream bugs are fixed here on purpose (see `microblaze` and
// `microblazeel` below and QEMU_UPSTREAM_DIFFERENCES); every other string is
// byte-identical to upstream.
//
// ELF header byte indexes the masks refer to: 4 EI_CLASS, 5 EI_DATA,
// 6 EI_VERSION, 7 EI_OSABI, 8 EI_ABIVERSION, 16-17 e_type, 18-19 e_machine,
// 20-23 e_version, 36-39 e_flags (ELF32).

import { CrossrootError } from '../errors.ts';
import { NO_FLAGS } from '../binfmt/entry.ts';
import { entryMatchesHead } from '../binfmt/match.ts';

/** EM_X86_64. */
const X86_64_MACHINE = 62;

/** EF_MIPS_ABI2: set in e_flags of 32-bit MIPS n32 objects. */
export const EF_MIPS_ABI2 = 0x20;
/** ARM EABI version lives in the top byte of e_flags (EF_ARM_EABIMASK). */
export const EF_ARM_EABIMASK = 0xff000000;
export const EF_ARM_EABI_VER5 = 0x05000000;
/** Only meaningful with EABI version 5. */
export const EF_ARM_ABI_FLOAT_HARD = 0x400;
export const EF_ARM_ABI_FLOAT_SOFT = 0x200;

/**
 * One row per QEMU linux-user target. `magic`/`mask` are written in the
 * register-string escape syntax qemu-binfmt-conf.sh uses, so they compare
 * directly with upstream. `mipsAbi2` is the required state of EF_MIPS_ABI2
 * for the four 32-bit MIPS entries (o32 clear, n32 set).
 * `debian[0]`, `oci[0]` and `gnu[0]` are the preferred spellings.
 */
const ARCH_TABLE = [
  {
    name: 'i386', family: 'i386', bits: 32, endian: 'little', machine: 0x3, machineName: 'Intel 80386',
    magic: '\\x7fELF\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x03\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xfe\\xfe\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
    emulator: 'qemu-i386', uname: 'i686',
    debian: ['i386'], oci: ['linux/386'], gnu: ['i386-linux-gnu', 'i686-linux-gnu', 'i586-linux-gnu', 'i486-linux-gnu'],
    aliases: ['x86', 'i686', 'i586', 'ia32', '386', 'x86_32'],
  },
  {
    // EM_486 (6): a historical e_machine almost nothing emits; QEMU runs it with qemu-i386.
    name: 'i486', family: 'i386', bits: 32, endian: 'little', machine: 0x6, machineName: 'Intel 80486',
    magic: '\\x7fELF\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x06\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xfe\\xfe\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
    emulator: 'qemu-i386', uname: 'i686',
    debian: [], oci: [], gnu: [], aliases: [],
  },
  {
    name: 'alpha', family: 'alpha', bits: 64, endian: 'little', machine: 0x9026, machineName: 'Alpha',
    magic: '\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x26\\x90',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xfe\\xfe\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
    emulator: 'qemu-alpha', uname: 'alpha',
    debian: ['alpha'], oci: [], gnu: ['alpha-linux-gnu'], aliases: ['alphaev4', 'alphaev5', 'alphaev56', 'alphaev6', 'alphaev67'],
  },
  {
    name: 'arm', family: 'arm', bits: 32, endian: 'little', machine: 0x28, machineName: 'ARM',
    magic: '\\x7fELF\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x28\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
    emulator: 'qemu-arm', uname: 'armv7l',
    debian: ['armhf', 'armel'],
    oci: ['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5', 'linux/arm'],
    gnu: ['arm-linux-gnueabihf', 'arm-linux-gnueabi', 'armv7l-linux-gnueabihf', 'armv7-linux-gnueabihf', 'armv6-linux-gnueabihf', 'armv5tel-linux-gnueabi'],
    aliases: ['armv7l', 'armv7', 'armv7hl', 'armv7a', 'armv6l', 'armv6', 'armv5tel', 'armv5te', 'armv5', 'arm32', 'aarch32', 'armhfp'],
  },
  {
    name: 'armeb', family: 'armeb', bits: 32, endian: 'big', machine: 0x28, machineName: 'ARM',
    magic: '\\x7fELF\\x01\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x28',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff',
    emulator: 'qemu-armeb', uname: 'armv7b',
    debian: ['armeb'], oci: [], gnu: ['armeb-linux-gnueabi', 'armeb-linux-gnueabihf'], aliases: ['armv7b', 'armv5teb', 'armbe'],
  },
  {
    name: 'sparc', family: 'sparc', bits: 32, endian: 'big', machine: 0x2, machineName: 'Sparc',
    magic: '\\x7fELF\\x01\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x02',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff',
    emulator: 'qemu-sparc', uname: 'sparc',
    debian: ['sparc'], oci: [], gnu: ['sparc-linux-gnu'], aliases: ['sparc32'],
  },
  {
    name: 'sparc32plus', family: 'sparc', bits: 32, endian: 'big', machine: 0x12, machineName: 'Sparc v8+',
    magic: '\\x7fELF\\x01\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x12',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff',
    emulator: 'qemu-sparc32plus', uname: 'sparc',
    debian: [], oci: [], gnu: ['sparcv9-linux-gnu'], aliases: ['sparcv8plus', 'sparcv9'],
  },
  {
    name: 'sparc64', family: 'sparc', bits: 64, endian: 'big', machine: 0x2b, machineName: 'Sparc v9',
    magic: '\\x7fELF\\x02\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x2b',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff',
    emulator: 'qemu-sparc64', uname: 'sparc64',
    debian: ['sparc64'], oci: [], gnu: ['sparc64-linux-gnu'], aliases: [],
  },
  {
    name: 'ppc', family: 'ppc', bits: 32, endian: 'big', machine: 0x14, machineName: 'PowerPC',
    magic: '\\x7fELF\\x01\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x14',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff',
    emulator: 'qemu-ppc', uname: 'ppc',
    debian: ['powerpc'], oci: [], gnu: ['powerpc-linux-gnu'], aliases: ['ppc32', 'powerpc32'],
  },
  {
    name: 'ppc64', family: 'ppc', bits: 64, endian: 'big', machine: 0x15, machineName: 'PowerPC64',
    magic: '\\x7fELF\\x02\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x15',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff',
    emulator: 'qemu-ppc64', uname: 'ppc64',
    debian: ['ppc64'], oci: ['linux/ppc64'], gnu: ['powerpc64-linux-gnu'], aliases: ['powerpc64', 'ppc64be'],
  },
  {
    name: 'ppc64le', family: 'ppcle', bits: 64, endian: 'little', machine: 0x15, machineName: 'PowerPC64',
    magic: '\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x15\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\x00',
    emulator: 'qemu-ppc64le', uname: 'ppc64le',
    debian: ['ppc64el'], oci: ['linux/ppc64le'], gnu: ['powerpc64le-linux-gnu'], aliases: ['powerpc64le', 'ppc64el'],
  },
  {
    name: 'm68k', family: 'm68k', bits: 32, endian: 'big', machine: 0x4, machineName: 'MC68000',
    magic: '\\x7fELF\\x01\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x04',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff',
    emulator: 'qemu-m68k', uname: 'm68k',
    debian: ['m68k'], oci: [], gnu: ['m68k-linux-gnu'], aliases: ['68k'],
  },
  {
    name: 'mips', family: 'mips', bits: 32, endian: 'big', machine: 0x8, machineName: 'MIPS R3000', mipsAbi2: false,
    magic: '\\x7fELF\\x01\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x08\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x20',
    emulator: 'qemu-mips', uname: 'mips',
    debian: ['mips'], oci: ['linux/mips'], gnu: ['mips-linux-gnu'], aliases: ['mipsbe', 'mipseb', 'mips32'],
  },
  {
    name: 'mipsel', family: 'mips', bits: 32, endian: 'little', machine: 0x8, machineName: 'MIPS R3000', mipsAbi2: false,
    magic: '\\x7fELF\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x08\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x20\\x00\\x00\\x00',
    emulator: 'qemu-mipsel', uname: 'mips',
    debian: ['mipsel'], oci: ['linux/mipsle'], gnu: ['mipsel-linux-gnu'], aliases: ['mipsle', 'mips32el'],
  },
  {
    name: 'mipsn32', family: 'mips', bits: 32, endian: 'big', machine: 0x8, machineName: 'MIPS R3000', mipsAbi2: true,
    magic: '\\x7fELF\\x01\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x08\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x20',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x20',
    emulator: 'qemu-mipsn32', uname: 'mips64',
    debian: ['mipsn32'], oci: [], gnu: ['mips64-linux-gnuabin32'], aliases: ['mips64n32'],
  },
  {
    name: 'mipsn32el', family: 'mips', bits: 32, endian: 'little', machine: 0x8, machineName: 'MIPS R3000', mipsAbi2: true,
    magic: '\\x7fELF\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x08\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x20\\x00\\x00\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x20\\x00\\x00\\x00',
    emulator: 'qemu-mipsn32el', uname: 'mips64',
    debian: ['mipsn32el'], oci: [], gnu: ['mips64el-linux-gnuabin32'], aliases: ['mips64n32el'],
  },
  {
    name: 'mips64', family: 'mips', bits: 64, endian: 'big', machine: 0x8, machineName: 'MIPS R3000',
    magic: '\\x7fELF\\x02\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x08',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff',
    emulator: 'qemu-mips64', uname: 'mips64',
    debian: ['mips64'], oci: ['linux/mips64'], gnu: ['mips64-linux-gnuabi64'], aliases: ['mips64be', 'mips64eb'],
  },
  {
    name: 'mips64el', family: 'mips', bits: 64, endian: 'little', machine: 0x8, machineName: 'MIPS R3000',
    magic: '\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x08\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
    emulator: 'qemu-mips64el', uname: 'mips64',
    debian: ['mips64el'], oci: ['linux/mips64le'], gnu: ['mips64el-linux-gnuabi64'], aliases: ['mips64le'],
  },
  {
    name: 'sh4', family: 'sh4', bits: 32, endian: 'little', machine: 0x2a, machineName: 'Renesas / SuperH SH',
    magic: '\\x7fELF\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x2a\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
    emulator: 'qemu-sh4', uname: 'sh4',
    debian: ['sh4'], oci: [], gnu: ['sh4-linux-gnu'], aliases: ['sh4le', 'superh'],
  },
  {
    name: 'sh4eb', family: 'sh4', bits: 32, endian: 'big', machine: 0x2a, machineName: 'Renesas / SuperH SH',
    magic: '\\x7fELF\\x01\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x2a',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff',
    emulator: 'qemu-sh4eb', uname: 'sh4eb',
    debian: [], oci: [], gnu: ['sh4eb-linux-gnu'], aliases: ['sh4be'],
  },
  {
    name: 's390x', family: 's390x', bits: 64, endian: 'big', machine: 0x16, machineName: 'IBM S/390',
    magic: '\\x7fELF\\x02\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x16',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff',
    emulator: 'qemu-s390x', uname: 's390x',
    debian: ['s390x'], oci: ['linux/s390x'], gnu: ['s390x-linux-gnu'], aliases: ['systemz', 'zarch'],
  },
  {
    name: 'aarch64', family: 'arm', bits: 64, endian: 'little', machine: 0xb7, machineName: 'AArch64',
    magic: '\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
    emulator: 'qemu-aarch64', uname: 'aarch64',
    debian: ['arm64'], oci: ['linux/arm64', 'linux/arm64/v8'], gnu: ['aarch64-linux-gnu'],
    aliases: ['arm64', 'armv8', 'armv8a', 'armv8l64', 'aarch64le', 'arm64le'],
  },
  {
    name: 'aarch64_be', family: 'armeb', bits: 64, endian: 'big', machine: 0xb7, machineName: 'AArch64',
    magic: '\\x7fELF\\x02\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff',
    emulator: 'qemu-aarch64_be', uname: 'aarch64_be',
    debian: [], oci: [], gnu: ['aarch64_be-linux-gnu'], aliases: ['arm64be', 'arm64_be', 'aarch64be', 'aarch64-be'],
  },
  {
    name: 'hppa', family: 'hppa', bits: 32, endian: 'big', machine: 0xf, machineName: 'HPPA',
    magic: '\\x7f\\x45\\x4c\\x46\\x01\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x0f',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff',
    emulator: 'qemu-hppa', uname: 'parisc',
    debian: ['hppa'], oci: [], gnu: ['hppa-linux-gnu'], aliases: ['parisc', 'pa-risc', 'hppa1.1', 'hppa2.0'],
  },
  {
    name: 'riscv32', family: 'riscv32', bits: 32, endian: 'little', machine: 0xf3, machineName: 'RISC-V',
    magic: '\\x7fELF\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xf3\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
    emulator: 'qemu-riscv32', uname: 'riscv32',
    debian: [], oci: [], gnu: ['riscv32-linux-gnu'], aliases: ['rv32', 'rv32gc'],
  },
  {
    name: 'riscv64', family: 'riscv64', bits: 64, endian: 'little', machine: 0xf3, machineName: 'RISC-V',
    magic: '\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xf3\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
    emulator: 'qemu-riscv64', uname: 'riscv64',
    debian: ['riscv64'], oci: ['linux/riscv64'], gnu: ['riscv64-linux-gnu'], aliases: ['rv64', 'rv64gc', 'riscv'],
  },
  {
    name: 'xtensa', family: 'xtensa', bits: 32, endian: 'little', machine: 0x5e, machineName: 'Tensilica Xtensa Processor',
    magic: '\\x7fELF\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x5e\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
    emulator: 'qemu-xtensa', uname: 'xtensa',
    debian: [], oci: [], gnu: ['xtensa-linux-gnu'], aliases: ['xtensael'],
  },
  {
    name: 'xtensaeb', family: 'xtensaeb', bits: 32, endian: 'big', machine: 0x5e, machineName: 'Tensilica Xtensa Processor',
    magic: '\\x7fELF\\x01\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x5e',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff',
    emulator: 'qemu-xtensaeb', uname: 'xtensa',
    debian: [], oci: [], gnu: ['xtensaeb-linux-gnu'], aliases: ['xtensabe'],
  },
  {
    // FIXED upstream bug 1: upstream's magic writes e_type little-endian
    // (`\x02\x00`, mask `\xfe\xff`) in this big-endian entry, so it never
    // matches any file. Here e_type is `\x00\x02` with mask `\xff\xfe`.
    // FIXED upstream bug 2: upstream matches only the legacy e_machine 0xbaab;
    // binutils has emitted EM_MICROBLAZE (189) since 2009. One magic can hold
    // one e_machine, so the entry uses 189; archOfElf also accepts 0xbaab.
    name: 'microblaze', family: 'microblaze', bits: 32, endian: 'big', machine: 189, machineName: 'Xilinx MicroBlaze',
    legacyMachines: [0xbaab],
    magic: '\\x7fELF\\x01\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xbd',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff',
    emulator: 'qemu-microblaze', uname: 'microblaze',
    debian: [], oci: [], gnu: ['microblaze-linux-gnu'], aliases: ['microblazebe', 'microblazeeb'],
  },
  {
    // FIXED upstream bug 2 (see microblaze): EM_MICROBLAZE 189 instead of the legacy 0xbaab.
    name: 'microblazeel', family: 'microblazeel', bits: 32, endian: 'little', machine: 189, machineName: 'Xilinx MicroBlaze',
    legacyMachines: [0xbaab],
    magic: '\\x7fELF\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xbd\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
    emulator: 'qemu-microblazeel', uname: 'microblaze',
    debian: [], oci: [], gnu: ['microblazeel-linux-gnu'], aliases: ['microblazele'],
  },
  {
    name: 'or1k', family: 'or1k', bits: 32, endian: 'big', machine: 0x5c, machineName: 'OpenRISC 1000',
    magic: '\\x7fELF\\x01\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x5c',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff',
    emulator: 'qemu-or1k', uname: 'openrisc',
    debian: ['or1k'], oci: [], gnu: ['or1k-linux-gnu'], aliases: ['openrisc'],
  },
  {
    name: 'x86_64', family: 'i386', bits: 64, endian: 'little', machine: 0x3e, machineName: 'Advanced Micro Devices X86-64',
    magic: '\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x3e\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xfe\\xfe\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
    emulator: 'qemu-x86_64', uname: 'x86_64',
    debian: ['amd64'], oci: ['linux/amd64'], gnu: ['x86_64-linux-gnu'],
    aliases: ['x86-64', 'x64', 'amd64', 'intel64', 'em64t', 'x86_64h'],
  },
  {
    name: 'hexagon', family: 'hexagon', bits: 32, endian: 'little', machine: 0xa4, machineName: 'QUALCOMM DSP6 Processor',
    magic: '\\x7fELF\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xa4\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
    emulator: 'qemu-hexagon', uname: 'hexagon',
    debian: [], oci: [], gnu: ['hexagon-linux-musl'], aliases: ['qdsp6'],
  },
  {
    name: 'loongarch64', family: 'loongarch', bits: 64, endian: 'little', machine: 0x102, machineName: 'LoongArch',
    magic: '\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x02\\x01',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfc\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
    emulator: 'qemu-loongarch64', uname: 'loongarch64',
    debian: ['loong64'], oci: ['linux/loong64'], gnu: ['loongarch64-linux-gnu'], aliases: ['loong64', 'la64', 'loongarch'],
  },
] as const;

type ArchRow = (typeof ARCH_TABLE)[number];
export type ArchName = ArchRow['name'];
export type ArchFamily = ArchRow['family'];

/** What QEMU upstream ships where this catalog deliberately differs (see the table comments). */
export const QEMU_UPSTREAM_DIFFERENCES = {
  microblaze: {
    why: 'upstream encodes e_type little-endian in a big-endian entry (never matches) and only knows the legacy e_machine 0xbaab',
    magic: '\\x7fELF\\x01\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xba\\xab',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
  },
  microblazeel: {
    why: 'upstream only knows the legacy e_machine 0xbaab, not EM_MICROBLAZE 189',
    magic: '\\x7fELF\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xab\\xba',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
  },
} as const satisfies Partial<Record<ArchName, { why: string; magic: string; mask: string }>>;

export interface Architecture {
  /** QEMU's target name, the canonical name everywhere in crossroot. */
  readonly name: ArchName;
  /** qemu-binfmt-conf.sh's family, for the record (host-skip logic upstream). */
  readonly family: ArchFamily;
  readonly bits: 32 | 64;
  readonly endian: 'little' | 'big';
  /** e_machine the magic holds. */
  readonly machine: number;
  /** Other e_machine values files of this architecture may carry (recognised by archOfElf only). */
  readonly legacyMachines: readonly number[];
  readonly machineName: string;
  /** For 32-bit MIPS: whether EF_MIPS_ABI2 (n32) must be set; undefined elsewhere. */
  readonly mipsAbi2: boolean | undefined;
  /** Register-string spelling, as in qemu-binfmt-conf.sh. */
  readonly magicText: string;
  readonly maskText: string;
  readonly magic: Uint8Array;
  readonly mask: Uint8Array;
  /** Emulator base name: qemu-<target> (i486 runs under qemu-i386). */
  readonly emulator: string;
  /** What `uname -m` reports under the emulator. */
  readonly uname: string;
  readonly debian: readonly string[];
  readonly oci: readonly string[];
  readonly gnu: readonly string[];
  readonly aliases: readonly string[];
}

/** 0-15 for a hex digit's character code, -1 for anything else (NaN past the end included). */
function hexValue(code: number): number {
  const lower = code | 0x20;
  return code >= 48 && code <= 57 ? code - 48 : lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** Decodes the `\xHH` escapes of a magic/mask string (others stand for themselves); on every start: no regexes. */
function decodeEscapes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  let length = 0;
  for (let i = 0; i < text.length; length += 1) {
    const high = text.charCodeAt(i) === 0x5c && text.charCodeAt(i + 1) === 0x78 ? hexValue(text.charCodeAt(i + 2)) : -1;
    const low = high < 0 ? -1 : hexValue(text.charCodeAt(i + 3));
    bytes[length] = low >= 0 ? high * 16 + low : text.charCodeAt(i) & 0xff;
    i += low >= 0 ? 4 : 1;
  }
  return bytes.slice(0, length);
}

export const ARCHITECTURES: readonly Architecture[] = ARCH_TABLE.map((row): Architecture => ({
  name: row.name,
  family: row.family,
  bits: row.bits,
  endian: row.endian,
  machine: row.machine,
  legacyMachines: 'legacyMachines' in row ? row.legacyMachines : [],
  machineName: row.machineName,
  mipsAbi2: 'mipsAbi2' in row ? row.mipsAbi2 : undefined,
  magicText: row.magic,
  maskText: row.mask,
  magic: decodeEscapes(row.magic),
  mask: decodeEscapes(row.mask),
  emulator: row.emulator,
  uname: row.uname,
  debian: row.debian,
  oci: row.oci,
  gnu: row.gnu,
  aliases: row.aliases,
}));

export const ARCH_NAMES: readonly ArchName[] = ARCHITECTURES.map((arch) => arch.name);

const byName = new Map<string, Architecture>(ARCHITECTURES.map((arch) => [arch.name, arch]));

export function isArchName(value: string): value is ArchName {
  return byName.has(value);
}

/** The catalog entry of a canonical name (no alias resolution). */
export function archByName(name: ArchName): Architecture {
  const arch = byName.get(name);
  if (arch === undefined) throw new CrossrootError('UNKNOWN_ARCH', `look up architecture: '${name}' is not in the catalog`);
  return arch;
}

/** Every spelling that names `arch`, lower-cased; OCI names with and without `linux/`. */
export function namesOf(arch: Architecture): readonly string[] {
  const names = new Set<string>([arch.name, ...arch.debian, ...arch.gnu, ...arch.aliases]);
  for (const platform of arch.oci) {
    names.add(platform);
    names.add(platform.replace(/^linux\//, ''));
  }
  return [...names].map((name) => name.toLowerCase());
}

/** alias (lower case) -> architecture; built once, checked for clashes by the self-test. */
const aliasIndex = new Map<string, Architecture>();
for (const arch of ARCHITECTURES) {
  for (const name of namesOf(arch)) {
    // First writer wins; arch.test.ts asserts there are no clashes at all.
    if (!aliasIndex.has(name)) aliasIndex.set(name, arch);
  }
}

/** GNU triplet ABIs that change which MIPS entry a cpu part means. */
const MIPS_TRIPLET_ABI: Readonly<Record<string, Readonly<Record<string, ArchName>>>> = {
  gnuabin32: { mips64: 'mipsn32', mips64el: 'mipsn32el' },
  gnuabi64: { mips64: 'mips64', mips64el: 'mips64el' },
};

/**
 * The architecture a user-typed name means: canonical (aarch64), Debian
 * (arm64, armhf), OCI (linux/arm/v7, arm64/v8), GNU triplets
 * (aarch64-linux-gnu, x86_64-pc-linux-gnu) and common spellings, any case.
 */
export function resolveArch(alias: string): Architecture {
  const key = alias.trim().toLowerCase();
  const direct = aliasIndex.get(key);
  if (direct !== undefined) return direct;
  // OCI platform with a variant we do not list (linux/arm64/v9, linux/amd64/v3).
  const oci = /^(?:linux\/)?([^/]+)\/[^/]+$/.exec(key);
  if (oci?.[1] !== undefined) {
    const found = aliasIndex.get(oci[1]);
    if (found !== undefined) return found;
  }
  // Any GNU triplet: cpu-[vendor-]linux[-abi].
  const triplet = /^([^-]+)-(?:[^-]+-)?linux(?:-([a-z0-9_]+))?$/.exec(key);
  if (triplet?.[1] !== undefined) {
    const cpu = triplet[1];
    const viaAbi = MIPS_TRIPLET_ABI[triplet[2] ?? '']?.[cpu];
    if (viaAbi !== undefined) return archByName(viaAbi);
    const found = aliasIndex.get(cpu);
    if (found !== undefined) return found;
  }
  const closest = closestNames(key, 3);
  throw new CrossrootError('UNKNOWN_ARCH', `resolve architecture: '${alias}' is not a known architecture name`, {
    hint: closest.length > 0
      ? `did you mean ${closest.map((name) => `'${name}'`).join(', ')}? 'crossroot binfmt status --verbose' lists every architecture`
      : `use a QEMU target name such as ${['aarch64', 'arm', 'x86_64', 'riscv64'].map((n) => `'${n}'`).join(', ')}`,
  });
}

/** The known names nearest to `input` by edit distance (ties: shorter, then alphabetical). */
export function closestNames(input: string, count: number): string[] {
  const scored = [...aliasIndex.keys()].map((name) => ({ name, distance: editDistance(input, name) }));
  scored.sort((a, b) => a.distance - b.distance || a.name.length - b.name.length || (a.name < b.name ? -1 : 1));
  const limit = Math.max(2, Math.ceil(input.length / 2));
  return scored.filter((entry) => entry.distance <= limit).slice(0, count).map((entry) => entry.name);
}

/** Edit distance counting an adjacent transposition as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.max(a.length, b.length);
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => rows[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The identifying facts of an ELF file, as the ELF reader reports them. */
export interface ElfIdentity {
  /** ELFCLASS32 -> 32, ELFCLASS64 -> 64. */
  readonly class: number;
  readonly endian: 'little' | 'big';
  /** e_machine. */
  readonly machine: number;
  /** e_flags. */
  readonly flags: number;
  /** EI_OSABI: not used for identity (QEMU's masks ignore it, loongarch64 accepts 0-3). */
  readonly osabi?: number;
}

/**
 * The catalog entry an ELF file belongs to, from its class, byte order,
 * e_machine and (32-bit MIPS) EF_MIPS_ABI2 — whatever its e_type, so REL and
 * CORE files are named too. null when no QEMU target runs it (x32, s390 31-bit, ...).
 */
export function archOfElf(facts: ElfIdentity): Architecture | null {
  for (const arch of ARCHITECTURES) {
    if (arch.bits !== facts.class || arch.endian !== facts.endian) continue;
    if (arch.machine !== facts.machine && !arch.legacyMachines.includes(facts.machine)) continue;
    if (arch.mipsAbi2 !== undefined && arch.mipsAbi2 !== ((facts.flags & EF_MIPS_ABI2) !== 0)) continue;
    return arch;
  }
  return null;
}

/**
 * Spellings of 'arm' that mean Debian's armel port: ARMv5 and ARMv6 (Docker's
 * linux/arm/v5 and linux/arm/v6 images are Debian armel; armhf needs ARMv7)
 * and the soft-float GNU triplets. Other spellings of 'arm' mean armhf.
 */
const ARMEL_SPELLINGS: ReadonlySet<string> = new Set([
  'armel', 'linux/arm/v5', 'arm/v5', 'linux/arm/v6', 'arm/v6',
  'armv5', 'armv5te', 'armv5tel', 'armv6', 'armv6l', 'arm-linux-gnueabi', 'armv5tel-linux-gnueabi',
]);

/**
 * The Debian port a user-typed name means: a Debian name is itself (armel),
 * an ARMv5/ARMv6 spelling of 'arm' is armel, any other spelling the first
 * port of the catalog entry (arm -> armhf); null when Debian has no port.
 * Throws UNKNOWN_ARCH for a name that is no architecture (see resolveArch).
 */
export function debianPortFor(alias: string): string | null {
  const arch = resolveArch(alias);
  const typed = alias.trim().toLowerCase();
  if (arch.debian.includes(typed)) return typed;
  if (arch.name === 'arm' && ARMEL_SPELLINGS.has(typed)) return 'armel';
  return arch.debian[0] ?? null;
}

/** Debian's single name per catalog entry where there is no choice to make. */
const DEBIAN_BY_ARCH: Partial<Record<ArchName, string>> = Object.fromEntries(
  ARCHITECTURES.filter((arch) => arch.name !== 'arm' && arch.debian[0] !== undefined)
    .map((arch) => [arch.name, arch.debian[0]]),
);

/**
 * The Debian architecture an ELF file was built for. ARM splits by e_flags:
 * EABI version 5 with EF_ARM_ABI_FLOAT_HARD is armhf, other EABI5 is armel;
 * older ARM ABIs have no current Debian port (null). X86-64 in ELFCLASS32 is x32.
 */
export function debianArchOf(facts: ElfIdentity): string | null {
  const arch = archOfElf(facts);
  // x32: X86-64 code in ELFCLASS32, a Debian port with no QEMU target of its own.
  if (arch === null) return facts.class === 32 && facts.machine === X86_64_MACHINE ? 'x32' : null;
  if (arch.name === 'arm') {
    if (((facts.flags & EF_ARM_EABIMASK) >>> 0) !== EF_ARM_EABI_VER5) return null;
    return (facts.flags & EF_ARM_ABI_FLOAT_HARD) !== 0 ? 'armhf' : 'armel';
  }
  return DEBIAN_BY_ARCH[arch.name] ?? null;
}

/**
 * Whether the kernel would match this entry's magic/mask (at offset 0) against
 * a file starting with `head`: ((byte ^ magic) & mask) == 0 over the 256-byte
 * window, zero-padded past the end of the file. The rule itself lives in
 * core/binfmt/match.ts.
 */
export function headerMatches(arch: Pick<Architecture, 'name' | 'magic' | 'mask'>, head: Uint8Array): boolean {
  return entryMatchesHead({
    type: 'magic', name: `qemu-${arch.name}`, enabled: true, interpreter: '', flags: NO_FLAGS,
    offset: 0, magic: arch.magic, mask: arch.mask,
  }, head);
}

/** Every catalog entry whose magic/mask accepts these leading bytes. */
export function architecturesMatching(head: Uint8Array): Architecture[] {
  return ARCHITECTURES.filter((arch) => headerMatches(arch, head));
}
