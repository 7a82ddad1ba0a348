// The hostname of a run (its own UTS namespace): the root's name by default,
// made a valid host name (RFC 1123 label: letters, digits, hyphens, at most 63).
import { UsageError } from '../errors.ts';

const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** `--hostname NAME`, checked; a name with dots is a sequence of labels (at most 253 characters). */
export function checkHostname(name: string): string {
  if (name.length > 253 || !name.split('.').every((label) => LABEL.test(label))) {
    throw new UsageError(`parse --hostname '${name}': not a valid host name`, {
      hint: 'use letters, digits and hyphens (labels of at most 63 characters, separated by dots)',
    });
  }
  return name;
}

/** The default hostname for a root directory named `name`: invalid characters become '-', 'root' when nothing is left. */
export function hostnameOf(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return cleaned === '' ? 'root' : cleaned;
}
