// Probe programs: for every QEMU user-mode target, a minimal static ELF
// executable of that architecture that does exit_group(STATUS) and nothing
// else. `binfmt status/test` runs them to prove an emulator really executes
// foreign code, directly and inside an empty root.
//
// Each file is ELF header + one PT_LOAD program header (+ the ppc64 ELFv1
// function descriptor) + a few instructions, no section headers: 96-148
// bytes. The status is patched into an immediate field of the first
// instruction (`statusField`), so there is no data word to address.
//
// The machine code was hand-assembled and checked with llvm-mc and GNU
// objdump (binutils-multiarch); the syscall numbers are the kernel's
// per-architecture tables, checked under `qemu-<arch>-static -strace`.
// Header fields follow what the architecture's ordinary Linux binaries carry
// (e_flags, OS ABI, load address), so `readelf -h`, `file` and the
// architecture catalog classify a probe like a real program.

import { EHDR, ET, EV_CURRENT, PF, PHDR, PT, writeIdent, writeStruct } from '../elf/layout.ts';
import { CrossrootError, UsageError } from '../errors.ts';

/** Where and how the status goes into the code: OR-ed into an instruction field. */
export interface StatusField {
  /** Byte offset of the instruction unit inside `code`. */
  readonly offset: number;
  /** Size of the unit read and written back (1, 2 or 4 bytes). */
  readonly unit: 1 | 2 | 4;
  /** Byte order of the instruction unit (not always the data order: aarch64_be code is little-endian). */
  readonly order: 'little' | 'big';
  /** The field starts at this bit of the unit... */
  readonly shift: number;
  /** ...and is this many bits wide (only 8 are used: statuses are 0..255). */
  readonly width: number;
}

const LE = 'little';
const BE = 'big';

/** e_flags values spelled out where the table uses them. */
const EF_ARM_EABI5_HARD_FLOAT = 0x05000400; // EF_ARM_EABI_VER5 | EF_ARM_ABI_FLOAT_HARD: armhf
const EF_ARM_EABI5_SOFT_FLOAT = 0x05000200; // EF_ARM_EABI_VER5 | EF_ARM_ABI_FLOAT_SOFT
const EF_ARM_BE8 = 0x00800000; // big-endian data, little-endian code (ARMv6+ big-endian)
const EF_MIPS_O32_32R2 = 0x70001005; // EF_MIPS_ARCH_32R2 | EF_MIPS_ABI_O32 | CPIC | NOREORDER
const EF_MIPS_N64_64R2 = 0x80000005; // EF_MIPS_ARCH_64R2 | CPIC | NOREORDER
const EF_MIPS_N32_64R2 = 0x80000025; // EF_MIPS_ARCH_64R2 | EF_MIPS_ABI2 | CPIC | NOREORDER
const EF_PPC64_ABI_V1 = 1; // ELFv1: e_entry points at a function descriptor
const EF_PPC64_ABI_V2 = 2;
const EF_PARISC_1_1 = 0x210; // EFA_PARISC_1_1, what hppa Linux binaries carry
const EF_SPARC_32PLUS_US1 = 0x300; // EF_SPARC_32PLUS | EF_SPARC_SUN_US1: "V8+, UltraSPARC1 extensions"
const EF_SPARCV9_RMO = 0x2; // relaxed memory ordering, gas's default for 64-bit SPARC
const EF_SH4 = 0x9;
const EF_RISCV_RVC_DOUBLE = 0x5; // EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_DOUBLE
const EF_LARCH_OBJABI_V1_DOUBLE = 0x43; // EF_LARCH_OBJABI_V1 | EF_LARCH_ABI_DOUBLE_FLOAT
const EF_HEXAGON_MACH_V67 = 0x67; // the core QEMU's hexagon models
const EF_XTENSA_XT_INSN_LIT = 0x300; // EF_XTENSA_XT_INSN | EF_XTENSA_XT_LIT

const ELFOSABI_SYSV = 0;
const ELFOSABI_GNU = 3;

/**
 * One row per QEMU target. `code` is in file byte order; the STATUS
 * immediate in it is zero and filled in by `buildProbeElf`.
 */
