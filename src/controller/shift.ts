import { DeploymentFailed } from '../errors.js';
import type { Weights } from '../providers/types.js';
import type { ControllerContext } from './context.js';
import { describeWeights, sameWeights, weightsByVersion } from './fleets.js';
import { unsafeTrafficChange } from './safety.js';

/**
 * The one routine that moves traffic, for deploys, rollbacks and recovery alike: the safety check on the
 * fleets as the target reports them now, one atomic change, then a re-read that must show exactly the
 * weights asked for. `leaving` names a failed fleet traffic is being taken off.
 */
export async function shift(
  ctx: ControllerContext,
  weights: Weights,
  options: { leaving?: string | undefined } = {},
): Promise<void> {
  const { router } = ctx.target;
  const [before, fleets] = await Promise.all([router.readWeights(), ctx.target.fleet.list()]);
  const wanted = describeWeights(weights, fleets);
  if (sameWeights(before, weights)) {
    ctx.events.info('traffic.unchanged', `traffic already goes to ${wanted}`, { weights });
    return;
  }
  const unsafe = unsafeTrafficChange({ next: weights, current: before, fleets, leaving: options.leaving });
  if (unsafe) {
    ctx.events.error('traffic.refused', `refused to move traffic to ${wanted}: ${unsafe}`, {
      from: before,
      to: weights,
    });
    throw new DeploymentFailed(
      'UNSAFE_WEIGHTS',
      `traffic was not moved to ${wanted}: ${unsafe}; it stays on ${describeWeights(before, fleets)}`,
      'run `cutover status` to see the fleets and their instances',
    );
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
  ctx.events.info('traffic.shifted', `traffic goes to ${wanted}`, {
    weights,
    versions: weightsByVersion(weights, fleets),
    ms: ctx.clock.now() - started,
  });
}
