import { CutoverError, DeploymentFailed, describeCause } from '../errors.js';
import type { FleetInfo, Weights } from '../providers/types.js';
import type { ControllerContext } from './context.js';

/**
 * The one place roles change once traffic has moved to `live` for good (a deploy that baked, a rollback,
 * a recovery that finishes either): `live` becomes the live fleet, losing any standby window and guard,
 * and `left`, the fleet it replaced, becomes the standby, guarded until its rollback window closes.
 */
export async function makeLive(
  ctx: ControllerContext,
  live: FleetInfo,
  left: FleetInfo | undefined,
): Promise<void> {
  const { fleet } = ctx.target;
  await fleet.setRole(live.id, { role: 'live', previousVersion: left?.version });
  if (!left) return;
  const until = ctx.clock.now() + ctx.rollbackWindow;
  try {
    await fleet.setRole(left.id, { role: 'standby', until });
  } catch (error) {
    // Traffic is on the new live fleet and it is healthy: failing here would report traffic on the old one.
    ctx.events.warn(
      'standby.unguarded',
      `${left.version} takes no traffic but could not be kept as standby: ${describeCause(error)}`,
      { fleet: left.id, hint: 'a rollback to it may not be possible; deploy it again if you need it' },
    );
    return;
  }
  ctx.events.info(
    'standby.kept',
    `${left.version} stays up as standby until ${new Date(until).toISOString()}`,
    {
      fleet: left.id,
      until,
    },
  );
}

/**
 * Retires fleets that serve no purpose any more. Once green is live (`tolerant`), a fleet that will not
 * stop is reported, not fatal; before a launch it stops the deploy while nothing has changed yet.
 */
export async function retireAll(
  ctx: ControllerContext,
  fleets: readonly FleetInfo[],
  why: (fleet: FleetInfo) => string,
  tolerant: boolean,
): Promise<void> {
  for (const old of fleets) {
    try {
      await ctx.target.fleet.retire(old.id);
      ctx.events.info(old.role === 'standby' ? 'standby.retired' : 'fleet.retired', why(old), {
        fleet: old.id,
      });
    } catch (error) {
      if (!tolerant) {
        if (error instanceof CutoverError) throw error;
        throw new DeploymentFailed(
          'RETIRE_FAILED',
          `could not retire ${old.version} (\`${old.id}\`) before launching: ${describeCause(error)}`,
          'nothing else changed; run the deploy again',
          { cause: error },
        );
      }
      ctx.events.warn('fleet.retired', `could not retire ${old.version}: ${describeCause(error)}`, {
        fleet: old.id,
      });
    }
  }
}

/**
 * Roles follow the traffic, but a controller killed between moving traffic and recording roles (a
 * rollback on another runner, whose journal only that runner reads) leaves them apart: the fleet taking
 * all traffic recorded as standby, the one recorded live idle. Deploys and rollbacks put that right
 * first. Returns whether it changed anything.
 */
export async function reconcileRoles(
  ctx: ControllerContext,
  fleets: readonly FleetInfo[],
  weights: Weights,
): Promise<boolean> {
  const serving = fleets.find((f) => weights[f.id] === 100);
  if (!serving || serving.role !== 'standby') return false;
  const left = fleets.find((f) => f.role === 'live' && !(weights[f.id] ?? 0));
  ctx.events.warn(
    'roles.repaired',
    `${serving.version} takes all traffic but was recorded as standby${left ? ` and ${left.version} as live` : ''}: an interrupted rollback; recording ${serving.version} as live`,
    { fleet: serving.id },
  );
  await makeLive(ctx, serving, left);
  return true;
}