const PROBE_TABLE = [
  {
    arch: 'aarch64', bits: 64, endian: LE, machine: 183, flags: 0, osAbi: ELFOSABI_SYSV, loadAddress: 0x400000,
    code: [
      0x00, 0x00, 0x80, 0xd2, // movz x0, #STATUS
      0xc8, 0x0b, 0x80, 0xd2, // movz x8, #94        (__NR_exit_group)
      0x01, 0x00, 0x00, 0xd4, // svc  #0
    ],
    statusField: { offset: 0, unit: 4, order: LE, shift: 5, width: 16 },
  },
  {
    // Big-endian data, but A64 instructions are always stored little-endian.
    arch: 'aarch64_be', bits: 64, endian: BE, machine: 183, flags: 0, osAbi: ELFOSABI_SYSV, loadAddress: 0x400000,
    code: [
      0x00, 0x00, 0x80, 0xd2, // movz x0, #STATUS
      0xc8, 0x0b, 0x80, 0xd2, // movz x8, #94        (__NR_exit_group)
      0x01, 0x00, 0x00, 0xd4, // svc  #0
    ],
    statusField: { offset: 0, unit: 4, order: LE, shift: 5, width: 16 },
  },
  {
    arch: 'alpha', bits: 64, endian: LE, machine: 0x9026, flags: 0, osAbi: ELFOSABI_SYSV, loadAddress: 0x120000000,
    code: [
      0x00, 0x00, 0x1f, 0x22, // lda  a0, STATUS(zero)
      0x95, 0x01, 0x1f, 0x20, // lda  v0, 405(zero)  (__NR_exit_group)
      0x83, 0x00, 0x00, 0x00, // callsys             (call_pal 0x83)
    ],
    statusField: { offset: 0, unit: 4, order: LE, shift: 0, width: 16 },
  },
  {
    // ARM EABI5 hard-float: reads as armhf.
    arch: 'arm', bits: 32, endian: LE, machine: 40, flags: EF_ARM_EABI5_HARD_FLOAT, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000,
    code: [
      0x00, 0x00, 0xa0, 0xe3, // mov r0, #STATUS
      0xf8, 0x70, 0xa0, 0xe3, // mov r7, #248        (__NR_exit_group)
      0x00, 0x00, 0x00, 0xef, // svc #0
    ],
    statusField: { offset: 0, unit: 4, order: LE, shift: 0, width: 8 },
  },
  {
    // BE8 (what ARMv6+ big-endian toolchains link): big-endian data, little-endian code.
    arch: 'armeb', bits: 32, endian: BE, machine: 40, flags: EF_ARM_EABI5_SOFT_FLOAT | EF_ARM_BE8, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000,
    code: [
      0x00, 0x00, 0xa0, 0xe3, // mov r0, #STATUS
      0xf8, 0x70, 0xa0, 0xe3, // mov r7, #248        (__NR_exit_group)
      0x00, 0x00, 0x00, 0xef, // svc #0
    ],
    statusField: { offset: 0, unit: 4, order: LE, shift: 0, width: 8 },
  },
  {
    // One instruction per packet: parse bits 15:14 = 0b11 end each packet.
    arch: 'hexagon', bits: 32, endian: LE, machine: 164, flags: EF_HEXAGON_MACH_V67, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000,
    code: [
      0x00, 0xc0, 0x00, 0x78, // { r0 = #STATUS }
      0xc6, 0xcb, 0x00, 0x78, // { r6 = #94 }        (__NR_exit_group)
      0x04, 0xc0, 0x00, 0x54, // { trap0(#1) }
    ],
    statusField: { offset: 0, unit: 4, order: LE, shift: 5, width: 9 },
  },
  {
    // Syscall number in r20, first argument in r26; the gateway at 0x100 of space sr2.
    arch: 'hppa', bits: 32, endian: BE, machine: 15, flags: EF_PARISC_1_1, osAbi: ELFOSABI_GNU, loadAddress: 0x10000,
    code: [
      0x34, 0x1a, 0x00, 0x00, // ldi  STATUS, r26    (ldo STATUS(r0), r26; im14 is low-sign-extended: value << 1)
      0xe4, 0x00, 0x82, 0x00, // ble  0x100(sr2, r0)
      0x34, 0x14, 0x01, 0xbc, // ldi  222, r20       (delay slot; __NR_exit_group)
    ],
    statusField: { offset: 0, unit: 4, order: BE, shift: 1, width: 13 },
  },
  {
    arch: 'i386', bits: 32, endian: LE, machine: 3, flags: 0, osAbi: ELFOSABI_SYSV, loadAddress: 0x8040000,
    code: [
      0xbb, 0x00, 0x00, 0x00, 0x00, // mov ebx, STATUS
      0xb8, 0xfc, 0x00, 0x00, 0x00, // mov eax, 252    (__NR_exit_group)
      0xcd, 0x80, //                   int 0x80
    ],
    statusField: { offset: 1, unit: 1, order: LE, shift: 0, width: 8 },
  },
  {
    arch: 'loongarch64', bits: 64, endian: LE, machine: 258, flags: EF_LARCH_OBJABI_V1_DOUBLE, osAbi: ELFOSABI_SYSV, loadAddress: 0x120000000,
    code: [
      0x04, 0x00, 0x80, 0x03, // ori a0, zero, STATUS
      0x0b, 0x78, 0x81, 0x03, // ori a7, zero, 94    (__NR_exit_group)
      0x00, 0x00, 0x2b, 0x00, // syscall 0
    ],
    statusField: { offset: 0, unit: 4, order: LE, shift: 10, width: 12 },
  },
  {
    // moveq sign-extends its byte; exit statuses are taken modulo 256, so 128..255 still come out right.
    arch: 'm68k', bits: 32, endian: BE, machine: 4, flags: 0, osAbi: ELFOSABI_SYSV, loadAddress: 0x80000000,
    code: [
      0x72, 0x00, //                         moveq  #STATUS, d1
      0x20, 0x3c, 0x00, 0x00, 0x00, 0xf7, // move.l #247, d0   (__NR_exit_group)
      0x4e, 0x40, //                         trap   #0
    ],
    statusField: { offset: 0, unit: 2, order: BE, shift: 0, width: 8 },
  },
  {
    arch: 'microblaze', bits: 32, endian: BE, machine: 189, flags: 0, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000,
    code: [
      0x30, 0xa0, 0x00, 0x00, // addik r5, r0, STATUS
      0x31, 0x80, 0x00, 0xfc, // addik r12, r0, 252  (__NR_exit_group)
      0xb9, 0xcc, 0x00, 0x08, // brki  r14, 8
    ],
    statusField: { offset: 0, unit: 4, order: BE, shift: 0, width: 16 },
  },
  {
    arch: 'microblazeel', bits: 32, endian: LE, machine: 189, flags: 0, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000,
    code: [
      0x00, 0x00, 0xa0, 0x30, // addik r5, r0, STATUS
      0xfc, 0x00, 0x80, 0x31, // addik r12, r0, 252  (__NR_exit_group)
      0x08, 0x00, 0xcc, 0xb9, // brki  r14, 8
    ],
    statusField: { offset: 0, unit: 4, order: LE, shift: 0, width: 16 },
  },
  {
    arch: 'mips', bits: 32, endian: BE, machine: 8, flags: EF_MIPS_O32_32R2, osAbi: ELFOSABI_SYSV, loadAddress: 0x400000,
    code: [
      0x24, 0x04, 0x00, 0x00, // li a0, STATUS       (addiu a0, zero, STATUS)
      0x24, 0x02, 0x10, 0x96, // li v0, 4246         (o32 __NR_exit_group)
      0x00, 0x00, 0x00, 0x0c, // syscall
    ],
    statusField: { offset: 0, unit: 4, order: BE, shift: 0, width: 16 },
  },
  {
    arch: 'mips64', bits: 64, endian: BE, machine: 8, flags: EF_MIPS_N64_64R2, osAbi: ELFOSABI_SYSV, loadAddress: 0x120000000,
    code: [
      0x24, 0x04, 0x00, 0x00, // li a0, STATUS       (addiu a0, zero, STATUS)
      0x24, 0x02, 0x14, 0x55, // li v0, 5205         (n64 __NR_exit_group)
      0x00, 0x00, 0x00, 0x0c, // syscall
    ],
    statusField: { offset: 0, unit: 4, order: BE, shift: 0, width: 16 },
  },
  {
    arch: 'mips64el', bits: 64, endian: LE, machine: 8, flags: EF_MIPS_N64_64R2, osAbi: ELFOSABI_SYSV, loadAddress: 0x120000000,
    code: [
      0x00, 0x00, 0x04, 0x24, // li a0, STATUS
      0x55, 0x14, 0x02, 0x24, // li v0, 5205         (n64 __NR_exit_group)
      0x0c, 0x00, 0x00, 0x00, // syscall
    ],
    statusField: { offset: 0, unit: 4, order: LE, shift: 0, width: 16 },
  },
  {
    arch: 'mipsel', bits: 32, endian: LE, machine: 8, flags: EF_MIPS_O32_32R2, osAbi: ELFOSABI_SYSV, loadAddress: 0x400000,
    code: [
      0x00, 0x00, 0x04, 0x24, // li a0, STATUS
      0x96, 0x10, 0x02, 0x24, // li v0, 4246         (o32 __NR_exit_group)
      0x0c, 0x00, 0x00, 0x00, // syscall
    ],
    statusField: { offset: 0, unit: 4, order: LE, shift: 0, width: 16 },
  },
  {
    // n32: ELF32 with EF_MIPS_ABI2, which is what the binfmt entries and QEMU tell apart from o32.
    arch: 'mipsn32', bits: 32, endian: BE, machine: 8, flags: EF_MIPS_N32_64R2, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000000,
    code: [
      0x24, 0x04, 0x00, 0x00, // li a0, STATUS
      0x24, 0x02, 0x18, 0x3d, // li v0, 6205         (n32 __NR_exit_group)
      0x00, 0x00, 0x00, 0x0c, // syscall
    ],
    statusField: { offset: 0, unit: 4, order: BE, shift: 0, width: 16 },
  },
  {
    arch: 'mipsn32el', bits: 32, endian: LE, machine: 8, flags: EF_MIPS_N32_64R2, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000000,
    code: [
      0x00, 0x00, 0x04, 0x24, // li a0, STATUS
      0x3d, 0x18, 0x02, 0x24, // li v0, 6205         (n32 __NR_exit_group)
      0x0c, 0x00, 0x00, 0x00, // syscall
    ],
    statusField: { offset: 0, unit: 4, order: LE, shift: 0, width: 16 },
  },
  {
    arch: 'or1k', bits: 32, endian: BE, machine: 92, flags: 0, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000,
    code: [
      0x9c, 0x60, 0x00, 0x00, // l.addi r3, r0, STATUS
      0x9d, 0x60, 0x00, 0x5e, // l.addi r11, r0, 94  (__NR_exit_group)
      0x20, 0x00, 0x00, 0x01, // l.sys  1
    ],
    statusField: { offset: 0, unit: 4, order: BE, shift: 0, width: 16 },
  },
  {
    arch: 'ppc', bits: 32, endian: BE, machine: 20, flags: 0, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000000,
    code: [
      0x38, 0x60, 0x00, 0x00, // li r3, STATUS
      0x38, 0x00, 0x00, 0xea, // li r0, 234          (__NR_exit_group)
      0x44, 0x00, 0x00, 0x02, // sc
    ],
    statusField: { offset: 0, unit: 4, order: BE, shift: 0, width: 16 },
  },
  {
    // Big-endian ppc64 Linux is ELFv1: e_entry points at a function descriptor
    // (code address, TOC, environment) that the builder places before the code.
    arch: 'ppc64', bits: 64, endian: BE, machine: 21, flags: EF_PPC64_ABI_V1, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000000,
    functionDescriptor: true,
    code: [
      0x38, 0x60, 0x00, 0x00, // li r3, STATUS
      0x38, 0x00, 0x00, 0xea, // li r0, 234          (__NR_exit_group)
      0x44, 0x00, 0x00, 0x02, // sc
    ],
    statusField: { offset: 0, unit: 4, order: BE, shift: 0, width: 16 },
  },
  {
    arch: 'ppc64le', bits: 64, endian: LE, machine: 21, flags: EF_PPC64_ABI_V2, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000000,
    code: [
      0x00, 0x00, 0x60, 0x38, // li r3, STATUS
      0xea, 0x00, 0x00, 0x38, // li r0, 234          (__NR_exit_group)
      0x02, 0x00, 0x00, 0x44, // sc
    ],
    statusField: { offset: 0, unit: 4, order: LE, shift: 0, width: 16 },
  },
  {
    arch: 'riscv32', bits: 32, endian: LE, machine: 243, flags: EF_RISCV_RVC_DOUBLE, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000,
    code: [
      0x13, 0x05, 0x00, 0x00, // li a0, STATUS       (addi a0, zero, STATUS)
      0x93, 0x08, 0xe0, 0x05, // li a7, 94           (__NR_exit_group)
      0x73, 0x00, 0x00, 0x00, // ecall
    ],
    statusField: { offset: 0, unit: 4, order: LE, shift: 20, width: 12 },
  },
  {
    arch: 'riscv64', bits: 64, endian: LE, machine: 243, flags: EF_RISCV_RVC_DOUBLE, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000,
    code: [
      0x13, 0x05, 0x00, 0x00, // li a0, STATUS       (addi a0, zero, STATUS)
      0x93, 0x08, 0xe0, 0x05, // li a7, 94           (__NR_exit_group)
      0x73, 0x00, 0x00, 0x00, // ecall
    ],
    statusField: { offset: 0, unit: 4, order: LE, shift: 20, width: 12 },
  },
  {
    // Syscall numbers below 256 are encoded in the svc instruction itself.
    arch: 's390x', bits: 64, endian: BE, machine: 22, flags: 0, osAbi: ELFOSABI_SYSV, loadAddress: 0x1000000,
    code: [
      0xa7, 0x29, 0x00, 0x00, // lghi r2, STATUS
      0x0a, 0xf8, //             svc  248            (__NR_exit_group)
    ],
    statusField: { offset: 0, unit: 4, order: BE, shift: 0, width: 16 },
  },
  {
    // mov #imm sign-extends 8 bits, so 252 is built as 126 + 126; STATUS 128..255 exits right modulo 256.
    arch: 'sh4', bits: 32, endian: LE, machine: 42, flags: EF_SH4, osAbi: ELFOSABI_SYSV, loadAddress: 0x400000,
    code: [
      0x7e, 0xe3, // mov   #126, r3
      0x7e, 0x73, // add   #126, r3         (252: __NR_exit_group)
      0x00, 0xe4, // mov   #STATUS, r4
      0x11, 0xc3, // trapa #0x11            (system call with 1 argument)
    ],
    statusField: { offset: 4, unit: 2, order: LE, shift: 0, width: 8 },
  },
  {
    arch: 'sh4eb', bits: 32, endian: BE, machine: 42, flags: EF_SH4, osAbi: ELFOSABI_SYSV, loadAddress: 0x400000,
    code: [
      0xe3, 0x7e, // mov   #126, r3
      0x73, 0x7e, // add   #126, r3         (252: __NR_exit_group)
      0xe4, 0x00, // mov   #STATUS, r4
      0xc3, 0x11, // trapa #0x11
    ],
    statusField: { offset: 4, unit: 2, order: BE, shift: 0, width: 8 },
  },
  {
    arch: 'sparc', bits: 32, endian: BE, machine: 2, flags: 0, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000,
    code: [
      0x90, 0x10, 0x20, 0x00, // mov STATUS, %o0     (or %g0, STATUS, %o0)
      0x82, 0x10, 0x20, 0xbc, // mov 188, %g1        (__NR_exit_group)
      0x91, 0xd0, 0x20, 0x10, // ta  0x10            (32-bit system call trap)
    ],
    statusField: { offset: 0, unit: 4, order: BE, shift: 0, width: 13 },
  },
  {
    // 32-bit ABI on a V9 CPU: EM_SPARC32PLUS (18), same trap as sparc.
    arch: 'sparc32plus', bits: 32, endian: BE, machine: 18, flags: EF_SPARC_32PLUS_US1, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000,
    code: [
      0x90, 0x10, 0x20, 0x00, // mov STATUS, %o0
      0x82, 0x10, 0x20, 0xbc, // mov 188, %g1        (__NR_exit_group)
      0x91, 0xd0, 0x20, 0x10, // ta  0x10
    ],
    statusField: { offset: 0, unit: 4, order: BE, shift: 0, width: 13 },
  },
  {
    arch: 'sparc64', bits: 64, endian: BE, machine: 43, flags: EF_SPARCV9_RMO, osAbi: ELFOSABI_SYSV, loadAddress: 0x100000,
    code: [
      0x90, 0x10, 0x20, 0x00, // mov STATUS, %o0
      0x82, 0x10, 0x20, 0xbc, // mov 188, %g1        (__NR_exit_group)
      0x91, 0xd0, 0x20, 0x6d, // ta  0x6d            (64-bit system call trap)
    ],
    statusField: { offset: 0, unit: 4, order: BE, shift: 0, width: 13 },
  },
  {
    arch: 'x86_64', bits: 64, endian: LE, machine: 62, flags: 0, osAbi: ELFOSABI_SYSV, loadAddress: 0x400000,
    code: [
      0xbf, 0x00, 0x00, 0x00, 0x00, // mov edi, STATUS
      0xb8, 0xe7, 0x00, 0x00, 0x00, // mov eax, 231    (__NR_exit_group)
      0x0f, 0x05, //                   syscall
    ],
    statusField: { offset: 1, unit: 1, order: LE, shift: 0, width: 8 },
  },
  {
    // 24-bit instructions; movi's imm12 low byte is the third byte. Syscall
    // number in a2, first argument in a6.
    arch: 'xtensa', bits: 32, endian: LE, machine: 94, flags: EF_XTENSA_XT_INSN_LIT, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000,
    code: [
      0x62, 0xa0, 0x00, // movi a6, STATUS
      0x22, 0xa0, 0x77, // movi a2, 119         (__NR_exit_group)
      0x00, 0x50, 0x00, // syscall
    ],
    statusField: { offset: 2, unit: 1, order: LE, shift: 0, width: 8 },
  },
  {
    // Big-endian Xtensa stores the instruction fields in the opposite nibble order.
    arch: 'xtensaeb', bits: 32, endian: BE, machine: 94, flags: EF_XTENSA_XT_INSN_LIT, osAbi: ELFOSABI_SYSV, loadAddress: 0x10000,
    code: [
      0x26, 0x0a, 0x00, // movi a6, STATUS
      0x22, 0x0a, 0x77, // movi a2, 119         (__NR_exit_group)
      0x00, 0x05, 0x00, // syscall
    ],
    statusField: { offset: 2, unit: 1, order: BE, shift: 0, width: 8 },
  },
] as const;

