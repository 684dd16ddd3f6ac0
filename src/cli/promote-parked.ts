import { randomBytes } from 'node:crypto';
import { continueDeploy } from '../controller/deploy.js';
import { claimParked, isExpired, undoParked, type Parked } from '../controller/parked.js';
import { recoverIfInterrupted } from '../controller/recover.js';
import { DeploymentFailed } from '../errors.js';
import { startNotifying } from '../notify/start.js';
import { acquireLock } from '../state/lock.js';
import { ExitCode } from './exit-codes.js';
import type { CommandIO } from './command.js';
import type { ServiceRuntime } from './runtime.js';

/**
 * `cutover promote` of a deploy detached at its pre-traffic gate: nobody runs it, so this process goes
 * on with it, under the lock, as the deploy would have. A gate that has closed is undone instead.
 */
export async function promoteParked(
  runtime: ServiceRuntime,
  io: CommandIO,
  parked: Parked,
  full: boolean,
): Promise<number> {
  const { loaded, service, stateDir, ctx } = runtime;
  startNotifying(io, loaded, service, stateDir, parked.deployment, ctx.target.notes);
  const lock = acquireLock(stateDir, service.environment, service.artifact, {
    deployment: parked.deployment,
    command: 'promote',
    startedAt: ctx.clock.now(),
  });
  try {
    const run = {
      ...ctx,
      events: ctx.events.child({ deployment: parked.deployment, version: parked.version }),
    };
    await recoverIfInterrupted(run);
    if (isExpired(run, parked)) {
      const closed = new Date(parked.until).toISOString();
      await undoParked(run, parked, `its approval gate closed at ${closed} before it was promoted`);
      throw new DeploymentFailed(
        'APPROVAL_TIMED_OUT',
        `deployment ${parked.deployment} of \`${parked.version}\` waited for approval until ${closed}; it was promoted too late and is undone`,
        'deploy again (with --detach) and promote it while its gate is open, or raise strategy.approval.timeout',
      );
    }
    await claimParked(run, parked, `${parked.deployment}-${randomBytes(3).toString('hex')}`);
    io.events.info(
      'approval.promoted',
      `promoted ${parked.version}${full ? ' to 100%' : ''}: this process goes on with the deploy`,
      {
        weight: 0,
        step: parked.step,
        by: 'cutover promote',
        full,
      },
    );
    const result = await continueDeploy(run, parked, full);
    if (io.json) io.out(JSON.stringify(result));
    else io.out(`promote: ${parked.version} is live (deployment ${parked.deployment})`);
    return ExitCode.ok;
  } finally {
    lock.release();
  }
}
