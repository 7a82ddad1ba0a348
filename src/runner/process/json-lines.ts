// The line protocols between crossroot and its child scripts: stage 2's fd-3
// socket (one JSON document per line, both ways), create-stage's report (its
// last stdout line) and the bootstrap's progress lines on stderr.
import type { Readable } from 'node:stream';

/** Splits a stream of text chunks into lines (\n, \r\n or a lone \r); keeps the unfinished tail. */
export class LineSplitter {
  #pending = '';

  /** The lines completed by `chunk`. */
  push(chunk: string): string[] {
    const lines = (this.#pending + chunk).split(/\r?\n|\r/);
    this.#pending = lines.pop() ?? '';
    return lines;
  }

  /** The unfinished last line (once the stream ended), or null. */
  end(): string | null {
    const rest = this.#pending;
    this.#pending = '';
    return rest === '' ? null : rest;
  }
}

/** The JSON document on a line, or undefined for a blank or unparsable one (not ours). */
export function parseJsonLine(line: string): unknown {
  if (line.trim() === '') return undefined;
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

/** Calls `onMessage` with every JSON document the stream carries, one per line. */
export function onJsonLines(stream: Readable, onMessage: (message: unknown) => void): void {
  const lines = new LineSplitter();
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    for (const line of lines.push(chunk)) {
      const message = parseJsonLine(line);
      if (message !== undefined) onMessage(message);
    }
  });
}

/** The JSON document on the last non-blank line of `text`, or undefined. */
export function lastJsonLine(text: string): unknown {
  return parseJsonLine(text.trim().split('\n').at(-1) ?? '');
}

/** One message for a JSON-lines channel. */
export function jsonLine(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}
