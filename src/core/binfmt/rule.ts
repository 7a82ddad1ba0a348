// The binfmt_misc rule language: the register string `:name:type:offset:magic:mask:interpreter:flags`
// parsed exactly as fs/binfmt_misc.c create_entry() does (kernel-exec-spec.md section 1), the text the
// kernel shows in an entry's file (section 2.4), and a canonical formatter.
//
// The parser is a byte-for-byte simulation of the C code rather than a grammar: the kernel pads the
// record with 8 copies of the delimiter, splits with strchr() (which also stops at a raw NUL),
// scans magic/mask with scanarg() (which only checks that every `\x` has two hex digits) and then
// decodes them with string_unescape(UNESCAPE_HEX) (which stops at the first raw NUL and leaves every
// other backslash sequence literal). Reproducing those steps reproduces the odd corners for free:
// `\n` and `\\` stay literal, `\x00` is a NUL byte while a raw NUL truncates, a mask starting with a
// raw NUL means "no mask", a NUL byte works as the delimiter, a newline delimiter needs an extra
// trailing newline, and a flag letter (P, O, C, F) cannot be the delimiter.
// Every behaviour here was compared with a 6.18 kernel (test/binfmt-check-kernel.test.ts).
//
// Strings are "byte strings" (one char per byte, latin1), as in shebang.ts: names, interpreters and
// extensions are bytes to the kernel, not UTF-8 text.
import type { BinfmtEntry, BinfmtFlags, MagicEntry } from './entry.ts';
import { BINPRM_BUF_SIZE, flagsToString } from './entry.ts';
import { CrossrootError } from '../errors.ts';

/** Shortest and longest accepted write(2), in bytes, including an optional trailing newline. */
/** The layout of a register string, for hints (Documentation/admin-guide/binfmt-misc.rst). */
export const REGISTER_STRING_FORMAT = ':name:type:offset:magic:mask:interpreter:flags';

export const MIN_REGISTER_LENGTH = 11;
export const MAX_REGISTER_LENGTH = 1920;
/** The kernel pads the copied record with this many delimiter bytes. */
const DELIMITER_PADDING = 8;
/** Entry names become file names: lookup gives ENAMETOOLONG beyond NAME_MAX (checked after create_entry). */
export const NAME_MAX = 255;
/** Files every binfmt_misc instance has; registering one of these names is EEXIST. */
export const RESERVED_NAMES = ['register', 'status'] as const;

export type RuleParseResult =
  | { readonly ok: true; readonly entry: BinfmtEntry }
  | { readonly ok: false; readonly errno: 'EINVAL'; readonly reason: string };

const BACKSLASH = 0x5c;
const LOWER_X = 0x78;
const NEWLINE = 0x0a;
const FLAG_BYTES: Readonly<Record<number, keyof BinfmtFlags>> = { 0x50: 'P', 0x4f: 'O', 0x43: 'C', 0x46: 'F' };

/** A byte string (all chars <= U+00FF) is taken byte for byte; any other string is UTF-8 text. */
export function toRecordBytes(text: string | Uint8Array): Uint8Array {
  if (typeof text !== 'string') return text;
  let isByteString = true;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) { isByteString = false; break; }
  if (!isByteString) return new TextEncoder().encode(text);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

