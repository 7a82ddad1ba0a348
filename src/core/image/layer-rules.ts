// What goes into a layer and what a layer's entries mean when applied:
// whiteouts, the path rules that keep an entry inside the root, which files
// of a root are left out, and the getfattr dump that carries xattrs.

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

export type Whiteout =
  | { readonly kind: 'opaque'; readonly dir: string }
  | { readonly kind: 'remove'; readonly target: string };

/** A layer entry path without './' prefixes, trailing '/' and repeated '/'. */
export function normalizeEntryPath(path: string): string {
  return path.split('/').filter((part) => part !== '' && part !== '.').join('/');
}

/**
 * The whiteout an entry path stands for, or null for an ordinary entry.
 * Throws (with the reason) for whiteouts naming '.', '..' or nothing.
 */
export function whiteoutOf(path: string): Whiteout | null {
  const clean = normalizeEntryPath(path);
  const slash = clean.lastIndexOf('/');
  const dir = slash < 0 ? '' : clean.slice(0, slash);
  const name = clean.slice(slash + 1);
  if (name === OPAQUE) return { kind: 'opaque', dir };
  if (!name.startsWith(WHITEOUT)) return null;
  const target = name.slice(WHITEOUT.length);
  if (target === '' || target === '.' || target === '..' || target.startsWith(WHITEOUT)) {
    throw new Error(`whiteout '${path}' names '${target}'`);
  }
  return { kind: 'remove', target: dir === '' ? target : `${dir}/${target}` };
}

/** Top-level paths of a root that are crossroot's own and never exported. */
export const EXPORT_EXCLUDED = ['.crossroot'] as const;

export type ExportKind = 'file' | 'directory' | 'symlink' | 'fifo' | 'skip';

/** How a root's file of this kind is exported: devices and sockets are left to the runtime. */
export function exportKind(stat: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isFIFO(): boolean }): ExportKind {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'directory';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isFIFO()) return 'fifo';
  return 'skip';
}

/** mtime written into the layer: the file's own, no later than the clamp. */
export function clampMtime(mtimeSeconds: number, clamp: number | null): number {
  const whole = Math.floor(mtimeSeconds);
  return clamp === null ? whole : Math.min(whole, clamp);
}

/** SOURCE_DATE_EPOCH as whole seconds, or null when unset; throws on garbage. */
export function parseSourceDateEpoch(value: string | undefined): number | null {
  if (value === undefined || value === '') return null;
  if (!/^\d+$/.test(value)) throw new Error(`SOURCE_DATE_EPOCH '${value}' is not a whole number of seconds`);
  return Number(value);
}

/** Host-only attributes that mean nothing in an image (SELinux labels of this host, overlayfs internals). */
export function isExportedXattr(name: string): boolean {
  return name !== 'security.selinux' && !name.startsWith('trusted.overlay.');
}

export type XattrMap = Map<string, Map<string, Uint8Array>>;

function unescapeDumpPath(path: string): string {
  const bytes: number[] = [];
  const encoded = new TextEncoder().encode(path);
  for (let i = 0; i < encoded.length; i++) {
    const byte = encoded[i] ?? 0;
    if (byte === 0x5c && i + 3 < encoded.length + 1) {
      const octal = String.fromCharCode(...encoded.subarray(i + 1, i + 4));
      if (/^[0-7]{3}$/.test(octal)) {
        bytes.push(parseInt(octal, 8));
        i += 3;
        continue;
      }
    }
    bytes.push(byte);
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

function decodeDumpValue(value: string): Uint8Array {
  if (value.startsWith('0s')) return Uint8Array.from(atob(value.slice(2)), (char) => char.charCodeAt(0));
  if (value.startsWith('0x')) return Uint8Array.from(value.slice(2).match(/../g) ?? [], (pair) => parseInt(pair, 16));
  const quoted = /^"(.*)"$/.exec(value)?.[1] ?? value;
  return new TextEncoder().encode(unescapeDumpPath(quoted));
}

/**
 * Parses `getfattr --absolute-names -R -P -h -d -m - -e base64 ROOT` output
 * into root-relative paths ('' is the root itself) and their attributes.
 */
export function parseXattrDump(dump: string, root: string): XattrMap {
  const map: XattrMap = new Map();
  let current: Map<string, Uint8Array> | null = null;
  for (const line of dump.split('\n')) {
    if (line.startsWith('# file: ')) {
      const path = unescapeDumpPath(line.slice('# file: '.length));
      const relative = path === root ? '' : path.startsWith(`${root}/`) ? path.slice(root.length + 1) : null;
      current = relative === null ? null : new Map();
      if (relative !== null && current !== null) map.set(relative, current);
      continue;
    }
    const equals = line.indexOf('=');
    if (current === null || equals <= 0) continue;
    const name = line.slice(0, equals);
    if (isExportedXattr(name)) current.set(name, decodeDumpValue(line.slice(equals + 1)));
  }
  for (const [path, attrs] of map) if (attrs.size === 0) map.delete(path);
  return map;
}

function escapeDumpPath(path: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(path)) {
    out += byte <= 0x20 || byte === 0x5c || byte >= 0x7f ? `\\${byte.toString(8).padStart(3, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

/** A dump `setfattr -h --restore=FILE` applies: absolute paths, base64 values. */
export function formatXattrDump(entries: readonly { path: string; attrs: ReadonlyMap<string, Uint8Array> }[]): string {
  return entries.map(({ path, attrs }) => {
    const lines = [...attrs].map(([name, value]) => `${name}=0s${btoa(String.fromCharCode(...value))}`);
    return `# file: ${escapeDumpPath(path)}\n${lines.join('\n')}\n`;
  }).join('\n');
}
