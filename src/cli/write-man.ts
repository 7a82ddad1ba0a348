// Build step (`npm run build`): writes crossroot(1) to dist/man/crossroot.1
// from the command definitions, so the installed man page matches --help.
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildProgram, VERSION } from './main.ts';
import type { CliContext } from './context.ts';
import { manPage } from './render/manpage.ts';
import { commandTree } from './tree.ts';

const silent = { stdout: () => { /* unused */ }, stderr: () => { /* unused */ }, stdoutIsTTY: false, env: {}, cwd: '/' };
const context: CliContext = { io: silent, argv: [], exitCode: 0, program: async () => buildProgram(context, []) };
const out = new URL('../man/', import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(new URL('crossroot.1', out), manPage(commandTree(await buildProgram(context, [])), VERSION, new Date().toISOString().slice(0, 10)));
