// Why a helper's `-g` object had its .debug_str in another order than the
// root's own compile, and how the helper's driver keeps the order.
//
// icecc preprocesses locally with -fdirectives-only and the helper compiles
// with `-fpreprocessed -fdirectives-only` (full preprocessing would move the
// columns of the debug info: it collapses spaces and expands macros inline).
// gcc records the helper's switches in DW_AT_producer, so its producer string
// has ' -fdirectives-only' that the root's compile does not; the assembler of
// the environment takes it out of the text, but gcc writes .debug_str in the
// order of its string hash table's slots, and the slot of the producer comes
// from the hash of the text with the switch. Every other string has the same
// hash, so only the producer moves.
//
// The fix: the helper's driver adds one more recorded but inert switch right
// after -fdirectives-only, `-fno-builtin-crossroot-XXXXXXX` (disabling a
// builtin that cannot exist: the name has characters no identifier has),
// whose seven characters are chosen so that the hash of the whole producer
// string equals the hash of the root's producer string. The slot is then the
// root's, and the assembler takes both switches out of the text. The hash is
// libiberty's htab_hash_string (r = r * 67 + c - 113, mod 2^32), the one
// gcc's indirect-string table uses; it is polynomial, so the seven characters
// depend only on the text before ' -fdirectives-only', which the driver learns
// from a compile of an empty input with the same switches (a few tens of ms).
export const DIRECTIVES_ONLY = ' -fdirectives-only';
/** The inert switch whose argument balances the hash. */
export const FILLER_SWITCH = '-fno-builtin-crossroot-';
export const FILLER_LENGTH = 7;
/** Filler characters: '#' (0x23) to '[' (0x5b), printable, none of them space, '"' or '\' (escaped in assembly). */
const FIRST = 0x23;
const SPAN = 57;
const MOD = 2 ** 32;

/** gcc's (libiberty's) htab_hash_string of `text` (bytes below 0x80), continuing from `start`. */
export function gccStringHash(text: string, start = 0): number {
  let r = start >>> 0;
  for (let i = 0; i < text.length; i++) r = (Math.imul(r, 67) + text.charCodeAt(i) - 113) >>> 0;
  return r;
}

function power67(n: number): number {
  let p = 1;
  for (let i = 0; i < n; i++) p = Math.imul(p, 67) >>> 0;
  return p;
}

/** The constants the shell version uses (mod 2^32). */
export function fillerConstants(): { readonly suffixPower: number; readonly suffixHash: number; readonly fillerPower: number; readonly offset: number } {
  const suffix = `${DIRECTIVES_ONLY} ${FILLER_SWITCH}`;
  let geometric = 0;
  for (let k = 0; k < FILLER_LENGTH; k++) geometric = (geometric + power67(k)) >>> 0;
  return {
    suffixPower: power67(suffix.length),
    suffixHash: gccStringHash(suffix),
    fillerPower: power67(FILLER_LENGTH),
    // Each character is FIRST + digit: (FIRST - 113) per position, as a constant.
    offset: Math.imul(113 - FIRST, geometric) >>> 0,
  };
}

/**
 * The filler for a producer string that reads `prefix + ' -fdirectives-only' + rest`:
 * hash(prefix + ' -fdirectives-only -fno-builtin-crossroot-' + filler + rest) equals
 * hash(prefix + rest) for every rest. Null when `prefix` has a byte above 0x7e.
 */
export function fillerFor(prefix: string): string | null {
  if (!/^[\x20-\x7e]*$/.test(prefix)) return null;
  const c = fillerConstants();
  const p = gccStringHash(prefix);
  const before = (Math.imul(p, c.suffixPower) + c.suffixHash) >>> 0;
  // The filler's digits d (base 67, each below SPAN) must sum to `target` mod 2^32.
  const target = (p - (Math.imul(before, c.fillerPower) >>> 0) + c.offset + MOD) % MOD;
  for (let k = 0; target + k * MOD < 67 ** FILLER_LENGTH; k++) {
    let n = target + k * MOD;
    let filler = '';
    for (let i = 0; i < FILLER_LENGTH && n % 67 < SPAN; i++) {
      filler = String.fromCharCode(FIRST + (n % 67)) + filler;
      n = Math.floor(n / 67);
    }
    if (filler.length === FILLER_LENGTH) return filler;
  }
  return null;
}

/** A single-quoted shell word. */
function quoted(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * fillerFor in POSIX sh (dash: 64-bit arithmetic, no forks but one printf):
 * `crossroot_filler PREFIX` sets $filler, or returns 1.
 */
export function fillerShell(): string[] {
  const c = fillerConstants();
  const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
  // a * b mod 2^32 for a, b < 2^32, in halves so no product passes 2^63.
  const mul = (a: string, b: string): string => `((${a} * (${b} & 65535) + (((${a} * (${b} >> 16)) & 65535) << 16)) & M)`;
  return [
    'crossroot_filler() {',
    `  M=4294967295; ascii=${quoted(ascii)}; r=0; s=$1`,
    '  while [ -n "$s" ]; do',
    '    rest=${s#?}; c=${s%"$rest"}; s=$rest; before=${ascii%%"$c"*}',
    '    [ ${#before} -lt 95 ] || return 1',
    '    r=$(( (r * 67 + ${#before} + 32 - 113) & M ))',
    '  done',
    `  p=$r; h=$(( (${mul('p', String(c.suffixPower))} + ${String(c.suffixHash)}) & M ))`,
    `  t=$(( (p - ${mul('h', String(c.fillerPower))} + ${String(c.offset)}) & M )); k=0`,
    `  while [ $(( t + k * 4294967296 )) -lt ${String(67 ** FILLER_LENGTH)} ]; do`,
    '    n=$(( t + k * 4294967296 )); i=0; esc=',
    `    while [ $i -lt ${String(FILLER_LENGTH)} ] && [ $(( n % 67 )) -lt ${String(SPAN)} ]; do`,
    `      o=$(( ${String(FIRST)} + n % 67 )); esc="\\\\0$(( o / 64 ))$(( o / 8 % 8 ))$(( o % 8 ))$esc"; n=$(( n / 67 )); i=$(( i + 1 ))`,
    '    done',
    `    if [ $i = ${String(FILLER_LENGTH)} ]; then filler=$(printf %b "$esc"); return 0; fi`,
    '    k=$(( k + 1 ))',
    '  done',
    '  return 1',
    '}',
  ];
}
