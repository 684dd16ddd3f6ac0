import { CutoverError, DeploymentFailed, describeCause } from '../errors.js';
import type { FleetInfo } from '../providers/types.js';
import type { ControllerContext } from './context.js';
import { viewOf } from './fleets.js';
import { checkOnce } from './health.js';
import { makeLive, reconcileRoles } from './roles.js';
import { shift } from './shift.js';

export interface RollbackResult {
  type: 'rolled-back';
  deployment: string;
  from: string;
  to: string;
  ms: number;
}

/**
 * Puts traffic back on the standby in one change: no instance launched, so it takes about as long as
 * one health probe and one router update. Only a fleet recorded as standby is a target, never a failed
 * or unfinished one. The standby becomes live and the fleet that was live becomes the standby in turn.
 */
export async function rollback(
  ctx: ControllerContext,
  deployment: string,
  /** What to do when there is no standby, given the live fleet: asked only then, from what was read. */
  redeployHint: (live: FleetInfo | undefined) => string,
): Promise<RollbackResult> {
  await ctx.target.checkRouting();
  const { fleet, router } = ctx.target;
  const started = ctx.clock.now();
  const [listed, weights] = await Promise.all([fleet.list(), router.readWeights()]);
  const { live, standby } = (await reconcileRoles(ctx, listed, weights))
    ? viewOf(await fleet.list(), weights)
    : viewOf(listed, weights);
  if (!standby) {
    throw new DeploymentFailed(
      'NO_STANDBY',
      `there is no standby fleet to roll back to${live ? `; ${live.version} takes traffic` : ''}`,
      redeployHint(live),
    );
  }
  const record = (phase: 'started' | 'shifting' | 'succeeded' | 'failed', extra: object = {}) =>
    ctx.journal.record({
      deployment,
      kind: 'rollback',
      phase,
      at: ctx.clock.now(),
      version: standby.version,
      blue: live?.id,
      green: standby.id,
      ...extra,
    });
  record('started', ctx.actor ? { by: ctx.actor } : {});
  ctx.events.info(
    'rollback.started',
    `rolling back from ${live?.version ?? 'nothing'} to ${standby.version}`,
    { from: live?.version, undid: live?.deployment },
  );
  try {
    await checkOnce(ctx, standby);
    const weights = { [standby.id]: 100 };
    record('shifting', { weights });
    await shift(ctx, weights);
  } catch (error) {
    record('failed', { reason: describeCause(error) });
    const reason = describeCause(error);
    ctx.events.error('rollback.failed', `rollback to ${standby.version} failed: ${reason}`, {
      error: error instanceof CutoverError ? error.code : 'ROLLBACK_FAILED',
      reason,
    });
    throw error;
  }
  await makeLive(ctx, standby, live);
  record('succeeded');
  const ms = ctx.clock.now() - started;
  ctx.events.info('rollback.succeeded', `${standby.version} takes all traffic again`, {
    ms,
    undid: live?.deployment,
  });
  return { type: 'rolled-back', deployment, from: live?.version ?? '', to: standby.version, ms };
}
