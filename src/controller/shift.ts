import { DeploymentFailed } from '../errors.js';
import type { FleetInfo, Weights } from '../providers/types.js';
import type { ControllerContext } from './context.js';
import { describeWeights, sameWeights } from './fleets.js';

/**
 * The one routine that moves traffic, for deploys, rollbacks and recovery alike: one atomic change,
 * then a re-read that must show exactly the weights asked for.
 */
export async function shift(
  ctx: ControllerContext,
  weights: Weights,
  fleets: readonly FleetInfo[],
): Promise<void> {
  const { router } = ctx.target;
  const before = await router.readWeights();
  const wanted = describeWeights(weights, fleets);
  if (sameWeights(before, weights)) {
    ctx.events.info('traffic.unchanged', `traffic already goes to ${wanted}`, { weights });
    return;
  }
  ctx.events.info('traffic.shifting', `moving traffic from ${describeWeights(before, fleets)} to ${wanted}`, {
    from: before,
    to: weights,
  });
  const started = ctx.clock.now();
  await router.setWeights(weights);
  const after = await router.readWeights();
  if (!sameWeights(after, weights)) {
    throw new DeploymentFailed(
      'WEIGHTS_NOT_APPLIED',
      `the router reports ${describeWeights(after, fleets)} after being told ${wanted}`,
    );
  }
  ctx.events.info('traffic.shifted', `traffic goes to ${wanted}`, { weights, ms: ctx.clock.now() - started });
}
