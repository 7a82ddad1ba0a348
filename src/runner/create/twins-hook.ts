// mmdebstrap's hooks for create's twins (create-twins.ts), served by the
// build stage (create-stage.ts). mmdebstrap runs a hook as an executable
// file, with no way to hand it data but the environment, so the hook is a
// constant script beside two FIFOs in a tmpfs of the build namespace: it
// writes the hook's name (essential, customize) to `request` and waits for
// `ok` on `answer`; the stage, which holds both FIFOs open, puts the twins on
// or takes them off in between. No input goes into the script's text, and no
// file of it is ever under the root being built.
import { chmodSync, closeSync, constants, openSync, writeFileSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import type { CreateTwinStep } from '../../core/create/create-twins.ts';
import { runChecked } from '../process/process.ts';
import { LineSplitter } from '../process/json-lines.ts';
import type { CreateTwinsSetup } from './create-twins.ts';
import { putTwinsOn, takeTwinsOff } from './create-twins.ts';

/** The hook's file name in the hook directory (the path planBootstrap passes to mmdebstrap). */
export const TWINS_HOOK_NAME = 'twins-hook';

const HOOK_SCRIPT = [
  '#!/bin/sh',
  '# crossroot create: mmdebstrap\'s essential and customize hook. Asks crossroot\'s',
  '# build stage, which holds the other ends of these FIFOs, to put the twins on',
  '# (essential) or take them off (customize), and waits for its answer.',
  'set -eu',
  'dir=${0%/*}',
  'printf \'%s\\n\' "${MMDEBSTRAP_HOOK:-}" > "$dir/request"',
  'read -r answer < "$dir/answer"',
  'test "$answer" = ok',
  '',
].join('\n');

export interface TwinsOutcome {
  /** Programs that ran natively after the essential phase. */
  readonly substituted: number;
  /** Why they did not, or null. */
  readonly refused: string | null;
}

export interface TwinsHookServer {
  /** Takes off what a hook left on (a failed bootstrap) and closes the FIFOs; the outcome, or the failure of an off. */
  close(): Promise<{ outcome: TwinsOutcome; failure: string | null }>;
}

/**
 * Mounts a tmpfs on `hookDir` (in this namespace only), writes the hook and
 * its FIFOs there, and answers its requests until close().
 * `log` gets mmdebstrap-style progress lines.
 */
export async function serveTwinsHook(hookDir: string, setup: CreateTwinsSetup, env: Readonly<Record<string, string>>,
  log: (line: string) => void): Promise<TwinsHookServer> {
  await runChecked(['mount', '-t', 'tmpfs', '-o', 'mode=0700,size=64k', 'crossroot-hooks', hookDir], { code: 'CREATE_FAILED', action: `mount the hooks' tmpfs on '${hookDir}'` }, { env });
  writeFileSync(`${hookDir}/${TWINS_HOOK_NAME}`, HOOK_SCRIPT);
  chmodSync(`${hookDir}/${TWINS_HOOK_NAME}`, 0o700);
  await runChecked(['mkfifo', '-m', '0600', `${hookDir}/request`, `${hookDir}/answer`], { code: 'CREATE_FAILED', action: 'make the hook\'s FIFOs' }, { env });
  // O_RDWR: neither open waits for the other end, and the answer's reader never meets EOF.
  const requestFd = openSync(`${hookDir}/request`, constants.O_RDWR | constants.O_NONBLOCK);
  const answerFd = openSync(`${hookDir}/answer`, constants.O_RDWR | constants.O_NONBLOCK);
  const requests = new Socket({ fd: requestFd, readable: true, writable: false });
  requests.setEncoding('utf8');
  let applied: readonly CreateTwinStep[] = [];
  let outcome: TwinsOutcome = { substituted: 0, refused: 'the essential hook never ran' };
  let failure: string | null = null;
  const answer = async (hook: string): Promise<boolean> => {
    if (hook === 'essential' && applied.length === 0) {
      // Twins only make it faster: when they cannot be put on, the bootstrap goes on emulated.
      try {
        const on = await putTwinsOn(setup, env);
        applied = on.applied;
        outcome = { substituted: on.substituted, refused: on.refused };
      } catch (error) {
        outcome = { substituted: 0, refused: `putting them on failed: ${error instanceof Error ? error.message : String(error)}` };
      }
      log(outcome.refused === null ? `I: running ${String(outcome.substituted)} programs natively (same-version twins)` : `I: running every program emulated: ${outcome.refused}`);
      return true;
    }
    if (hook === 'customize') {
      failure = await takeTwinsOff(setup.rootDir, applied, env);
      applied = [];
      return failure === null;
    }
    return false;
  };
  let queue = Promise.resolve();
  const lines = new LineSplitter();
  requests.on('data', (chunk: string) => {
    for (const line of lines.push(chunk)) {
      queue = queue.then(() => answer(line.trim())).catch((error: unknown) => {
        failure = error instanceof Error ? error.message : String(error);
        return false;
      }).then((ok) => { writeSync(answerFd, ok ? 'ok\n' : 'failed\n'); });
    }
  });
  return {
    close: async () => {
      await queue;
      requests.destroy();
      closeSync(answerFd);
      if (applied.length > 0) failure ??= await takeTwinsOff(setup.rootDir, applied, env);
      return { outcome, failure };
    },
  };
}