export function byteString(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** The kernel's isxdigit(): ASCII hex digits only. */
function isHexDigit(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  return -1;
}

class Invalid extends Error {}

/** The kernel's work buffer: the record, 8 delimiter bytes, and nothing readable after that. */
class KernelBuffer {
  readonly bytes: Uint8Array;
  constructor(record: Uint8Array, readonly delimiter: number) {
    this.bytes = new Uint8Array(record.length + DELIMITER_PADDING);
    this.bytes.set(record);
    this.bytes.fill(delimiter, record.length);
  }

  /** A read past the padding would be past the kernel's allocation; no valid record gets there. */
  at(index: number): number {
    const byte = this.bytes[index];
    if (byte === undefined) throw new Invalid('the record runs past its padding');
    return byte;
  }

  /** strchr(): the index of `delimiter` from `start`, or -1 at a NUL first (a NUL delimiter is found). */
  strchr(start: number, delimiter = this.delimiter): number {
    for (let i = start; ; i++) {
      const byte = this.at(i);
      if (byte === delimiter) return i;
      if (byte === 0) return -1;
    }
  }

  /** The C string at `start` (up to the first NUL). */
  cString(start: number): Uint8Array {
    let end = start;
    while (this.at(end) !== 0) end++;
    return this.bytes.subarray(start, end);
  }
}

/** scanarg(): skips to the delimiter, insisting on two hex digits after every `\x`; NULs the delimiter. */
function scanArgument(buf: KernelBuffer, start: number): number | null {
  let s = start;
  for (;;) {
    const c = buf.at(s++);
    if (c === buf.delimiter) break;
    if (c === BACKSLASH && buf.at(s) === LOWER_X) {
      s++;
      if (!isHexDigit(buf.at(s++))) return null;
      if (!isHexDigit(buf.at(s++))) return null;
    }
  }
  buf.bytes[s - 1] = 0;
  return s;
}

/** string_unescape(src, UNESCAPE_HEX) up to the first NUL: only `\xH` / `\xHH` become a byte. */
function unescapeHex(src: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? 0;
    const next = src[i + 1];
    if (c === BACKSLASH && next !== undefined) {
      i++;
      const high = src[i + 1] === undefined ? -1 : hexValue(src[i + 1] ?? 0);
      if (next === LOWER_X && high >= 0) {
        let value = high;
        i += 2;
        const low = src[i] === undefined ? -1 : hexValue(src[i] ?? 0);
        if (low >= 0) { value = (value << 4) | low; i++; }
        out.push(value);
        continue;
      }
      out.push(BACKSLASH);
    }
    out.push(src[i] ?? 0);
    i++;
  }
  return Uint8Array.from(out);
}

/**
 * kstrtoint(text, 10): optional '+' or '-', at least one decimal digit, one optional trailing
 * newline, and a value that fits an int. Returns null where the kernel returns an error.
 */
export function kstrtoint10(text: Uint8Array): number | null {
  let i = 0;
  let negative = false;
  if (text[0] === 0x2d) { negative = true; i = 1; } else if (text[0] === 0x2b) i = 1;
  let value = 0n;
  const firstDigit = i;
  for (; i < text.length; i++) {
    const byte = text[i] ?? 0;
    if (byte < 0x30 || byte > 0x39) break;
    value = value * 10n + BigInt(byte - 0x30);
    if (value > 0xffffffffffffffffn) return null; // ERANGE in _parse_integer
  }
  if (i === firstDigit) return null;
  if (text[i] === NEWLINE) i++;
  if (i !== text.length) return null;
  const signed = negative ? -value : value;
  if (signed > 2147483647n || signed < -2147483648n) return null;
  return Number(signed);
}

function fail(reason: string): never {
  throw new Invalid(reason);
}

/** create_entry(): the entry a write of `text` to `register` creates, or the reason it is EINVAL. */
export function parseRegisterString(text: string | Uint8Array): RuleParseResult {
  const record = toRecordBytes(text);
  try {
    return { ok: true, entry: createEntry(record) };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, errno: 'EINVAL', reason: error.message };
    throw error;
  }
}

type EntryFields = { type: 'magic'; offset: number; magic: Uint8Array; mask: Uint8Array | null } | { type: 'extension'; extension: string };

/** A field of the record and the position after its delimiter. */
interface Parsed<T> {
  readonly value: T;
  readonly p: number;
}

/** The bytes from `p` to the next delimiter, which is overwritten with NUL (as the kernel's strchr + *p++ = '\0'). */
function field(buf: KernelBuffer, p: number, missing: string): Parsed<string> {
  const end = buf.strchr(p);
  if (end < 0) fail(missing);
  buf.bytes[end] = 0;
  return { value: byteString(buf.cString(p)), p: end + 1 };
}

function readName(buf: KernelBuffer, p: number): Parsed<string> {
  const name = field(buf, p, 'the name is not followed by a delimiter (a NUL byte ends it first)');
  if (name.value === '' || name.value === '.' || name.value === '..' || name.value.includes('/')) {
    fail(name.value === '' ? 'the name is empty' : `the name '${name.value}' is '.', '..' or contains '/'`);
  }
  return name;
}

