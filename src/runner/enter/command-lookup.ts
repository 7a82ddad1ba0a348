// Whether the command of a run exists inside the root, looked up the way
// execvp(3) does (a name with a slash as it is, else each PATH directory),
// with every path resolved inside the root. Checked before anything starts,
// so that `run ROOT -- nosuchcmd` says so in crossroot's words (exit 127, as
// a shell) instead of the namespace tool's "failed to execute".
import { statSync } from 'node:fs';
import { CrossrootError } from '../../core/errors.ts';
import { resolveHostPathInRoot } from '../fs/root-fs.ts';

function isFileInRoot(rootDir: string, path: string): boolean {
  try {
    return statSync(resolveHostPathInRoot(rootDir, path).hostPath).isFile();
  } catch {
    return false;
  }
}

export function checkCommandInRoot(rootDir: string, command: string, workdir: string, path: string | undefined): void {
  if (command.includes('/')) {
    const absolute = command.startsWith('/') ? command : `${workdir.replace(/\/$/, '')}/${command}`;
    if (isFileInRoot(rootDir, absolute)) return;
    throw new CrossrootError('COMMAND_NOT_FOUND', `run '${command}': no such file in the root`, {
      hint: `check the path inside the root (crossroot run ${rootDir} -- ls ${absolute.replace(/\/[^/]*$/, '') || '/'})`,
    });
  }
  const dirs = (path ?? '/usr/local/bin:/usr/bin:/bin').split(':').filter((dir) => dir.startsWith('/'));
  if (dirs.some((dir) => isFileInRoot(rootDir, `${dir}/${command}`))) return;
  throw new CrossrootError('COMMAND_NOT_FOUND', `run '${command}': command not found in the root (PATH ${dirs.join(':')})`, {
    hint: `install it in the root (crossroot run ${rootDir} -- apt-get install ...) or give its full path`,
  });
}
