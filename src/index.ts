// crossroot as a library. The pure core (bytes and strings in, data out) is
// usable on its own; the runner functions touch files and processes.

// Errors
export { CrossrootError, UsageError, ERROR_CODES, isCrossrootError, type ErrorCode } from './core/errors.ts';

// ELF
export { parseElf, parseElfBytes, looksLikeElf, isPie, type ElfFile, type ElfProgramHeader, type ElfProblem, type ElfType } from './core/elf/elf.ts';
export { bytesSource, type ByteSource } from './core/bytes/byte-reader.ts';
export { openFileSource, readHead, withFileSource } from './runner/fs/file-source.ts';

// #! scripts
export { parseShebang, type ShebangResult } from './core/exec/shebang.ts';

// Architectures
export { ARCHITECTURES, resolveArch, archOfElf, debianArchOf, architecturesMatching, type Architecture, type ArchName } from './core/arch/arch.ts';
export { buildProbeElf, PROBE_ARCHES } from './core/probe/probe-elf.ts';

// binfmt_misc
export type { BinfmtEntry, MagicEntry, ExtensionEntry, BinfmtFlags } from './core/binfmt/entry.ts';
export { parseRegisterString, formatRegisterString, renderEntryText, parseEntryText, judgeRegisterString } from './core/binfmt/rule.ts';
export { findHandler, entryMatchesHead } from './core/binfmt/match.ts';
export { readInstance, DEFAULT_BINFMT_DIR } from './kernel/binfmt-fs.ts';

// Predicting execve
export { simulateExec, type ExecPrediction, type ExecWorld, type ExecRequest } from './core/exec/simulate.ts';
export { createExecWorld } from './runner/inspect/exec-world.ts';

// Inspecting files and trees
export { inspectPath, type InspectRecord } from './runner/inspect/inspect.ts';
export { scanTrees, type ScanResult } from './runner/inspect/scan.ts';

// Images: roots to OCI/docker archives and back
export { exportImage, type ExportOptions, type ExportResult, type ExportedImage, type ImageFormat } from './runner/image/export.ts';
export { importImage, type ImportImageOptions } from './runner/image/import-root.ts';

// The command line, for embedding: main(argv, io) -> exit status
export { main } from './cli/main.ts';
