#!/usr/bin/env node
import { isatty } from 'node:tty';
import { main } from './main.ts';
import { errnoWords } from '../core/errors.ts';

let stdoutWatched = false;

/** process.stdout, watched from its first use on: a run that prints nothing never makes the stream (start-up counts). */
function stdout(): NodeJS.WriteStream {
  if (!stdoutWatched) {
    stdoutWatched = true;
    // `crossroot scan / | head` closes the pipe early: that is not an error. A
    // full disk (`doctor > /dev/full`) is: one line, exit 1, never a stack trace.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      process.stderr.write(`crossroot: write stdout: ${errnoWords(error.code ?? 'EIO')}\n`);
      process.exit(1);
    });
  }
  return process.stdout;
}

const stdoutIsTTY = isatty(1);

// No top-level await: this module is also the entry of the CommonJS bundle (write-bundle.ts).
void main(process.argv.slice(2), {
  stdout: (text) => { stdout().write(text); },
  stderr: (text) => { process.stderr.write(text); },
  stdoutIsTTY,
  stderrIsTTY: isatty(2),
  // A terminal that reports no size (0) is treated as none: nothing wraps.
  columns: stdoutIsTTY && stdout().columns > 0 ? stdout().columns : undefined,
  env: process.env,
  cwd: process.cwd(),
}).then((status) => { process.exitCode = status; });
