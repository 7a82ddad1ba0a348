// Tables for the terminal: left-aligned columns two spaces apart, sized to
// the terminal's width. When a table is too wide, its last column (the free
// text: reason, message, path) wraps at word boundaries under itself instead
// of letting the terminal wrap every row mid-word.

export interface TableOptions {
  /** The terminal's width; undefined (not a terminal) never wraps. */
  readonly width?: number | undefined;
  /** Extra indent of every line. */
  readonly indent?: number;
}

/** Narrowest a column gets when the table must shrink. */
const MIN_COLUMN = 10;
/** Narrowest the last column gets before the others shrink. */
const MIN_LAST = 20;

/** A cell's width on the terminal: colour escapes take no columns. */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}

function pad(text: string, width: number): string {
  return `${text}${' '.repeat(Math.max(0, width - visibleLength(text)))}`;
}

/** Splits text into lines of at most `width` characters, at spaces where it can. */
export function wrapText(text: string, width: number): string[] {
  if (visibleLength(text) <= width || !(width >= 1)) return [text];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    let rest = word;
    while (rest.length > width) {
      if (line !== '') lines.push(line);
      lines.push(rest.slice(0, width));
      rest = rest.slice(width);
      line = '';
    }
    if (line === '') line = rest;
    else if (line.length + 1 + rest.length <= width) line += ` ${rest}`;
    else {
      lines.push(line);
      line = rest;
    }
  }
  lines.push(line);
  return lines;
}

/**
 * Column widths that fit `width`: the last column (free text) wraps first;
 * if that is not enough the widest column gives up a character at a time
 * (none below MIN_COLUMN).
 */
export function fitWidths(natural: readonly number[], width: number | undefined): number[] {
  const widths = [...natural];
  if (width === undefined) return widths;
  const total = (): number => widths.reduce((sum, column) => sum + column, 0) + 2 * Math.max(0, widths.length - 1);
  // The last column (free text: a reason, a message) gives way first, down to MIN_LAST...
  const last = widths.length - 1;
  while (total() > width && (widths[last] ?? 0) > MIN_LAST) widths[last] = (widths[last] ?? 0) - 1;
  // ...then the widest, one character at a time: ties take turns, so wide columns shrink together.
  while (total() > width) {
    const widest = Math.max(...widths);
    if (widest <= MIN_COLUMN) break;
    widths[widths.lastIndexOf(widest)] = widest - 1;
  }
  return widths;
}

/** Renders a header row and rows; a cell wider than its column wraps under itself; the last column is not padded. */
export function formatTable(header: readonly string[] | null, rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const all = header === null ? rows : [header, ...rows];
  if (all.length === 0) return '';
  const columns = Math.max(...all.map((row) => row.length));
  const natural = Array.from({ length: columns }, (_, column) => Math.max(...all.map((row) => visibleLength(row[column] ?? ''))));
  const indent = ' '.repeat(options.indent ?? 0);
  const widths = fitWidths(natural, options.width === undefined ? undefined : options.width - indent.length);
  const lines: string[] = [];
  for (const row of all) {
    const cells = Array.from({ length: columns }, (_, column) => wrapText(row[column] ?? '', widths[column] ?? 0));
    const height = Math.max(...cells.map((cell) => cell.length));
    for (let line = 0; line < height; line++) {
      const text = cells.map((cell, column) => (column === columns - 1 ? cell[line] ?? '' : pad(cell[line] ?? '', widths[column] ?? 0))).join('  ');
      lines.push(`${indent}${text}`.trimEnd());
    }
  }
  return `${lines.join('\n')}\n`;
}

/** "1 directory", "2 directories": a count with its noun in the right number. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