/** offset:magic:mask: of an M entry. */
function readMagicFields(buf: KernelBuffer, p: number): Parsed<EntryFields> {
  const s = buf.strchr(p);
  if (s < 0) fail('the offset is not followed by a delimiter');
  buf.bytes[s] = 0;
  let offset = 0;
  if (p !== s) {
    const parsed = kstrtoint10(buf.bytes.subarray(p, s));
    if (parsed === null || parsed < 0) fail(`the offset '${byteString(buf.bytes.subarray(p, s))}' is not a non-negative base-10 int`);
    offset = parsed;
  }
  const magicStart = s + 1;
  const afterMagic = scanArgument(buf, magicStart);
  if (afterMagic === null) fail('a \\x in the magic is not followed by two hex digits');
  if (buf.at(magicStart) === 0) fail('the magic is empty');
  const maskStart = afterMagic;
  const afterMask = scanArgument(buf, maskStart);
  if (afterMask === null) fail('a \\x in the mask is not followed by two hex digits');
  const hasMask = buf.at(maskStart) !== 0;

  const magic = unescapeHex(buf.cString(magicStart));
  const mask = hasMask ? unescapeHex(buf.cString(maskStart)) : null;
  if (mask !== null && mask.length !== magic.length) {
    fail(`the mask decodes to ${mask.length} bytes, the magic to ${magic.length}`);
  }
  if (magic.length > BINPRM_BUF_SIZE || BINPRM_BUF_SIZE - magic.length < offset) {
    fail(`offset ${offset} plus ${magic.length} magic bytes is past the ${BINPRM_BUF_SIZE}-byte window`);
  }
  return { value: { type: 'magic', offset, magic, mask }, p: afterMask };
}

/** offset:extension:mask: of an E entry (offset and mask are skipped, as the kernel does). */
function readExtensionFields(buf: KernelBuffer, p: number): Parsed<EntryFields> {
  const afterOffset = field(buf, p, 'the offset field is not followed by a delimiter').p;
  const extension = field(buf, afterOffset, 'the extension is not followed by a delimiter');
  if (extension.value === '' || extension.value.includes('/')) {
    fail(extension.value === '' ? 'the extension is empty' : `the extension '${extension.value}' contains '/'`);
  }
  const afterMask = field(buf, extension.p, 'the mask field is not followed by a delimiter').p;
  return { value: { type: 'extension', extension: extension.value }, p: afterMask };
}

/** The flag letters, then at most one newline, then the end of the record. */
function readFlags(buf: KernelBuffer, p: number, length: number): BinfmtFlags {
  const flags = { P: false, O: false, C: false, F: false };
  for (;;) {
    const letter = FLAG_BYTES[buf.at(p)];
    if (letter === undefined) break;
    flags[letter] = true;
    if (letter === 'C') flags.O = true;
    p++;
  }
  if (buf.at(p) === NEWLINE) p++;
  if (p !== length) {
    fail(p < length
      ? `unexpected byte '${describeByte(buf.at(p))}' at ${p} after the flags (only P, O, C, F and one newline)`
      : 'the record ends before its interpreter\'s delimiter');
  }
  return flags;
}

function createEntry(record: Uint8Array): BinfmtEntry {
  if (record.length < MIN_REGISTER_LENGTH || record.length > MAX_REGISTER_LENGTH) {
    fail(`a record is ${MIN_REGISTER_LENGTH} to ${MAX_REGISTER_LENGTH} bytes in one write, this one is ${record.length}`);
  }
  const delimiter = record[0] ?? 0;
  if (FLAG_BYTES[delimiter] !== undefined) fail(`the delimiter '${String.fromCharCode(delimiter)}' is a flag letter`);
  const buf = new KernelBuffer(record, delimiter);
  const name = readName(buf, 1);
  let p = name.p;
  const typeByte = buf.at(p++);
  if (typeByte !== 0x45 && typeByte !== 0x4d) fail(`the type is '${String.fromCharCode(typeByte)}', not 'M' or 'E'`);
  if (buf.at(p++) !== delimiter) fail('the type is more than one byte');
  const fields = typeByte === 0x4d ? readMagicFields(buf, p) : readExtensionFields(buf, p);
  const interpreter = field(buf, fields.p, 'the interpreter is not followed by a delimiter');
  if (interpreter.value === '') fail('the interpreter is empty');
  const flags = readFlags(buf, interpreter.p, record.length);
  return { name: name.value, enabled: true, interpreter: interpreter.value, flags, ...fields.value };
}

