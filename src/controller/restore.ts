import { describeCause } from '../errors.js';
import type { FleetInfo, Weights } from '../providers/types.js';
import type { ControllerContext } from './context.js';
import { shift } from './shift.js';

/**
 * The single way back, shared by a failed check, `abort`, and recovery of a killed deploy: write the
 * intent (all traffic on blue) to the journal, apply it with the one shift routine, then stop green, or
 * with --keep-failed record it as failed so that it never takes traffic again.
 */
export async function restoreBlue(
  ctx: ControllerContext,
  deployment: string,
  blue: FleetInfo | undefined,
  green: FleetInfo | undefined,
  reason: string,
): Promise<void> {
  const weights: Weights = blue ? { [blue.id]: 100 } : {};
  ctx.journal.record({
    deployment,
    kind: 'deploy',
    phase: 'rolling-back',
    at: ctx.clock.now(),
    weights,
    reason,
  });
  ctx.events.warn(
    'traffic.restoring',
    blue
      ? `rolling back: traffic returns to ${blue.version}`
      : 'rolling back: no earlier version to return to',
    { reason },
  );
  await shift(ctx, weights, { leaving: green?.id });
  // The fleet traffic is back on is the live one, whatever it was recorded as (a standby picked by an
  // abort from another runner): roles follow the traffic.
  if (blue && blue.role !== 'live') {
    try {
      await ctx.target.fleet.setRole(blue.id, { role: 'live' });
    } catch (error) {
      ctx.events.warn(
        'standby.unguarded',
        `could not record ${blue.version} as live: ${describeCause(error)}`,
        {
          fleet: blue.id,
        },
      );
    }
  }
  if (green) await setAside(ctx, green);
  ctx.events.info('traffic.restored', blue ? `traffic is on ${blue.version}` : 'no traffic was moved', {
    weights,
  });
}

async function setAside(ctx: ControllerContext, green: FleetInfo): Promise<void> {
  try {
    if (ctx.keepFailed) {
      await ctx.target.fleet.setRole(green.id, { role: 'failed' });
      ctx.events.warn(
        'green.retired',
        `kept failed fleet ${green.version} running for debugging (--keep-failed); it never takes traffic`,
        { fleet: green.id },
      );
      return;
    }
    await ctx.target.fleet.retire(green.id);
    ctx.events.info('green.retired', `stopped the failed fleet of ${green.version}`, { fleet: green.id });
  } catch (error) {
    // Traffic is already safe on blue; a green that will not stop is reported, not fatal.
    ctx.events.warn(
      'green.retired',
      `could not ${ctx.keepFailed ? 'mark' : 'stop'} the failed fleet of ${green.version}: ${describeCause(error)}${ctx.keepFailed ? '' : '; it takes no traffic, and the next deploy stops it'}`,
      { fleet: green.id },
    );
  }
}
