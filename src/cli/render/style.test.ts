import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Io } from '../context.ts';
import { colourOn, painter } from './style.ts';

const io = (stdoutIsTTY: boolean, env: Record<string, string> = {}): Io =>
  ({ stdout: () => { /* unused */ }, stderr: () => { /* unused */ }, stdoutIsTTY, env, cwd: '/' });

test('colour only on a terminal, never with NO_COLOR or TERM=dumb', () => {
  assert.equal(colourOn(io(true, { TERM: 'xterm' })), true);
  assert.equal(colourOn(io(false, { TERM: 'xterm' })), false);
  assert.equal(colourOn(io(true, { NO_COLOR: '1' })), false);
  assert.equal(colourOn(io(true, { TERM: 'dumb' })), false);
  assert.equal(colourOn(io(true, { NO_COLOR: '' })), true, 'an empty NO_COLOR does not count (no-color.org)');
});

test('painter: escapes on a terminal, the text unchanged elsewhere', () => {
  assert.equal(painter(io(false))('bad', 'FAIL'), 'FAIL');
  const painted = painter(io(true, { TERM: 'xterm' }))('bad', 'FAIL');
  assert.ok(painted.startsWith('\x1b[') && painted.includes('FAIL') && painted !== 'FAIL', painted);
});
