import type { ControllerContext } from './context.js';
import { viewOf } from './fleets.js';
import { restoreBlue } from './restore.js';

/**
 * Undoes a deploy that has not gone live and whose controller is not here to do it (it died on another
 * runner): traffic back to the fleet that served before, green removed, through the one way back.
 * Returns the deployment undone, or undefined when there was none.
 */
export async function abandonUnfinished(ctx: ControllerContext): Promise<string | undefined> {
  const fleets = await ctx.target.fleet.list();
  const green = fleets.find((f) => f.inProgress);
  if (!green) return undefined;
  const view = viewOf(
    fleets.filter((f) => f !== green),
    await ctx.target.router.readWeights(),
  );
  // Blue is what took traffic besides green, or else the fleet recorded as live, or else the standby.
  const blue = view.live ?? fleets.find((f) => f !== green && f.role === 'live') ?? view.standby;
  const reason = `abandoned: deployment ${green.deployment} had not gone live and its controller is gone`;
  await restoreBlue(ctx, green.deployment, blue, green, reason);
  ctx.journal.record({
    deployment: green.deployment,
    kind: 'deploy',
    phase: 'failed',
    at: ctx.clock.now(),
    reason,
    moment: { kind: 'abort', by: ctx.actor },
  });
  return green.deployment;
}
