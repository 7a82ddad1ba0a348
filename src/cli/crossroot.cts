#!/usr/bin/env node
// The installed `crossroot` command (package.json "bin"). It loads the whole
// CLI from one bundled file, crossroot-bundle.cjs (written by write-bundle.ts),
// with V8's code cache, so that start-up is spent running the command rather
// than resolving ~60 modules and parsing half a megabyte of JavaScript: what
// `crossroot run` adds over a bare `node` is measured in bench/run-overhead.ts.
// CommonJS on purpose: a CommonJS main starts without the ESM loader.
//
// Node >= 22.1 has its own compile cache (module.enableCompileCache, in the
// temporary directory, checked by Node). Older Node reads the cache that the
// build wrote beside the bundle, and only when its header names this bundle's
// hash (V8 itself checks only the source's length) and V8 accepts it (same
// version and flags); otherwise the bundle is compiled as any script. Nothing
// is written at run time unless CROSSROOT_WRITE_CODE_CACHE names the file
// (the build's warm-up run).
import fs = require('node:fs');
import path = require('node:path');
import vm = require('node:vm');
import nodeModule = require('node:module');

const bundle = path.join(__dirname, 'crossroot-bundle.cjs');
const enableCompileCache = (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache;

/** The cache file's first bytes: the bundle's first line (its hash), then a newline. */
function cacheHeader(source: string): string {
  return `${source.slice(0, source.indexOf('\n'))}\n`;
}

function readCache(file: string, header: string): Buffer | undefined {
  try {
    const data = fs.readFileSync(file);
    return data.subarray(0, header.length).toString('latin1') === header ? data.subarray(header.length) : undefined;
  } catch {
    return undefined;
  }
}

function runBundle(): void {
  const source = fs.readFileSync(bundle, 'utf8');
  const header = cacheHeader(source);
  const writeTo = process.env['CROSSROOT_WRITE_CODE_CACHE'];
  const cachedData = writeTo === undefined ? readCache(bundle.replace(/\.cjs$/, '.v8cache'), header) : undefined;
  // The wrapper of a CommonJS module, on the bundle's first line: its line numbers stay the file's.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle, cachedData });
  if (writeTo !== undefined) {
    // After the warm-up command: the cache then holds the functions it compiled too.
    process.once('exit', () => { fs.writeFileSync(writeTo, Buffer.concat([Buffer.from(header, 'latin1'), script.createCachedData()])); });
  }
  const loaded = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void)(loaded.exports, nodeModule.createRequire(bundle), loaded, bundle, __dirname);
}

if (typeof enableCompileCache === 'function') {
  enableCompileCache();
  require(bundle);
} else {
  runBundle();
}
