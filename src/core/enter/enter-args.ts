// The text forms of run's --env and --bind arguments (pure).
import { CrossrootError } from '../errors.ts';

/** `K=V` -> [K, V]; the name must be a valid environment name. */
export function parseEnvAssignment(text: string): [string, string] {
  const index = text.indexOf('=');
  const name = index < 0 ? text : text.slice(0, index);
  if (index <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new CrossrootError('USAGE', `parse --env '${text}': expected NAME=VALUE`);
  }
  return [name, text.slice(index + 1)];
}

/** `SRC[:DST]` -> { source, target } (DST defaults to SRC); ':ro' suffix makes it read-only. */
export function parseBindSpec(text: string): { source: string; target: string; readOnly: boolean } {
  let spec = text;
  let readOnly = false;
  if (spec.endsWith(':ro')) {
    readOnly = true;
    spec = spec.slice(0, -3);
  }
  const index = spec.indexOf(':');
  const source = index < 0 ? spec : spec.slice(0, index);
  const target = index < 0 ? spec : spec.slice(index + 1);
  if (source === '' || target === '' || !target.startsWith('/')) {
    throw new CrossrootError('USAGE', `parse --bind '${text}': expected SRC[:DST[:ro]] with an absolute DST`);
  }
  return { source, target, readOnly };
}
