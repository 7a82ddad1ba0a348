// `node icecream-ask.ts SCHEDULER[:PORT] COMMAND`: prints the scheduler's answer
// on its text port (run with `ip netns exec` by icecream-cluster.ts).
import { parseScheduler } from '../../src/core/icecream/icecream-plan.ts';
import { askScheduler } from '../../src/runner/icecream/icecream-run.ts';

const [where = '', command = 'listcs'] = process.argv.slice(2);
const scheduler = parseScheduler(where);
if (scheduler === null) throw new Error(`not SCHEDULER[:PORT]: '${where}'`);
process.stdout.write(await askScheduler(scheduler, command, 3000));
