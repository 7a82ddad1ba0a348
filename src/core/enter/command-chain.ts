// The command a run executes and its environment (pure).

export interface IdentityFacts {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
}

export interface CommandFacts {
  readonly rootDir: string;
  /** 32-bit personality for a natively run 32-bit root on a 64-bit host (uname -m: i686). */
  readonly personality: 'linux32' | null;
  readonly user: IdentityFacts;
  readonly workdir: string;
  readonly argv: readonly string[];
}

/**
 * The exec chain the run's PID 1 starts (host tools, each execs the next; no fork):
 *   [setarch linux32] [setpriv --regid G --groups L] unshare --root DIR --wd W [--setgid G] --setuid U -- argv
 * unshare(1) without namespace flags chroots, changes directory inside the
 * new root, drops to the user and execs the command (found on the root's
 * PATH). Its --setgid also clears supplementary groups, so when the user has
 * some, setpriv sets gid and groups first and unshare only sets the uid.
 */
export function commandChain(input: CommandFacts): string[] {
  const chain: string[] = [];
  if (input.personality !== null) chain.push('setarch', input.personality);
  const { uid, gid, groups } = input.user;
  const enter = ['unshare', '--root', input.rootDir, '--wd', input.workdir];
  if (groups.length > 0) {
    // Like initgroups(3): the primary group is in the list too.
    chain.push('setpriv', '--regid', String(gid), '--groups', [gid, ...groups.filter((group) => group !== gid)].join(','), '--');
    enter.push('--setuid', String(uid));
  } else {
    enter.push('--setgid', String(gid), '--setuid', String(uid));
  }
  return [...chain, ...enter, '--', ...input.argv];
}

/** The default environment inside the root: nothing of the host's but TERM, and LANG when portable. */
export function defaultEnvironment(
  user: { readonly name: string | null; readonly uid: number; readonly home: string; readonly shell: string },
  host: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: user.uid === 0
      ? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
      : '/usr/local/bin:/usr/bin:/bin',
    HOME: user.home,
    SHELL: user.shell,
  };
  if (user.name !== null) {
    env['USER'] = user.name;
    env['LOGNAME'] = user.name;
  }
  const term = host['TERM'];
  if (term !== undefined && term !== '') env['TERM'] = term;
  // Only locales every root has: C, C.UTF-8, POSIX (others would make tools warn).
  const lang = host['LANG'];
  env['LANG'] = lang !== undefined && /^(C|POSIX)(\.[A-Za-z0-9-]+)?$/.test(lang) ? lang : 'C.UTF-8';
  return env;
}
