import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import type { Io } from '../context.ts';
import { INITIAL_PROGRESS } from '../../core/create/create-plan.ts';
import { progressReporter, stepLabel } from './progress.ts';

function fakeIo(tty: boolean): { io: Io; err: () => string } {
  let err = '';
  const io: Io = { stdout: () => { /* unused */ }, stderr: (text) => { err += text; }, stdoutIsTTY: false, stderrIsTTY: tty, env: {}, cwd: '/' };
  return { io, err: () => err };
}

test('stepLabel: a known stage is placed among all of them, another one counted', () => {
  assert.equal(stepLabel('installing essential packages', []), 'step 4/8 installing essential packages');
  assert.equal(stepLabel('extracting rootfs.tar', ['extracting rootfs.tar']), 'step 1 extracting rootfs.tar');
});

test('on a terminal the clock ticks while no event arrives', () => {
  mock.timers.enable({ apis: ['setInterval', 'Date'] });
  try {
    const { io, err } = fakeIo(true);
    const progress = progressReporter(io);
    progress.update({ ...INITIAL_PROGRESS, stage: 'installing essential packages' }, 0);
    assert.match(err(), /\[ {3}0s\] step 4\/8 installing essential packages/);
    mock.timers.tick(6000);
    assert.match(err(), /\[ {3}6s\] step 4\/8 installing essential packages/);
    progress.done();
    const after = err();
    mock.timers.tick(3000);
    assert.equal(err(), after, 'the clock stops with done()');
  } finally {
    mock.timers.reset();
  }
});

test('not a terminal (or --progress plain): one plain line per stage, no redraw', () => {
  const { io, err } = fakeIo(false);
  const progress = progressReporter(io, { mode: 'auto' });
  progress.update({ ...INITIAL_PROGRESS, stage: 'running apt-get update' }, 1);
  progress.update({ ...INITIAL_PROGRESS, stage: 'running apt-get update', downloaded: 3 }, 2);
  progress.update({ ...INITIAL_PROGRESS, stage: 'extracting archives' }, 3);
  progress.done();
  assert.equal(err(), '[   1s] step 1/8 running apt-get update\n[   3s] step 3/8 extracting archives\n');
  const forced = fakeIo(false);
  const tty = progressReporter(forced.io, { mode: 'tty' });
  tty.update({ ...INITIAL_PROGRESS, stage: 'finishing' }, 0);
  tty.done();
  assert.ok(forced.err().startsWith('\r\x1b[K'), 'redrawn in place');
});

test('quiet prints nothing', () => {
  const { io, err } = fakeIo(true);
  const progress = progressReporter(io, { quiet: true });
  progress.update({ ...INITIAL_PROGRESS, stage: 'finishing' }, 0);
  progress.done();
  assert.equal(err(), '');
});
