import { deploy as runDeploy } from '../controller/deploy.js';
import { underLock } from '../controller/locked.js';
import { settleParked } from '../controller/parked.js';
import { recoverIfInterrupted } from '../controller/recover.js';
import { checkServiceOptions, serviceRuntime, type ServiceOptions } from '../controller/runtime.js';
import { validateVersion } from '../config/select.js';
import { UserInputError } from '../errors.js';
import { newDeploymentId } from '../ids.js';
import { startNotifying } from '../notify/start.js';
import { planSteps } from '../../strategies/index.js';
import { perform, type CommandOptions, type Host } from './perform.js';
import type { DeployResult } from './results.js';

export interface DeployOptions extends ServiceOptions, CommandOptions {
  /** The build to deploy: a label such as `v2` (local), an AMI id (aws). */
  version: string;
  /**
   * Stop at the strategy's pre-traffic approval gate (`approval.atWeight: 0`): green is launched and
   * checked, the deploy is recorded as awaiting approval, and the call resolves `awaiting-approval`.
   */
  detach?: boolean | undefined;
}

/**
 * Brings up a green fleet of `version`, checks it, moves traffic to it with the environment's strategy,
 * bakes it, and keeps blue as the standby. Any failure before green is live puts traffic back on blue
 * and resolves `failed`.
 */
export function deploy(options: DeployOptions & Host): Promise<DeployResult> {
  return perform(options, async (io, scope) => {
    checkServiceOptions(options, ['version']);
    const runtime = await serviceRuntime(options, io.events, io.signal, io.clock, io.stopsOnSignal);
    scope.runtime = runtime;
    const { loaded, service, stateDir, ctx } = runtime;
    const version = validateVersion(service, options.version);
    scope.version = version;
    const detach = options.detach ?? false;
    if (detach && planSteps(ctx.strategy)[0]?.kind !== 'approval') {
      throw new UserInputError(
        'DETACH_NEEDS_GATE',
        ctx.strategy.approval
          ? `--detach stops at an approval gate before any traffic moves, and the strategy's gate is at ${ctx.strategy.approval.atWeight}%, after traffic has moved`
          : `--detach stops at an approval gate before any traffic moves, and the strategy (${ctx.strategy.name}) has none`,
        'set `strategy: { name: …, approval: { atWeight: 0, timeout: 1h } }` for the environment, or deploy without --detach',
      );
    }
    const deployment = newDeploymentId(ctx.clock.now());
    scope.deployment = deployment;
    startNotifying(io, loaded, service, stateDir, deployment, ctx.target.notes);
    const holder = { deployment, command: 'deploy' };
    return underLock(runtime, holder, { deployment, version }, async (run) => {
      await recoverIfInterrupted(run);
      await settleParked(run);
      const result = await runDeploy(run, { deployment, version, detach });
      return result.type === 'deployed'
        ? { ...result, previous: result.previous ?? null }
        : { ...result, until: new Date(result.until).toISOString() };
    });
  });
}
