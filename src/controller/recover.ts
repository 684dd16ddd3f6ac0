import type { ControllerContext } from './context.js';
import type { DeploymentRecord } from '../state/journal.js';
import { terminalPhases } from '../state/journal.js';
import { awaitingApproval, findParked } from './parked.js';
import { restoreBlue } from './restore.js';
import { makeLive, retireAll } from './roles.js';

/** An interrupted deployment as recovery left it: finished, undone, or one that had moved nothing. */
export type Recovered = DeploymentRecord & { outcome: 'finished' | 'undone' | 'nothing-moved' };

/**
 * A deploy or rollback whose controller died leaves its journal without an end. The next command that
 * takes the lock finishes it when green was already live, and undoes it otherwise: but only while the
 * world still is as the journal left it. Another runner may have settled it and moved on since (aws:
 * `cutover abort` from another machine, then more deploys), and an old journal must not undo their work.
 */
export async function recoverIfInterrupted(ctx: ControllerContext): Promise<Recovered | undefined> {
  const last = ctx.journal.latest();
  if (!last || terminalPhases.has(last.phase)) return undefined;
  if (last.phase === awaitingApproval) {
    // Detached on purpose: settleParked deals with it while it is parked. Once it is not, another
    // runner promoted or aborted it, and this journal only needs to say how it ended.
    const parked = await findParked(ctx);
    if (parked?.deployment === last.deployment) return undefined;
    const green = (await ctx.target.fleet.list()).find((f) => f.deployment === last.deployment);
    // Still green: another runner's promote goes on with it right now.
    if (green?.role === 'green') return undefined;
    const wentLive = green?.role === 'live' || green?.role === 'standby';
    ctx.journal.record({
      deployment: last.deployment,
      kind: 'deploy',
      phase: wentLive ? 'succeeded' : 'failed',
      at: ctx.clock.now(),
      reason: `settled elsewhere after its approval gate: ${green ? `${green.version} is ${green.role}` : 'its green fleet is gone'}`,
    });
    return undefined;
  }
  const { fleet, router } = ctx.target;
  await router.ensure();
  const fleets = await fleet.list();
  const weights = await router.readWeights();
  // Names can be reused (aws generations): a deploy's fleets are known by the deployment that made them.
  const blue = fleets.find(
    (f) => f.id === last.blue && (last.blueDeployment === undefined || f.deployment === last.blueDeployment),
  );
  const green =
    last.kind === 'deploy'
      ? fleets.find((f) => f.deployment === last.deployment)
      : fleets.find((f) => f.id === last.green);
  ctx.events.warn(
    'recovery.started',
    `${last.kind} ${last.deployment} was interrupted during ${last.phase}; finishing it`,
    {
      interrupted: last.deployment,
    },
  );
  const record = (phase: 'succeeded' | 'failed', reason: string) =>
    ctx.journal.record({ deployment: last.deployment, kind: last.kind, phase, at: ctx.clock.now(), reason });
  const settledElsewhere = (why: string): Recovered => {
    record('failed', `settled elsewhere: ${why}`);
    ctx.events.info('recovery.finished', `${last.deployment} needs nothing more: ${why}`, {
      interrupted: last.deployment,
      outcome: 'nothing-moved',
    });
    return { ...last, outcome: 'nothing-moved' };
  };

  const greenServes = green !== undefined && (weights[green.id] ?? 0) > 0;
  const finish =
    (last.kind === 'deploy' && last.phase === 'live') ||
    (last.kind === 'rollback' && green !== undefined && weights[green.id] === 100);
  if (finish) {
    if (!green || !greenServes)
      return settledElsewhere(`${green?.version ?? 'its fleet'} takes no traffic now`);
    await makeLive(ctx, green, blue);
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
    ctx.events.info('recovery.finished', `${last.deployment} completed: ${green.version} is live`, {
      interrupted: last.deployment,
      outcome: 'finished',
    });
    return { ...last, outcome: 'finished' };
  }
  if (last.kind === 'rollback') {
    record('failed', `interrupted before traffic moved`);
    ctx.events.info('recovery.finished', `${last.deployment} had not moved traffic; nothing to undo`, {
      interrupted: last.deployment,
      outcome: 'nothing-moved',
    });
    return { ...last, outcome: 'nothing-moved' };
  }
  // Only a green that is still unfinished is undone: one gone or settled was undone by someone else.
  if (green && green.role !== 'green') return settledElsewhere(`${green.version} is ${green.role} now`);
  if (!green && last.phase !== 'started' && last.phase !== 'launching') {
    return settledElsewhere('its green fleet is gone');
  }
  if (!green) {
    // Killed before its green was recorded, or after another runner undid it: either way this deploy
    // never moved traffic. Traffic on anything but its blue (or a blue no longer live) is another
    // runner's later work, which putting traffic back on blue would undo.
    const moved = Object.keys(weights).filter((id) => (weights[id] ?? 0) > 0 && id !== blue?.id);
    if (moved.length > 0) {
      const names = moved.map((id) => fleets.find((f) => f.id === id)?.version ?? id);
      return settledElsewhere(`traffic has moved on to ${names.join(', ')}`);
    }
    if (blue && blue.role !== 'live') return settledElsewhere(`${blue.version} is ${blue.role} now`);
  }
  await restoreBlue(ctx, last.deployment, blue, green, `controller stopped during ${last.phase}`);
  record('failed', `controller stopped during ${last.phase}; rolled back`);
  ctx.events.info(
    'recovery.finished',
    `${last.deployment} rolled back: traffic is on ${blue?.version ?? 'nothing'}`,
    { interrupted: last.deployment, outcome: 'undone' },
  );
  return { ...last, outcome: 'undone' };
}
