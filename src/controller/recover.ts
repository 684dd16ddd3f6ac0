import type { ControllerContext } from './context.js';
import type { DeploymentRecord } from '../state/journal.js';
import { terminalPhases } from '../state/journal.js';
import { restoreBlue } from './restore.js';
import { makeLive, retireAll } from './roles.js';

/** An interrupted deployment as recovery left it: finished, undone, or one that had moved nothing. */
export type Recovered = DeploymentRecord & { outcome: 'finished' | 'undone' | 'nothing-moved' };

/**
 * A deploy or rollback whose controller died leaves its journal without an end. The next command that
 * takes the lock finishes it when green was already live, and undoes it otherwise.
 */
export async function recoverIfInterrupted(ctx: ControllerContext): Promise<Recovered | undefined> {
  const last = ctx.journal.latest();
  if (!last || terminalPhases.has(last.phase)) return undefined;
  const { fleet, router } = ctx.target;
  await router.ensure();
  const fleets = await fleet.list();
  const blue = fleets.find((f) => f.id === last.blue);
  // A target may name the fleet itself (an Auto Scaling group's name): then the deployment finds it.
  const green = fleets.find(
    (f) => f.id === last.green || (last.kind === 'deploy' && f.deployment === last.deployment),
  );
  ctx.events.warn(
    'recovery.started',
    `${last.kind} ${last.deployment} was interrupted during ${last.phase}; finishing it`,
    {
      interrupted: last.deployment,
    },
  );
  const record = (phase: 'succeeded' | 'failed', reason: string) =>
    ctx.journal.record({ deployment: last.deployment, kind: last.kind, phase, at: ctx.clock.now(), reason });

  const weights = await router.readWeights();
  const greenTakesAll = green !== undefined && weights[green.id] === 100;
  if ((last.kind === 'deploy' && last.phase === 'live') || (last.kind === 'rollback' && greenTakesAll)) {
    if (green) await makeLive(ctx, green, blue);
    if (last.kind === 'deploy') {
      const left = fleets.filter((f) => f !== green && f !== blue);
      await retireAll(
        ctx,
        left,
        (old) => `retired ${old.version}: the interrupted deploy had replaced it`,
        true,
      );
    }
    record('succeeded', `completed after an interruption during ${last.phase}`);
    ctx.events.info(
      'recovery.finished',
      `${last.deployment} completed: ${green?.version ?? 'green'} is live`,
    );
    return { ...last, outcome: 'finished' };
  }
  if (last.kind === 'rollback') {
    record('failed', `interrupted before traffic moved`);
    ctx.events.info('recovery.finished', `${last.deployment} had not moved traffic; nothing to undo`);
    return { ...last, outcome: 'nothing-moved' };
  }
  await restoreBlue(ctx, last.deployment, blue, green, `controller stopped during ${last.phase}`);
  record('failed', `controller stopped during ${last.phase}; rolled back`);
  ctx.events.info(
    'recovery.finished',
    `${last.deployment} rolled back: traffic is on ${blue?.version ?? 'nothing'}`,
  );
  return { ...last, outcome: 'undone' };
}
