// The icecream toolchain environment of a native cross compiler: the files a
// stock iceccd helper needs to run exactly that compiler in a chroot of the
// unpacked tarball, the same layout Debian's icecc-create-env produces
// (/usr/bin/gcc and /usr/bin/g++ are the compiler drivers, cc1, cc1plus and
// the assembler keep the paths the driver looks them up at, every ELF file
// brings the closure of its DT_NEEDED libraries, found the way the dynamic
// loader finds them). Pure: the tree (a crossroot tools root, or '/') is read
// through injected lookups over tree-relative paths; a list of entries comes out.
//
// Why not run icecc-create-env itself: it must run inside the tools root
// (its compilers need the tools root's glibc) and needs `file` and objdump,
// which a tools root does not have; and its tarball carries mtimes, so the
// same compiler would give a new environment (and a new upload to every
// helper) on every machine. The entries here are packed reproducibly, so the
// tarball's name is the hash of its content.
import { resolveInRoot } from '../root/root-path.ts';
import type { RootReadlink } from '../root/root-path.ts';
import { DIRECTIVES_ONLY, FILLER_SWITCH, fillerShell } from './producer-order.ts';

/** What the planner needs to know about one file of the tree. */
export interface EnvTreeFacts {
  readonly readlink: RootReadlink;
  /** lstat kind of a tree-relative path, null when absent. */
  readonly kind: (path: string) => 'file' | 'dir' | 'symlink' | 'other' | null;
  /** The dynamic section of an ELF file (tree-relative, resolved), or null when it is not ELF. */
  readonly elf: (path: string) => { readonly needed: readonly string[]; readonly runpath: string | null; readonly interpreter: string | null } | null;
}

export interface EnvEntry {
  /** Path inside the tarball, absolute ('/usr/bin/gcc'). */
  readonly path: string;
  /** 'file': a copy of `source` (tree-relative, resolved); 'dir': an empty directory; 'script': `text`, executable. */
  readonly kind: 'file' | 'dir' | 'script';
  readonly source?: string;
  readonly text?: string;
}

/**
 * A sed program that puts the producer string of an assembly on one line:
 * gcc writes a string longer than 256 bytes as `.ascii` pieces ending with a
 * `.string` piece; joined into one `.string`, it assembles to the same bytes.
 */
export const PRODUCER_JOIN = String.raw`/^\t\.ascii\t"GNU /{:a;/\n\t\.string\t[^\n]*$/!{N;ba};s/"\n\t\.ascii\t"//g;s/"\n\t\.string\t"//;s/^\t\.ascii\t/\t.string\t/}`;

/**
 * The sed program that gives the producer string in the assembly the text of
 * the root's own compile: without ' -fdirectives-only', which icecc has the
 * helper's cc1 use (see producer-order.ts), and without the switch the driver
 * adds to keep the string's place in .debug_str.
 */
export const PRODUCER_SED = String.raw`${PRODUCER_JOIN};/^\t\.string\t"GNU /{s/ ${FILLER_SWITCH}[^ "]*\([ "]\)/\1/;s/${DIRECTIVES_ONLY}\([ "]\)/\1/}`;

/**
 * The assembler the cross driver runs on a helper: the real one, on the
 * assembly after PRODUCER_SED, from the file gcc names last, or from stdin
 * when there is none (-pipe: the arguments end with `-o FILE`).
 */
export function assemblerScript(real: string): string {
  return [
    '#!/bin/sh',
    '# crossroot icecream environment: the assembler, with the producer string the root\'s own compile records.',
    'prev=; before=',
    'for last do prev=$before; before=$last; done',
    'case $last in',
    `  *.s) /usr/bin/sed -i '${PRODUCER_SED}' "$last" || exit 1 ;;`,
    `  *) if [ "$prev" = -o ]; then /usr/bin/sed '${PRODUCER_SED}' | ${real} "$@"; exit $?; fi ;;`,
    'esac',
    `exec ${real} "$@"`,
    '',
  ].join('\n');
}

/**
 * What iceccd runs as /usr/bin/gcc and /usr/bin/g++: the cross driver, so
 * that the object equals the one the root's compiler makes:
 *  - without the `--param ggc-min-expand=N --param ggc-min-heapsize=N`
 *    iceccd adds to every gcc job: they tune only the garbage collector, but
 *    gcc records them in DW_AT_producer;
 *  - with debug info, with the switch after -fdirectives-only that keeps the
 *    producer string's place in .debug_str (producer-order.ts); its
 *    characters come from the producer string of the same compile of an empty
 *    input;
 *  - with -S (the assembly is the result), PRODUCER_SED applied to it.
 */