function describeByte(byte: number): string {
  return byte >= 0x21 && byte <= 0x7e ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
}

/** Exactly what the kernel prints when the entry's file is read (entry_status / bm_entry_show). */
export function renderEntryText(entry: BinfmtEntry): string {
  let text = `${entry.enabled ? 'enabled' : 'disabled'}\ninterpreter ${entry.interpreter}\nflags: ${flagsToString(entry.flags)}\n`;
  if (entry.type === 'extension') return `${text}extension .${entry.extension}\n`;
  text += `offset ${entry.offset}\nmagic ${toHex(entry.magic)}\n`;
  if (entry.mask !== null) text += `mask ${toHex(entry.mask)}\n`;
  return text;
}

function unhex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function flagsFromLetters(letters: string): BinfmtFlags {
  return { P: letters.includes('P'), O: letters.includes('O'), C: letters.includes('C'), F: letters.includes('F') };
}

const MAGIC_TAIL = /\nflags: (P?O?C?F?)\noffset (\d+)\nmagic ((?:[0-9a-f]{2})+)\n(?:mask ((?:[0-9a-f]{2})+)\n)?$/;
const EXTENSION_SPLIT = /\nflags: (P?O?C?F?)\nextension \./;

/**
 * The inverse of renderEntryText, for reading an instance. The magic tail is fixed-format so an
 * interpreter holding newlines is still split right; for an extension entry whose interpreter
 * holds "\nflags: ...\nextension ." the first such line wins (the kernel's text is ambiguous there).
 */
export function parseEntryText(name: string, text: string): BinfmtEntry {
  const bad = (why: string): CrossrootError =>
    new CrossrootError('BINFMT_READ', `parse binfmt_misc entry '${name}': ${why}`);
  const head = /^(enabled|disabled)\ninterpreter /.exec(text);
  if (!head) throw bad('it does not start with "enabled" or "disabled" and an interpreter line');
  const enabled = head[1] === 'enabled';
  const rest = text.slice(head[0].length);
  const magicTail = MAGIC_TAIL.exec(rest);
  if (magicTail) {
    const [, letters = '', offsetText = '', magicHex = '', maskHex] = magicTail;
    const magic = unhex(magicHex);
    const mask = maskHex === undefined ? null : unhex(maskHex);
    if (mask !== null && mask.length !== magic.length) throw bad('its mask and magic differ in length');
    const offset = Number(offsetText);
    if (offset + magic.length > BINPRM_BUF_SIZE) throw bad(`offset '${offsetText}' plus the magic is past the window`);
    const entry: MagicEntry = {
      name, enabled, interpreter: rest.slice(0, magicTail.index), flags: flagsFromLetters(letters),
      type: 'magic', offset, magic, mask,
    };
    return entry;
  }
  const split = EXTENSION_SPLIT.exec(rest);
  if (split && rest.endsWith('\n')) {
    const extension = rest.slice(split.index + split[0].length, -1);
    if (extension !== '') {
      return {
        name, enabled, interpreter: rest.slice(0, split.index), flags: flagsFromLetters(split[1] ?? ''),
        type: 'extension', extension,
      };
    }
  }
  throw bad('no "flags:" line followed by an "offset/magic" or an "extension" line');
}

const DELIMITER_CHOICES = ':|#,;!@%^&*=~+-_. ';

/** A magic/mask byte that can be written literally whatever the delimiter (escaping the delimiter separately). */
function isPlainByte(byte: number): boolean {
  return byte >= 0x21 && byte <= 0x7e && byte !== BACKSLASH;
}

