import { randomBytes } from 'node:crypto';
import { continueDeploy, type DeployResult } from './deploy.js';
import { claimParked, isExpired, undoParked, type Parked } from './parked.js';
import { recoverIfInterrupted } from './recover.js';
import { DeploymentFailed } from '../errors.js';
import { underLock } from './locked.js';
import type { ServiceRuntime } from './runtime.js';

/**
 * `cutover promote` of a deploy detached at its pre-traffic gate: nobody runs it, so this process goes
 * on with it, under the lock, as the deploy would have. A gate that has closed is undone instead.
 */
export async function promoteParked(
  runtime: ServiceRuntime,
  parked: Parked,
  full: boolean,
): Promise<DeployResult> {
  const holder = { deployment: parked.deployment, command: 'promote' };
  const fields = { deployment: parked.deployment, version: parked.version };
  return underLock(runtime, holder, fields, async (run) => {
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
    run.events.info(
      'approval.promoted',
      `promoted ${parked.version}${full ? ' to 100%' : ''}: this process goes on with the deploy`,
      { weight: 0, step: parked.step, by: 'cutover promote', full },
    );
    return continueDeploy(run, parked, full);
  });
}