type ProbeRow = (typeof PROBE_TABLE)[number];
export type ProbeArch = ProbeRow['arch'];

export interface ProbeSpec {
  readonly arch: ProbeArch;
  readonly bits: 32 | 64;
  readonly endian: 'little' | 'big';
  readonly machine: number;
  readonly flags: number;
  readonly osAbi: number;
  readonly loadAddress: number;
  /** ppc64 ELFv1: e_entry points at a 24-byte descriptor placed before the code. */
  readonly functionDescriptor: boolean;
  readonly code: readonly number[];
  readonly statusField: StatusField;
}

export const PROBE_SPECS: readonly ProbeSpec[] = PROBE_TABLE.map((row): ProbeSpec => ({
  ...row,
  functionDescriptor: 'functionDescriptor' in row ? row.functionDescriptor : false,
}));

/** Every architecture a probe can be built for, in table (alphabetical) order. */
export const PROBE_ARCHES: readonly ProbeArch[] = PROBE_SPECS.map((spec) => spec.arch);

const SPEC_BY_ARCH: ReadonlyMap<string, ProbeSpec> = new Map(PROBE_SPECS.map((spec) => [spec.arch, spec]));

export function isProbeArch(value: string): value is ProbeArch {
  return SPEC_BY_ARCH.has(value);
}