export function driverScript(real: string): string {
  return [
    '#!/bin/sh',
    '# crossroot icecream environment: the cross driver, giving the object the root\'s own compiler gives (see crossroot\'s producer-order.ts).',
    ...fillerShell(),
    '# The producer string of the compile "$@" of an empty input (its assembly on stdout).',
    'crossroot_producer() {',
    '  out=',
    '  for arg do',
    '    shift',
    '    if [ -n "$out" ]; then out=; set -- "$@" -; continue; fi',
    '    case $arg in -o) out=1 ;; -c|-S) continue ;; esac',
    '    set -- "$@" "$arg"',
    '  done',
    // The helper's chroot has no /dev: the empty input is an empty pipe, and sed drops gcc's messages.
    String.raw`  : | ${real} "$@" -S 2>&1 | /usr/bin/sed -n '${PRODUCER_JOIN};/^\t\.string\t"GNU /{s/^\t\.string\t"\(.*\)"$/\1/p;q}'`,
    '}',
    'param=; debug=; directives=; assembly=; out=; output=',
    'for arg do',
    '  shift',
    '  if [ -n "$param" ]; then',
    '    param=',
    '    case $arg in ggc-min-expand=*|ggc-min-heapsize=*) continue ;; esac',
    '    set -- "$@" --param "$arg"',
    '    continue',
    '  fi',
    '  if [ -n "$out" ]; then out=; output=$arg; fi',
    '  case $arg in',
    '    --param) param=1; continue ;;',
    '    -o) out=1 ;;',
    '    -S) assembly=1 ;;',
    '    -g0) debug= ;;',
    '    -g*) debug=1 ;;',
    `    ${DIRECTIVES_ONLY.trim()}) directives=1 ;;`,
    '  esac',
    '  set -- "$@" "$arg"',
    'done',
    'if [ -n "$debug" ] && [ -n "$directives" ]; then',
    '  producer=$(crossroot_producer "$@")',
    '  case $producer in',
    '    *\\*) ;;',
    `    *'${DIRECTIVES_ONLY}'*)`,
    `      if crossroot_filler "\${producer%%'${DIRECTIVES_ONLY}'*}"; then`,
    '        for arg do',
    '          shift',
    '          set -- "$@" "$arg"',
    `          if [ "$arg" = ${DIRECTIVES_ONLY.trim()} ]; then set -- "$@" "${FILLER_SWITCH}$filler"; fi`,
    '        done',
    '      fi ;;',
    '  esac',
    'fi',
    'if [ -n "$assembly" ] && [ -n "$output" ]; then',
    `  ${real} "$@" || exit $?`,
    `  exec /usr/bin/sed -i '${PRODUCER_SED}' "$output"`,
    'fi',
    `exec ${real} "$@"`,
    '',
  ].join('\n');
}

export interface ToolchainEnvPlan {
  readonly triplet: string;
  readonly gccMajor: string;
  readonly entries: readonly EnvEntry[];
}

export class EnvPlanError extends Error {}

/** Where an x86-64 Debian program's libraries are looked up when DT_RUNPATH does not say. */
export const DEFAULT_LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib64', '/lib64', '/usr/lib', '/lib'] as const;

function resolveFile(tree: EnvTreeFacts, path: string): string | null {
  try {
    const resolved = resolveInRoot(path, tree.readlink).path;
    return tree.kind(resolved) === 'file' ? resolved : null;
  } catch {
    return null;
  }
}

