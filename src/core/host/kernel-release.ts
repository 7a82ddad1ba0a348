// The kernel release (uname -r, "6.18.44-fc") as the version crossroot
// compares against: features such as private binfmt_misc instances (6.7)
// depend on it. Pure: the runner passes os.release().

/** [major, minor] of "6.18.44-fc"; [0, 0] when unreadable. */
export function parseKernelRelease(text: string): [number, number] {
  const match = /^(\d+)\.(\d+)/.exec(text);
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

export function releaseAtLeast(text: string, major: number, minor: number): boolean {
  const [haveMajor, haveMinor] = parseKernelRelease(text);
  return haveMajor > major || (haveMajor === major && haveMinor >= minor);
}

/** Linux 6.7 gave each user namespace its own binfmt_misc instance. */
export const PRIVATE_BINFMT_KERNEL = [6, 7] as const;

/** Whether this release has private binfmt_misc instances. */
export function hasPrivateBinfmt(text: string): boolean {
  return releaseAtLeast(text, PRIVATE_BINFMT_KERNEL[0], PRIVATE_BINFMT_KERNEL[1]);
}
