// The sqlite3 amalgamation (deps/sqlite3/sqlite3.{c,h}) of the npm package
// better-sqlite3@12, fetched once with `npm pack` into .cache/accel-sqlite:
// a real C project for the acceleration test and benchmark.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../../src/runner/process/process.ts';

const SQLITE_CACHE = fileURLToPath(new URL('../../.cache/accel-sqlite/', import.meta.url));
/** test/fixtures/accel-project: a Makefile building sqlite3 + a C shell + a C++ self-test, with `make check`. */
export const ACCEL_PROJECT = fileURLToPath(new URL('../fixtures/accel-project/', import.meta.url));

export async function sqliteSources(): Promise<string> {
  const dir = join(SQLITE_CACHE, 'package', 'deps', 'sqlite3');
  if (existsSync(join(dir, 'sqlite3.c'))) return dir;
  mkdirSync(SQLITE_CACHE, { recursive: true });
  const pack = await runProcess(['npm', 'pack', 'better-sqlite3@12', '--silent'], { cwd: SQLITE_CACHE, timeoutMs: 5 * 60 * 1000 });
  assert.equal(pack.exitCode, 0, pack.stderr);
  const tarball = readdirSync(SQLITE_CACHE).find((name) => name.endsWith('.tgz'));
  assert.ok(tarball !== undefined, 'npm pack left no tarball');
  const untar = await runProcess(['tar', 'xzf', tarball, 'package/deps/sqlite3'], { cwd: SQLITE_CACHE });
  assert.equal(untar.exitCode, 0, untar.stderr);
  return dir;
}

/** Copies the project and the sqlite3 sources into `work`. */
export async function populateProject(work: string): Promise<void> {
  const sqlite = await sqliteSources();
  cpSync(ACCEL_PROJECT, work, { recursive: true });
  for (const name of ['sqlite3.c', 'sqlite3.h']) cpSync(join(sqlite, name), join(work, name));
}
