import { viewOf } from '../controller/fleets.js';
import { underLock } from '../controller/locked.js';
import { settleParked } from '../controller/parked.js';
import { previousVersion } from '../controller/previous-version.js';
import { recoverIfInterrupted } from '../controller/recover.js';
import { rollback as runRollback } from '../controller/rollback.js';
import { serviceRuntime, type ServiceOptions } from '../controller/runtime.js';
import { newDeploymentId } from '../ids.js';
import { startNotifying } from '../notify/start.js';
import { perform, type CommandOptions, type Host } from './perform.js';
import type { RollbackResult } from './results.js';

export type RollbackOptions = ServiceOptions & CommandOptions;

/**
 * Moves all traffic back to the standby in one change, launching nothing. After a deploy whose
 * controller was killed before it went live, undoing that deploy is the rollback.
 */
export function rollback(options: RollbackOptions & Host): Promise<RollbackResult> {
  return perform(options, async (io, scope) => {
    const runtime = await serviceRuntime(options, io.events, io.signal, io.clock, io.stopsOnSignal);
    scope.runtime = runtime;
    const { loaded, service, stateDir, journal, ctx } = runtime;
    const deployment = newDeploymentId(ctx.clock.now());
    scope.deployment = deployment;
    const started = ctx.clock.now();
    startNotifying(io, loaded, service, stateDir, deployment, ctx.target.notes);
    return underLock(runtime, { deployment, command: 'rollback' }, { deployment }, async (run) => {
      const recovered = await recoverIfInterrupted(run);
      if (recovered?.kind === 'deploy' && recovered.outcome === 'undone') {
        // Undoing the interrupted deploy was the way back; going on to the standby would be a second,
        // older switch nobody asked for.
        const { live } = viewOf(await ctx.target.fleet.list(), await ctx.target.router.readWeights());
        run.events.info(
          'rollback.succeeded',
          `the interrupted deploy of ${recovered.version ?? 'a new version'} was undone: ${live?.version ?? 'nothing'} takes the traffic, as before it; run rollback again to go to the standby`,
        );
        return {
          type: 'rolled-back',
          deployment: recovered.deployment,
          from: recovered.version ?? '',
          to: live?.version ?? '',
          ms: ctx.clock.now() - started,
        };
      }
      // Starts a local agent that is down, so its fleets are found; a no-op on aws.
      await ctx.target.router.ensure();
      await settleParked(run);
      return runRollback(run, deployment, (live) => {
        const previous = previousVersion(journal, live?.version) ?? live?.previousVersion;
        return previous
          ? `deploy it again: cutover deploy artifact=${service.artifact} environment=${service.environment} version=${previous}`
          : 'deploy a known-good version with cutover deploy';
      });
    });
  });
}
