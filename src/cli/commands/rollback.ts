import { startNotifying } from '../../notify/start.js';
import { recoverIfInterrupted } from '../../controller/recover.js';
import { settleParked } from '../../controller/parked.js';
import { rollback } from '../../controller/rollback.js';
import { viewOf } from '../../controller/fleets.js';
import { newDeploymentId } from '../../ids.js';
import { acquireLock } from '../../state/lock.js';
import { ExitCode } from '../exit-codes.js';
import type { Command } from '../command.js';
import { serviceRuntime } from '../runtime.js';
import { previousVersion } from './history.js';

export const rollbackCommand: Command = {
  name: 'rollback',
  summary: 'move traffic back to the standby fleet in one change, launching nothing',
  spec: { words: ['artifact', 'environment'], required: ['artifact', 'environment'], flags: [], options: [] },
  help: `Usage: cutover rollback artifact=NAME environment=NAME [--json]

Checks that the standby fleet (the version that was live before the last deploy) answers its health
check, then moves all traffic to it in one atomic change. Nothing is launched, so it takes about a
second. The fleet that was live becomes the standby, so a second rollback goes forward again.
When no standby is left (its rollback window closed), it says which version to deploy instead.
After a deploy whose controller was killed before it went live, undoing that deploy is the rollback:
traffic goes back to the version it started from, and nothing more moves.

  artifact=NAME      an artifact of the config file
  environment=NAME   an environment of the config file`,

  async run(args, io) {
    const { loaded, service, stateDir, journal, ctx } = await serviceRuntime(args, io.events, io.signal);
    const deployment = newDeploymentId(ctx.clock.now());
    startNotifying(io, loaded, service, stateDir, deployment, ctx.target.notes);
    const lock = acquireLock(stateDir, service.environment, service.artifact, {
      deployment,
      command: 'rollback',
      startedAt: ctx.clock.now(),
    });
    try {
      const run = { ...ctx, events: ctx.events.child({ deployment }) };
      const recovered = await recoverIfInterrupted(run);
      if (recovered?.kind === 'deploy' && recovered.outcome === 'undone') {
        // Undoing the interrupted deploy was the way back; going on to the standby would be a second,
        // older switch nobody asked for.
        const { live } = viewOf(await ctx.target.fleet.list(), await ctx.target.router.readWeights());
        run.events.info(
          'rollback.succeeded',
          `the interrupted deploy of ${recovered.version ?? 'a new version'} was undone: ${live?.version ?? 'nothing'} takes the traffic, as before it; run rollback again to go to the standby`,
        );
        if (io.json) {
          const result = {
            type: 'rolled-back',
            deployment: recovered.deployment,
            from: recovered.version ?? '',
            to: live?.version ?? '',
          };
          io.out(JSON.stringify(result));
        }
        return ExitCode.ok;
      }
      // Starts a local agent that is down, so its fleets are found; a no-op on aws.
      await ctx.target.router.ensure();
      await settleParked(run);
      const result = await rollback(run, deployment, (live) => {
        const previous = previousVersion(journal, live?.version) ?? live?.previousVersion;
        return previous
          ? `deploy it again: cutover deploy artifact=${service.artifact} environment=${service.environment} version=${previous}`
          : 'deploy a known-good version with cutover deploy';
      });
      if (io.json) io.out(JSON.stringify(result));
      return ExitCode.ok;
    } finally {
      lock.release();
    }
  },
};
