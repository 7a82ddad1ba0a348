#!/usr/bin/env node
import { main } from './main.ts';
import { errnoWords } from '../core/errors.ts';

// `crossroot scan / | head` closes the pipe early: that is not an error. A
// full disk (`doctor > /dev/full`) is: one line, exit 1, never a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`crossroot: write stdout: ${errnoWords(error.code ?? 'EIO')}\n`);
  process.exit(1);
});

// No top-level await: this module is also the entry of the CommonJS bundle (write-bundle.ts).
void main(process.argv.slice(2), {
  stdout: (text) => { process.stdout.write(text); },
  stderr: (text) => { process.stderr.write(text); },
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  // A terminal that reports no size (0) is treated as none: nothing wraps.
  columns: process.stdout.isTTY === true && process.stdout.columns > 0 ? process.stdout.columns : undefined,
  env: process.env,
  cwd: process.cwd(),
}).then((status) => { process.exitCode = status; });
