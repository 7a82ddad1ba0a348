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

/** Narrowest the wrapped column gets, however wide the other columns are. */
const MIN_WRAP = 20;

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
  if (text.length <= width) return [text];
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

/** Renders a header row and rows; the last column is neither padded nor cut, only wrapped. */
export function formatTable(header: readonly string[] | null, rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const all = header === null ? rows : [header, ...rows];
  if (all.length === 0) return '';
  const columns = Math.max(...all.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, column) => Math.max(...all.map((row) => visibleLength(row[column] ?? ''))));
  const indent = ' '.repeat(options.indent ?? 0);
  const lastStart = indent.length + widths.slice(0, -1).reduce((sum, width) => sum + width + 2, 0);
  const lastWidth = options.width === undefined ? Infinity : Math.max(MIN_WRAP, options.width - lastStart);
  const lines: string[] = [];
  for (const row of all) {
    const cells = Array.from({ length: columns }, (_, column) => row[column] ?? '');
    const last = cells.pop() ?? '';
    const lead = cells.map((cell, column) => pad(cell, widths[column] ?? 0)).join('  ');
    const wrapped = wrapText(last, lastWidth);
    const prefix = cells.length === 0 ? indent : `${indent}${lead}  `;
    lines.push(`${prefix}${wrapped[0] ?? ''}`.trimEnd());
    for (const more of wrapped.slice(1)) lines.push(`${' '.repeat(prefix.length)}${more}`);
  }
  return `${lines.join('\n')}\n`;
}

/** "1 directory", "2 directories": a count with its noun in the right number. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
