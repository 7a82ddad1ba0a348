// `npm run bench [-- NAME [ARGS...]]`: runs every benchmark in bench/ (or the
// one named), each side by side with its peers, one after the other so they
// do not compete for the two cores. Each file also runs on its own:
// `node --import tsx bench/scan.ts`.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../src/runner/process/process.ts';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(benchDir)
  .filter((name) => name.endsWith('.ts') && name !== 'run.ts' && !name.startsWith('_'))
  .map((name) => name.slice(0, -3))
  .sort();

const [selected, ...rest] = process.argv.slice(2);
if (selected !== undefined && !available.includes(selected)) {
  process.stderr.write(`bench: no benchmark '${selected}': choose one of ${available.join(', ')}\n`);
  process.exit(2);
}
let failed = 0;
for (const name of selected === undefined ? available : [selected]) {
  process.stdout.write(`\n== ${name} ==\n`);
  const result = await runProcess([process.execPath, '--import', 'tsx', `${benchDir}${name}.ts`, ...(selected === undefined ? [] : rest)], { stdio: 'inherit' });
  if (result.exitCode !== 0) failed += 1;
}
process.exitCode = failed === 0 ? 0 : 1;