function escapeBytes(bytes: Uint8Array, compact: boolean, delimiter: number): string {
  let text = '';
  for (const byte of bytes) {
    text += compact && isPlainByte(byte) && byte !== delimiter ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return text;
}

/**
 * A canonical register string for `entry`: ':' as the delimiter (another byte when a field holds a
 * ':'), the offset empty when 0, every magic/mask byte as \xHH (printable bytes literally when the
 * fully escaped record would pass 1920 bytes), the flags in POCF order, no trailing newline.
 * parseRegisterString() of the result gives back `entry` (enabled). Throws BINFMT_RULE when no
 * register string can express the entry.
 */
export function formatRegisterString(entry: BinfmtEntry): string {
  const texts = [entry.name, entry.interpreter, entry.type === 'extension' ? entry.extension : ''];
  const invalid = (why: string): CrossrootError =>
    new CrossrootError('BINFMT_RULE', `format binfmt_misc entry '${entry.name}': ${why}`);
  const delimiterChar = [...DELIMITER_CHOICES].find((candidate) =>
    !texts.some((text) => text.includes(candidate)) && FLAG_BYTES[candidate.charCodeAt(0)] === undefined);
  if (delimiterChar === undefined) throw invalid('every delimiter candidate appears in a field');
  const delimiter = delimiterChar.charCodeAt(0);
  const flags = flagsToString(entry.flags);
  const build = (compact: boolean): string => {
    const d = delimiterChar;
    if (entry.type === 'extension') return `${d}${entry.name}${d}E${d}${d}${entry.extension}${d}${d}${entry.interpreter}${d}${flags}`;
    const offset = entry.offset === 0 ? '' : String(entry.offset);
    const mask = entry.mask === null ? '' : escapeBytes(entry.mask, compact, delimiter);
    return `${d}${entry.name}${d}M${d}${offset}${d}${escapeBytes(entry.magic, compact, delimiter)}${d}${mask}${d}${entry.interpreter}${d}${flags}`;
  };
  let text = build(false);
  if (toRecordBytes(text).length > MAX_REGISTER_LENGTH) text = build(true);
  const check = parseRegisterString(text);
  if (!check.ok) throw invalid(check.reason);
  if (renderEntryText(check.entry) !== renderEntryText({ ...entry, enabled: true }) || check.entry.name !== entry.name) {
    throw invalid('its fields cannot be written as a register string');
  }
  return text;
}

/** An errno name: EINVAL (create_entry), the F open's error, ENAMETOOLONG or EEXIST. */
export type RegisterErrno = string;

export type RegisterVerdict =
  | { readonly ok: true; readonly entry: BinfmtEntry }
  | { readonly ok: false; readonly errno: RegisterErrno; readonly reason: string; readonly entry: BinfmtEntry | null };

export interface RegisterEnvironment {
  /** open_exec(interpreter) for F, as the writer would: an errno name, or null when it opens. */
  readonly openInterpreter: (interpreter: string) => string | null;
  /** Whether a file of that name exists in the instance (`register` and `status` are always taken). */
  readonly nameTaken: (name: string) => boolean;
}

/**
 * bm_register_write(): create_entry() errors first, then the F open of the interpreter, then the
 * name lookup (ENAMETOOLONG past NAME_MAX) and EEXIST.
 */
export function judgeRegisterString(text: string | Uint8Array, environment: RegisterEnvironment): RegisterVerdict {
  const parsed = parseRegisterString(text);
  if (!parsed.ok) return { ok: false, errno: parsed.errno, reason: parsed.reason, entry: null };
  const { entry } = parsed;
  if (entry.flags.F) {
    const errno = environment.openInterpreter(entry.interpreter);
    if (errno !== null) return { ok: false, errno, reason: `F opens the interpreter '${entry.interpreter}' now: ${errno}`, entry };
  }
  if (entry.name.length > NAME_MAX) {
    return { ok: false, errno: 'ENAMETOOLONG', reason: `the name is ${entry.name.length} bytes, more than ${NAME_MAX}`, entry };
  }
  if ((RESERVED_NAMES as readonly string[]).includes(entry.name) || environment.nameTaken(entry.name)) {
    return { ok: false, errno: 'EEXIST', reason: `the name '${entry.name}' is taken`, entry };
  }
  return { ok: true, entry };
}
