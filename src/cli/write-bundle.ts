// Build step (`npm run build`, after tsc): bundles the CLI (src/cli/bin.ts and
// everything it imports, commander and tar included) into one CommonJS file,
// dist/cli/crossroot-bundle.cjs, which dist/cli/crossroot.cjs (the "bin")
// loads; then runs it once to write V8's code cache beside it. One file and a
// code cache instead of ~60 ES modules is most of what `crossroot run` used
// to add over a bare `node` (bench/run-overhead.ts).
//
// The modules that find files beside themselves (the run helper, the child
// scripts, package.json) keep doing so: each module's import.meta.url becomes
// the URL of its own compiled file in dist/, which tsc wrote.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { buildProbeElf } from '../core/probe/probe-elf.ts';
import { runProcess } from '../runner/process/process.ts';

export const BUNDLE_NAME = 'crossroot-bundle.cjs';
export const CODE_CACHE_NAME = 'crossroot-bundle.v8cache';
export const LOADER_NAME = 'crossroot.cjs';

/** The bundle's global holding the URL of dist/ (from the bundle's own path, wherever it is installed). */
const DIST_URL = '__crossrootDistUrl';

/** import.meta.url of src/X/Y.ts as the URL of dist/X/Y.js. */
function distUrlPlugin(srcDir: string): Plugin {
  return {
    name: 'dist-import-meta-url',
    setup(context) {
      context.onLoad({ filter: /\.ts$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (!args.path.startsWith(`${srcDir}/`) || !text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
        const compiled = relative(srcDir, args.path).replace(/\.ts$/, '.js');
        return { contents: text.replaceAll('import.meta.url', `(${DIST_URL} + ${JSON.stringify(compiled)})`), loader: 'ts' };
      });
    },
  };
}

/** Writes dist/cli/crossroot-bundle.cjs from srcDir; its first line names its hash (the code cache's key). */
export async function writeBundle(srcDir: string, distDir: string): Promise<string> {
  const out = join(distDir, 'cli', BUNDLE_NAME);
  const result = await build({
    entryPoints: [join(srcDir, 'cli/bin.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // import() of a builtin (node:crypto, loaded lazily) becomes require(): a script run from V8's code cache has no dynamic import.
    supported: { 'dynamic-import': false },
    write: false,
    outfile: out,
    // Whitespace and syntax only: stack traces keep the functions' names.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    plugins: [distUrlPlugin(srcDir)],
    // import.meta.resolve is used only when running from source (.ts), never in the bundle.
    logOverride: { 'empty-import-meta': 'silent' },
    logLevel: 'warning',
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error('esbuild wrote no bundle');
  // Strict from the first statement (esbuild's own "use strict" comes after a banner), then dist/'s URL.
  const body = `"use strict";var ${DIST_URL}=require("node:url").pathToFileURL(require("node:path").join(__dirname,"..")+"/").href;\n${file.text.replace(/^#!.*\n/, '')}`;
  writeFileSync(out, `// crossroot-bundle sha256:${createHash('sha256').update(body).digest('hex')}\n${body}`);
  return out;
}

/**
 * Runs the bundle once through the loader to write its code cache, with a
 * `run` that goes through all of the planning and starts nothing: the root
 * holds one program, a probe ELF of a foreign architecture (aarch64, or
 * x86_64 on an arm64 host: foreign roots are what crossroot is for, so the
 * emulation's planning gets compiled too), and the bundle runs from a copy
 * without the native helper, so the run fails (exit 1) at the helper, which
 * is looked for beside the planning (enterRoot: Promise.all), not before it.
 * The cache then holds the functions of main, commander and the run's
 * planning compiled, not only the top level.
 */
export async function writeCodeCache(distDir: string): Promise<void> {
  const cache = join(distDir, 'cli', CODE_CACHE_NAME);
  rmSync(cache, { force: true });
  const work = mkdtempSync(join(tmpdir(), 'crossroot-warm-up-'));
  try {
    const root = join(work, 'root');
    mkdirSync(join(root, 'bin'), { recursive: true });
    writeFileSync(join(root, 'bin/sh'), buildProbeElf(process.arch === 'arm64' ? 'x86_64' : 'aarch64', 0), { mode: 0o755 });
    const cli = join(work, 'package/dist/cli');
    mkdirSync(cli, { recursive: true });
    for (const name of [LOADER_NAME, BUNDLE_NAME]) copyFileSync(join(distDir, 'cli', name), join(cli, name));
    copyFileSync(join(distDir, '../package.json'), join(work, 'package/package.json'));
    const warm = await runProcess([process.execPath, join(cli, LOADER_NAME), 'run', root, '--', '/bin/sh'], {
      env: { ...process.env, CROSSROOT_WRITE_CODE_CACHE: cache },
    });
    if (warm.exitCode !== 1 || !existsSync(cache)) throw new Error(`write the code cache: exit ${String(warm.exitCode)}: ${warm.stderr}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// `node dist/cli/write-bundle.js [SRC]`: from the checkout, into the dist/ this file is in.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const distDir = dirname(dirname(fileURLToPath(import.meta.url)));
  const srcDir = resolve(process.argv[2] ?? join(distDir, '../src'));
  await writeBundle(srcDir, distDir);
  await writeCodeCache(distDir);
}