export function probeSpec(arch: string): ProbeSpec {
  const spec = SPEC_BY_ARCH.get(arch);
  if (spec === undefined) {
    throw new CrossrootError('UNKNOWN_ARCH', `build probe: no probe program for architecture '${arch}'`, {
      hint: `choose one of: ${PROBE_ARCHES.join(', ')}`,
    });
  }
  return spec;
}

/** The wait status a probe built with `exitStatus` is expected to end with (exit(2) keeps the low 8 bits). */
export function probeExpectation(exitStatus: number): number {
  return exitStatus & 0xff;
}

/** Segment alignment: a multiple of every target's page size (up to 64 KiB: ppc64, loongarch, aarch64). */
const SEGMENT_ALIGN = 0x10000; // so every load address (and p_vaddr) is a multiple of it, i386 included
const PPC64_DESCRIPTOR_SIZE = 24;

export interface ProbeLayout {
  readonly ehdrSize: number;
  readonly phdrOffset: number;
  readonly phdrSize: number;
  /** File offset of the ppc64 function descriptor, or null. */
  readonly descriptorOffset: number | null;
  readonly codeOffset: number;
  readonly fileSize: number;
  readonly entry: number;
}

/** Where everything goes in the file of `spec` (pure arithmetic, no bytes). */
export function probeLayout(spec: ProbeSpec): ProbeLayout {
  const ehdrSize = EHDR[spec.bits].size;
  const phdrSize = PHDR[spec.bits].size;
  const phdrOffset = ehdrSize;
  const afterHeaders = phdrOffset + phdrSize; // 84 or 120: both 4-aligned, 120 is 8-aligned
  const descriptorOffset = spec.functionDescriptor ? afterHeaders : null;
  const codeOffset = afterHeaders + (spec.functionDescriptor ? PPC64_DESCRIPTOR_SIZE : 0);
  const fileSize = codeOffset + spec.code.length;
  const entry = spec.loadAddress + (descriptorOffset ?? codeOffset);
  return { ehdrSize, phdrOffset, phdrSize, descriptorOffset, codeOffset, fileSize, entry };
}

