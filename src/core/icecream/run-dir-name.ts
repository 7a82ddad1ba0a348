// The name of an icecream run's host directory (in the temporary directory):
// `crossroot-icecream-PID-STARTTIME-XXXXXX`, whose run made it (pid and that
// process's start time, so a recycled pid is not taken for it) and a random
// tail. A run killed by SIGKILL cannot remove its directory; the name lets
// the next run tell it from a live run's and remove it.

export const RUN_DIR_PREFIX = 'crossroot-icecream-';

/** The mkdtemp(3) prefix of the run `pid` started at `startTime`. */
export function runDirPrefix(pid: number, startTime: string): string {
  return `${RUN_DIR_PREFIX}${String(pid)}-${startTime}-`;
}

/** Whose run a directory name says it belongs to, or null for any other name. */
export function parseRunDirName(name: string): { readonly pid: number; readonly startTime: string } | null {
  const match = /^crossroot-icecream-(\d+)-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
  if (match?.[1] === undefined || match[2] === undefined) return null;
  return { pid: Number(match[1]), startTime: match[2] };
}
