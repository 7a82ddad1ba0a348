// Which binfmt_misc entry handles a file: fs/binfmt_misc.c search_binfmt_handler()
// (check_file() before 6.7), kernel-exec-spec.md section 3.2.
import type { BinfmtEntry } from './entry.ts';
import { BINPRM_BUF_SIZE } from './entry.ts';

/** bprm->buf: the first BINPRM_BUF_SIZE bytes of the file, zero-padded when it is shorter. */
export function kernelWindow(head: Uint8Array): Uint8Array {
  if (head.length === BINPRM_BUF_SIZE) return head;
  const window = new Uint8Array(BINPRM_BUF_SIZE);
  window.set(head.subarray(0, BINPRM_BUF_SIZE));
  return window;
}

/** The extension an E entry is compared with: the text after the LAST '.' anywhere in the path, or null. */
export function pathExtension(path: string): string | null {
  const dot = path.lastIndexOf('.');
  return dot < 0 ? null : path.slice(dot + 1);
}

/**
 * Whether an M entry's magic matches: ((buf[offset + j] ^ magic[j]) & mask[j]) == 0 for every j,
 * against the zero-padded window (so a magic past the end of a short file compares with zeros).
 * Enabled state is not considered here. An E entry never matches by content.
 */
export function entryMatchesHead(entry: BinfmtEntry, head: Uint8Array): boolean {
  if (entry.type !== 'magic') return false;
  const window = kernelWindow(head);
  for (let j = 0; j < entry.magic.length; j++) {
    const byte = window[entry.offset + j];
    if (byte === undefined) return false; // offset + size > 256 cannot be registered
    const mask = entry.mask === null ? 0xff : entry.mask[j] ?? 0xff;
    if (((byte ^ (entry.magic[j] ?? 0)) & mask) !== 0) return false;
  }
  return true;
}

/** Whether an E entry matches `path` (bprm->interp): exact, case-sensitive. */
export function entryMatchesPath(entry: BinfmtEntry, path: string): boolean {
  if (entry.type !== 'extension') return false;
  const extension = pathExtension(path);
  return extension !== null && extension === entry.extension;
}

/**
 * The entry the kernel picks: the first enabled match walking `entries` newest first (the order
 * readInstance() returns), or null (the kernel then goes on to scripts and ELF with ENOEXEC).
 * A disabled instance (status 0) matches nothing.
 */
export function findHandler(
  entries: readonly BinfmtEntry[],
  head: Uint8Array,
  path: string,
  instanceEnabled = true,
): BinfmtEntry | null {
  if (!instanceEnabled) return null;
  const window = kernelWindow(head);
  for (const entry of entries) {
    if (!entry.enabled) continue;
    if (entry.type === 'extension' ? entryMatchesPath(entry, path) : entryMatchesHead(entry, window)) return entry;
  }
  return null;
}