function checkStatus(arch: string, exitStatus: number): void {
  if (!Number.isInteger(exitStatus) || exitStatus < 0 || exitStatus > 255) {
    throw new UsageError(`build probe for '${arch}': exit status '${String(exitStatus)}' is not an integer from 0 to 255`);
  }
}

/** Writes `status` into the zero field the spec names; the unit is read and written in its own byte order. */
function patchStatus(code: Uint8Array, field: StatusField, status: number): void {
  const view = new DataView(code.buffer, code.byteOffset, code.byteLength);
  const little = field.order === 'little';
  const read = (): number => field.unit === 1 ? view.getUint8(field.offset)
    : field.unit === 2 ? view.getUint16(field.offset, little) : view.getUint32(field.offset, little);
  const write = (value: number): void => {
    if (field.unit === 1) view.setUint8(field.offset, value);
    else if (field.unit === 2) view.setUint16(field.offset, value, little);
    else view.setUint32(field.offset, value >>> 0, little);
  };
  // Multiply rather than shift: `<<` turns bit 31 into a sign.
  write((read() + status * 2 ** field.shift) % 2 ** (field.unit * 8));
}

/**
 * A complete ET_EXEC file for `arch` whose only action is exit_group(exitStatus):
 * ELF header, one PT_LOAD (R+X) mapping the whole file at the spec's load
 * address, the ppc64 ELFv1 descriptor when needed, then the code. No sections.
 */
