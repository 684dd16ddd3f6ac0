import { randomBytes } from 'node:crypto';
import type { ControllerContext } from '../controller/context.js';
import type { FleetInfo } from '../providers/types.js';
import { actorFrom } from '../notify/actor.js';
import type { CommandIO } from './command.js';

const answerWithinMs = 15_000;
const undoneWithinMs = 120_000;

/**
 * `cutover abort` for a deploy that may be running on another runner (aws): asks it, through the green
 * group's tags, to go back to blue itself, and waits until its green is undone. False when no deploy
 * answered: its controller is gone, and the caller undoes green itself.
 */
export async function askRunningDeployToAbort(
  ctx: ControllerContext,
  io: CommandIO,
  green: FleetInfo,
): Promise<boolean> {
  const intents = ctx.intents;
  if (!intents) return false;
  const id = `i-${randomBytes(4).toString('hex')}`;
  await intents.send(green.deployment, {
    id,
    kind: 'abort',
    at: ctx.clock.now(),
    by: actorFrom(process.env).name,
  });
  const waitMs = Math.max(answerWithinMs, 3 * ctx.healthCheck.interval);
  io.events.warn(
    'abort.requested',
    `asked deployment ${green.deployment} (${green.version}) to stop, wherever it runs; if nothing answers within ${waitMs / 1000} s, its controller is gone and this command undoes it`,
  );
  const answerBy = ctx.clock.now() + waitMs;
  while (ctx.clock.now() < answerBy) {
    const { reply } = await intents.read(green.deployment);
    if (reply?.id === id) break;
    await ctx.clock.sleep(1000, io.signal);
  }
  const { reply } = await intents.read(green.deployment);
  if (reply?.id !== id) return false;
  const undoneBy = ctx.clock.now() + undoneWithinMs;
  while (ctx.clock.now() < undoneBy) {
    const now = (await ctx.target.fleet.list()).find(
      (f) => f.id === green.id && f.deployment === green.deployment,
    );
    if (now?.role !== 'green') return true;
    await ctx.clock.sleep(1000, io.signal);
  }
  io.events.warn(
    'abort.timed_out',
    `deployment ${green.deployment} answered (${reply.message}) but its green is still green after ${undoneWithinMs / 1000} s: it may still be putting traffic back`,
    { deployment: green.deployment, pid: 0 },
  );
  return true;
}
