// Colour: only on a terminal, never with NO_COLOR (https://no-color.org) or
// TERM=dumb. FAIL, warnings and verdicts stand out; nothing else is coloured.
import { styleText } from 'node:util';
import type { Io } from '../context.ts';

export type Tone = 'bad' | 'warn' | 'good' | 'dim';

const FORMATS: Readonly<Record<Tone, Parameters<typeof styleText>[0]>> = {
  bad: ['bold', 'red'],
  warn: 'yellow',
  good: 'green',
  dim: 'dim',
};

/** Whether text on `stream` may be coloured. */
export function colourOn(io: Io, stream: 'stdout' | 'stderr' = 'stdout'): boolean {
  const tty = stream === 'stdout' ? io.stdoutIsTTY : io.stderrIsTTY === true;
  const noColor = io.env['NO_COLOR'];
  return tty && (noColor === undefined || noColor === '') && io.env['TERM'] !== 'dumb';
}

/** A painter for one stream: paint('bad', 'FAIL'). */
export function painter(io: Io, stream: 'stdout' | 'stderr' = 'stdout'): (tone: Tone, text: string) => string {
  if (!colourOn(io, stream)) return (_tone, text) => text;
  // validateStream: false: the decision is made above, from the injected Io.
  return (tone, text) => styleText(FORMATS[tone], text, { validateStream: false });
}
