// dpkg's database, read without running anything from the root:
// /var/lib/dpkg/status (RFC 822-style stanzas) and info/<package>.list.
// Pure: text in, data out.

export interface InstalledPackage {
  readonly package: string;
  readonly version: string;
  readonly architecture: string;
  /** Source package name (the binary's own name when the stanza has no Source). */
  readonly source: string;
}

/** Installed packages of a status file ('install ok installed' only); malformed stanzas are skipped. */
export function parseDpkgStatus(text: string): InstalledPackage[] {
  const packages: InstalledPackage[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      if (line.startsWith(' ') || line.startsWith('\t')) continue; // continuation lines
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      fields.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    const name = fields.get('package');
    const version = fields.get('version');
    const status = fields.get('status');
    if (name === undefined || version === undefined || status === undefined) continue;
    if (!/\binstalled$/.test(status) || !status.startsWith('install ')) continue;
    const source = (fields.get('source') ?? name).split(' ')[0] ?? name;
    packages.push({ package: name, version, architecture: fields.get('architecture') ?? '', source });
  }
  return packages;
}

/** The paths an info/<package>.list file names (absolute, as dpkg recorded them). */
export function parseDpkgList(text: string): string[] {
  return text.split('\n').filter((line) => line.startsWith('/') && line !== '/.');
}

/** The .list file names dpkg may use for a package: 'pkg.list' or, multi-arch same, 'pkg:arch.list'. */
export function dpkgListNames(pkg: InstalledPackage): string[] {
  return [`${pkg.package}.list`, `${pkg.package}:${pkg.architecture}.list`];
}

/** Packages that may own compiler tools: gcc/cpp/g++ of any version and triplet, binutils. */
export function isToolchainPackage(name: string): boolean {
  return /^(?:gcc|cpp|g\+\+)(?:-\d+)?(?:-[a-z0-9_]+-linux-[a-z0-9_]+)?$/.test(name) || /^binutils(?:-[a-z0-9_-]+)?$/.test(name);
}
