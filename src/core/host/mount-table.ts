// Reading the kernel's mount tables (/proc/self/mounts and mountinfo): the
// mount point field with its octal escapes (\040 for a space) decoded.

function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Mount points in table order. `format`: /proc/self/mounts (field 2) or mountinfo (field 5). */
export function mountPoints(text: string, format: 'mounts' | 'mountinfo' = 'mounts'): string[] {
  const index = format === 'mounts' ? 1 : 4;
  return text.split('\n').flatMap((line) => {
    const field = line.split(' ')[index];
    return field === undefined || field === '' ? [] : [unescapeMountField(field)];
  });
}

/** `dir` itself or anything below it (dir without a trailing slash). */
export function isAtOrUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir === '/' ? '' : dir}/`);
}

/** Mount points at or under `dir`. */
export function mountPointsUnder(text: string, dir: string, format: 'mounts' | 'mountinfo' = 'mounts'): string[] {
  return mountPoints(text, format).filter((point) => isAtOrUnder(point, dir));
}
