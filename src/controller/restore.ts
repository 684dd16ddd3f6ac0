import { describeCause } from '../errors.js';
import type { FleetInfo, Weights } from '../providers/types.js';
import type { ControllerContext } from './context.js';
import { shift } from './shift.js';

/**
 * The single way back, shared by a failed check, `abort`, and recovery of a killed deploy: write the
 * intent (all traffic on blue) to the journal, apply it with the one shift routine, then stop green.
 */
export async function restoreBlue(
  ctx: ControllerContext,
  deployment: string,
  blue: FleetInfo | undefined,
  green: FleetInfo | undefined,
  reason: string,
): Promise<void> {
  const weights: Weights = blue ? { [blue.id]: 100 } : {};
  const fleets = [blue, green].filter((f): f is FleetInfo => f !== undefined);
  ctx.journal.record({
    deployment,
    kind: 'deploy',
    phase: 'rolling-back',
    at: ctx.clock.now(),
    weights,
    reason,
  });
  ctx.events.warn(
    'rollback.started',
    blue
      ? `rolling back: traffic returns to ${blue.version}`
      : 'rolling back: no earlier version to return to',
    { reason },
  );
  await shift(ctx, weights, fleets);
  if (green) {
    if (ctx.keepFailed) {
      ctx.events.warn(
        'green.retired',
        `kept failed fleet ${green.version} running for debugging (--keep-failed)`,
        {
          fleet: green.id,
        },
      );
    } else {
      try {
        await ctx.target.fleet.retire(green.id);
        ctx.events.info('green.retired', `stopped the failed fleet of ${green.version}`, { fleet: green.id });
      } catch (error) {
        // Traffic is already safe on blue; a green that will not stop is reported, not fatal.
        ctx.events.warn(
          'green.retired',
          `could not stop the failed fleet of ${green.version}: ${describeCause(error)}`,
          {
            fleet: green.id,
          },
        );
      }
    }
  }
  ctx.events.info('rollback.succeeded', blue ? `traffic is on ${blue.version}` : 'no traffic was moved', {
    weights,
  });
}
