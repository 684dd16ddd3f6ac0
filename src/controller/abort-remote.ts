import type { ControllerContext } from './context.js';
import type { FleetInfo } from '../providers/types.js';
import { answerWaitMs, askDeploy } from './ask-deploy.js';

const undoneWithinMs = 120_000;

/**
 * `cutover abort` for a deploy that may be running on another runner (aws): asks it, through the green
 * group's tags, to go back to blue itself, and waits until its green is undone. False when no deploy
 * answered (the request is withdrawn): its controller is gone, and the caller undoes green itself.
 */
export async function askRunningDeployToAbort(
  ctx: ControllerContext,
  green: FleetInfo,
  signal: AbortSignal,
): Promise<boolean> {
  if (!ctx.intents) return false;
  ctx.events.warn(
    'abort.requested',
    `asked deployment ${green.deployment} (${green.version}) to stop, wherever it runs; if nothing answers within ${answerWaitMs(ctx) / 1000} s, its controller is gone and this command undoes it`,
  );
  const reply = await askDeploy({ ...ctx, intents: ctx.intents }, green.deployment, 'abort', signal);
  if (!reply) return false;
  const undoneBy = ctx.clock.now() + undoneWithinMs;
  while (ctx.clock.now() < undoneBy) {
    const now = (await ctx.target.fleet.list()).find(
      (f) => f.id === green.id && f.deployment === green.deployment,
    );
    if (now?.role !== 'green') return true;
    await ctx.clock.sleep(1000, signal);
  }
  ctx.events.warn(
    'abort.timed_out',
    `deployment ${green.deployment} answered (${reply.message}) but its green is still green after ${undoneWithinMs / 1000} s: it may still be putting traffic back`,
    { deployment: green.deployment, pid: 0 },
  );
  return true;
}
