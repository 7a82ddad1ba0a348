// The conventions every command meets, checked by walking the command tree,
// so that a command added anywhere (a new file registered in main.ts) is
// checked too: --help with a description, EXAMPLES and EXIT STATUS; --json on
// every command that does something; option texts in one style; and shell
// completion and the man page naming every command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../test/support/cli.ts';
import { runProcess } from '../runner/process/process.ts';
import type { CliContext } from './context.ts';
import { buildProgram, VERSION } from './main.ts';
import { completionScript, SHELLS } from './render/completion.ts';
import { manPage, roffText } from './render/manpage.ts';
import { allCommands, commandTree } from './tree.ts';
import type { CommandNode } from './tree.ts';

async function tree(): Promise<CommandNode> {
  const silent = { stdout: () => { /* unused */ }, stderr: () => { /* unused */ }, stdoutIsTTY: false, env: {}, cwd: '/' };
  const context: CliContext = { io: silent, argv: [], exitCode: 0, program: async () => buildProgram(context, []) };
  return commandTree(await buildProgram(context, []));
}

/** Every command a user can type, the program itself included; commander's own `help` is not one of ours. */
async function commands(): Promise<CommandNode[]> {
  return allCommands(await tree()).filter((node) => node.path.at(-1) !== 'help');
}

test('the tree holds the commands of DESIGN.md (and whatever is added later)', async () => {
  const names = (await commands()).map((node) => node.path.join(' '));
  for (const name of ['inspect', 'explain', 'scan', 'binfmt', 'binfmt status', 'binfmt install', 'create', 'roots list', 'doctor', 'run', 'shell', 'completion']) {
    assert.ok(names.includes(name), `missing ${name}`);
  }
});

test('every command: --help on stdout, exit 0, with a description, EXAMPLES and EXIT STATUS', async () => {
  for (const node of await commands()) {
    const name = ['crossroot', ...node.path].join(' ');
    const help = await runCli([...node.path, '--help']);
    assert.equal(help.code, 0, name);
    assert.equal(help.stderr, '', name);
    assert.match(help.stdout, /^Usage: crossroot/, name);
    assert.match(help.stdout, /\nEXAMPLES\n {2}crossroot /, `${name}: no EXAMPLES`);
    assert.match(help.stdout, /\nEXIT STATUS\n {2}\S/, `${name}: no EXIT STATUS`);
    assert.match(node.description, /^[A-Z].*\.$/s, `${name}: a description is a sentence (capital, full stop)`);
  }
});

test('every command that does something takes --json; groups only list their subcommands', async () => {
  for (const node of await commands()) {
    if (node.commands.length > 0) continue;
    assert.ok(node.options.some((option) => option.long === '--json'), `${['crossroot', ...node.path].join(' ')}: no --json`);
  }
});

test('option texts in one style: lower case, no full stop, defaults as "(default: X)"', async () => {
  for (const node of await commands()) {
    for (const option of node.options) {
      const where = `${['crossroot', ...node.path].join(' ')} ${option.flags}`;
      assert.match(option.description, /^[a-z-]/, `${where}: starts in lower case`);
      assert.doesNotMatch(option.description, /\.$/, `${where}: no full stop`);
      assert.doesNotMatch(option.description, /\(default [^:]/, `${where}: write defaults as (default: X)`);
    }
    const help = await runCli([...node.path, '--help']);
    assert.doesNotMatch(help.stdout, /default: "/, `${node.path.join(' ')}: a default shown JSON-quoted`);
  }
});

test('--arch is accepted with its alias --platform wherever it is', async () => {
  for (const node of await commands()) {
    if (node.options.some((option) => option.long === '--arch')) {
      assert.ok(node.options.some((option) => option.long === '--platform'), `${node.path.join(' ')}: --arch without --platform`);
    }
  }
});

test('commands with progress take --quiet and --progress', async () => {
  for (const node of await commands()) {
    if (!node.options.some((option) => option.long === '--progress')) continue;
    assert.ok(node.options.some((option) => option.long === '--quiet'), node.path.join(' '));
  }
  const create = (await commands()).find((node) => node.path.join(' ') === 'create');
  assert.deepEqual(create?.options.find((option) => option.long === '--progress')?.choices, ['auto', 'plain', 'tty']);
});

test('the completion scripts and the man page name every command and option', async () => {
  const root = await tree();
  const nodes = (await commands()).filter((node) => node.path.length > 0);
  for (const shell of SHELLS) {
    const script = completionScript(shell, root);
    for (const node of nodes) {
      const word = node.path.at(-1) ?? '';
      assert.match(script, new RegExp(`(^|[\\s'/|])${word}([\\s'|]|$)`, 'm'), `${shell}: no ${node.path.join(' ')}`);
      for (const option of node.options) {
        const flag = shell === 'fish' ? `-l ${(option.long ?? '').replace(/^--/, '')}` : option.long ?? '';
        if (option.long !== undefined) assert.ok(script.includes(flag), `${shell}: no ${node.path.join(' ')} ${option.long}`);
      }
    }
  }
  const man = manPage(root, VERSION, '2026-01-01');
  for (const node of nodes) assert.ok(man.includes(`.SS "${roffText(`crossroot ${node.path.join(' ')}`)} `), `man: no ${node.path.join(' ')}`);
});

test('crossroot completion bash prints a script bash loads and that completes', async () => {
  const run = await runCli(['completion', 'bash']);
  assert.equal(run.code, 0);
  const dir = mkdtempSync(join(tmpdir(), 'crossroot-completion-'));
  try {
    const file = join(dir, 'crossroot.bash');
    writeFileSync(file, run.stdout);
    // COMP_WORDS as bash sets them for `crossroot binfmt st<TAB>` and `crossroot run --emulation <TAB>`.
    const script = `source "$1"; COMP_WORDS=(crossroot binfmt st); COMP_CWORD=2; _crossroot; echo "\${COMPREPLY[*]}";`
      + ' COMP_WORDS=(crossroot run --emulation ""); COMP_CWORD=3; _crossroot; echo "${COMPREPLY[*]}"';
    const bash = await runProcess(['bash', '-c', script, 'bash', file]);
    assert.equal(bash.exitCode, 0, bash.stderr);
    assert.deepEqual(bash.stdout.trim().split('\n'), ['status', 'auto private host bind copy']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const bad = await runCli(['completion', 'tcsh']);
  assert.equal(bad.code, 2);
});