export function buildProbeElf(arch: string, exitStatus: number): Uint8Array {
  const spec = probeSpec(arch);
  checkStatus(arch, exitStatus);
  const layout = probeLayout(spec);
  const file = new Uint8Array(layout.fileSize);
  const view = new DataView(file.buffer, 0, layout.fileSize);
  const little = spec.endian === 'little';

  writeIdent(file, { bits: spec.bits, endian: spec.endian, osabi: spec.osAbi });
  writeStruct(view, 0, EHDR[spec.bits], {
    type: ET.EXEC,
    machine: spec.machine,
    version: EV_CURRENT,
    entry: layout.entry,
    phoff: layout.phdrOffset,
    shoff: 0, // no section headers: e_shentsize, e_shnum, e_shstrndx stay 0
    flags: spec.flags,
    ehsize: layout.ehdrSize,
    phentsize: layout.phdrSize,
    phnum: 1,
  }, little);
  writeStruct(view, layout.phdrOffset, PHDR[spec.bits], {
    type: PT.LOAD,
    flags: PF.R | PF.X,
    offset: 0,
    vaddr: spec.loadAddress,
    paddr: spec.loadAddress,
    filesz: layout.fileSize,
    memsz: layout.fileSize,
    align: SEGMENT_ALIGN,
  }, little);

  if (layout.descriptorOffset !== null) {
    // { entry point, TOC (unused), environment (unused) }
    view.setBigUint64(layout.descriptorOffset, BigInt(spec.loadAddress + layout.codeOffset), little);
  }

  const code = Uint8Array.from(spec.code);
  patchStatus(code, spec.statusField, exitStatus);
  file.set(code, layout.codeOffset);
  return file;
}
