// OCI platforms (GOARCH + variant, as image configs and indexes spell them)
// of the Debian ports crossroot makes roots of. The root's ELF files decide
// the port (armhf vs armel is a float ABI flag), the port decides the platform.

export interface OciPlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

const PLATFORMS = [
  { debianArch: 'amd64', architecture: 'amd64' },
  { debianArch: 'arm64', architecture: 'arm64', variant: 'v8' },
  { debianArch: 'armhf', architecture: 'arm', variant: 'v7' },
  { debianArch: 'armel', architecture: 'arm', variant: 'v5' },
  { debianArch: 'i386', architecture: '386' },
  { debianArch: 'ppc64el', architecture: 'ppc64le' },
  { debianArch: 'ppc64', architecture: 'ppc64' },
  { debianArch: 's390x', architecture: 's390x' },
  { debianArch: 'riscv64', architecture: 'riscv64' },
  { debianArch: 'mips64el', architecture: 'mips64le' },
  { debianArch: 'mipsel', architecture: 'mipsle' },
  { debianArch: 'mips', architecture: 'mips' },
  { debianArch: 'mips64', architecture: 'mips64' },
  { debianArch: 'loong64', architecture: 'loong64' },
] as const satisfies readonly { debianArch: string; architecture: string; variant?: string }[];

/** The OCI platform of a Debian port, or null when OCI has no name for it. */
export function platformOfDebianArch(debianArch: string): OciPlatform | null {
  const entry = PLATFORMS.find((candidate) => candidate.debianArch === debianArch);
  if (entry === undefined) return null;
  return 'variant' in entry
    ? { os: 'linux', architecture: entry.architecture, variant: entry.variant }
    : { os: 'linux', architecture: entry.architecture };
}

/** "arm/v7", "amd64": how a platform is shown to users. */
export function formatPlatform(platform: { architecture: string; variant?: string | undefined }): string {
  return platform.variant === undefined || platform.variant === '' ? platform.architecture : `${platform.architecture}/${platform.variant}`;
}

/**
 * Whether an image's stated platform fits a Debian port. A missing variant
 * fits (many images omit it); arm64's variant v8 is its only one.
 */
export function platformMatches(stated: { architecture: string; variant?: string | undefined }, debianArch: string): boolean {
  const expected = platformOfDebianArch(debianArch);
  if (expected === null || expected.architecture !== stated.architecture) return false;
  if (stated.variant === undefined || stated.variant === '') return true;
  return stated.variant === expected.variant;
}

/** Debian ports an OCI platform can mean (arm without variant: armhf and armel). */
export function debianArchsOfPlatform(stated: { architecture: string; variant?: string | undefined }): string[] {
  return PLATFORMS.filter((entry) => platformMatches(stated, entry.debianArch)).map((entry) => entry.debianArch);
}