function dirName(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/** '/usr/bin/../lib' -> '/usr/lib' (lexically, as the loader takes DT_RUNPATH). */
function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** The library directories of one ELF file: DT_RUNPATH (with $ORIGIN), then the defaults. */
function libraryDirs(file: string, runpath: string | null): string[] {
  const fromRunpath = (runpath ?? '').split(':').filter((dir) => dir !== '')
    .map((dir) => dir.replaceAll('$ORIGIN', dirName(file)).replaceAll('${ORIGIN}', dirName(file)))
    .filter((dir) => dir.startsWith('/')).map(normalize);
  return [...fromRunpath, ...DEFAULT_LIBRARY_DIRS];
}

/** The gcc libexec tool `name` of the cross compiler, resolved, or null. */
function crossTool(tree: EnvTreeFacts, triplet: string, major: string, name: string): string | null {
  for (const base of [`/usr/libexec/gcc-cross/${triplet}/${major}`, `/usr/lib/gcc-cross/${triplet}/${major}`]) {
    const found = resolveFile(tree, `${base}/${name}`);
    if (found !== null) return found;
  }
  return null;
}

/**
 * Plans the environment of `<triplet>-gcc-<major>` and `<triplet>-g++-<major>`
 * of the tree. Throws EnvPlanError naming what is missing.
 */
export function planToolchainEnv(tree: EnvTreeFacts, triplet: string, major: string): ToolchainEnvPlan {
  const need = (what: string, path: string | null): string => {
    if (path === null) throw new EnvPlanError(`the tools have no ${what}`);
    return path;
  };
  const gcc = need(`'/usr/bin/${triplet}-gcc-${major}'`, resolveFile(tree, `/usr/bin/${triplet}-gcc-${major}`));
  const gxx = need(`'/usr/bin/${triplet}-g++-${major}'`, resolveFile(tree, `/usr/bin/${triplet}-g++-${major}`));
  const cc1 = need(`cc1 of gcc ${major} for '${triplet}'`, crossTool(tree, triplet, major, 'cc1'));
  const cc1plus = need(`cc1plus of gcc ${major} for '${triplet}'`, crossTool(tree, triplet, major, 'cc1plus'));
  // The cross driver runs <prefix>/lib/gcc-cross/<triplet>/<major>/../../../../<triplet>/bin/as:
  // the directory must exist for the '..' to resolve, and 'as' must be at the end of it.
  const asPath = `/usr/${triplet}/bin/as`;
  const as = need(`'${asPath}'`, resolveFile(tree, asPath));
  const trueProgram = need('\'/usr/bin/true\'', resolveFile(tree, '/usr/bin/true') ?? resolveFile(tree, '/bin/true'));
  const entries = new Map<string, EnvEntry>();
  const add = (path: string, source: string): void => {
    if (!entries.has(path)) entries.set(path, { path, kind: 'file', source });
  };
  add('/usr/bin/gcc.real', gcc);
  add('/usr/bin/g++.real', gxx);
  const shell = need('\'/bin/sh\'', resolveFile(tree, '/bin/sh'));
  add('/bin/sh', shell);
  add(cc1, cc1);
  add(cc1plus, cc1plus);
  add(`${asPath}.real`, as);
  const sed = need('\'/usr/bin/sed\'', resolveFile(tree, '/usr/bin/sed') ?? resolveFile(tree, '/bin/sed'));
  add('/usr/bin/sed', sed);
  add('/bin/true', trueProgram);
  add('/usr/bin/true', trueProgram);
  const plugin = crossTool(tree, triplet, major, 'liblto_plugin.so');
  if (plugin !== null) add(`/usr/libexec/gcc-cross/${triplet}/${major}/liblto_plugin.so`, plugin);
  addLibraryClosure(tree, [gcc, gxx, cc1, cc1plus, as, trueProgram, shell, sed], add);
  // iceccd checks that an installed environment has /usr/bin/as before it runs a job there.
  for (const path of [asPath, '/usr/bin/as']) entries.set(path, { path, kind: 'script', text: assemblerScript(`${asPath}.real`) });
  entries.set('/usr/bin/gcc', { path: '/usr/bin/gcc', kind: 'script', text: driverScript('/usr/bin/gcc.real') });
  entries.set('/usr/bin/g++', { path: '/usr/bin/g++', kind: 'script', text: driverScript('/usr/bin/g++.real') });
  const dirs = new Set<string>();
  for (const path of [...entries.keys(), `/usr/lib/gcc-cross/${triplet}/${major}/.`]) {
    for (let dir = dirName(path); dir !== '/'; dir = dirName(dir)) dirs.add(dir);
  }
  for (const dir of dirs) entries.set(dir, { path: dir, kind: 'dir' });
  const sorted = [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { triplet, gccMajor: major, entries: sorted };
}

/** Adds every library the programs load (and the loader), at their own paths and at the name asked for. */
function addLibraryClosure(tree: EnvTreeFacts, programs: readonly string[], add: (path: string, source: string) => void): void {
  const queue = [...programs];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const file = queue.shift() ?? '';
    if (seen.has(file)) continue;
    seen.add(file);
    const elf = tree.elf(file);
    if (elf === null) continue;
    if (elf.interpreter !== null) {
      const loader = resolveFile(tree, elf.interpreter);
      if (loader === null) throw new EnvPlanError(`the tools have no loader '${elf.interpreter}' for '${file}'`);
      add(elf.interpreter, loader);
      queue.push(loader);
    }
    for (const name of elf.needed) {
      const found = libraryDirs(file, elf.runpath).map((dir) => ({ dir, path: resolveFile(tree, `${dir}/${name}`) }))
        .find((candidate) => candidate.path !== null);
      if (found?.path === undefined || found.path === null) throw new EnvPlanError(`the tools have no library '${name}' needed by '${file}'`);
      add(`${found.dir}/${name}`, found.path);
      queue.push(found.path);
    }
  }
}

/** The name icecream gives an environment: the tarball's file name without '.tar.gz' (it keys the helpers' caches). */
export function envFileName(sha256: string): string {
  return `crossroot-${sha256.slice(0, 32)}.tar.gz`;
}
