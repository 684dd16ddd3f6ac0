import { LockHeld } from '../errors.js';
import type { FleetInfo } from '../providers/types.js';
import type { Strategy } from '../../strategies/types.js';
import type { JournalEntry } from '../state/journal.js';
import type { ControllerContext } from './context.js';
import { viewOf } from './fleets.js';
import { restoreBlue } from './restore.js';

/**
 * A deploy detached at its pre-traffic approval gate (`deploy --detach`): green launched and checked,
 * taking no traffic, its controller gone on purpose. `cutover promote` from any runner continues it;
 * `abort`, or its gate's timeout passing, undoes it. The journal says so on the runner that detached;
 * where the target keeps notes (aws tags), they say so to every runner.
 */
export interface Parked {
  deployment: string;
  version: string;
  green: FleetInfo;
  /** The gate's index in the strategy's steps: the deploy goes on from the step after it. */
  step: number;
  /** When the gate's timeout passes (epoch ms). */
  until: number;
  /** The strategy the deploy started with (a `strategy=NAME` of the deploy command included). */
  strategy: Strategy;
}

export const awaitingApproval = 'awaiting-approval';

/** The notes that mark a parked deploy, written where every runner reads them. */
export function parkedNotes(
  parked: Omit<Parked, 'green' | 'version' | 'deployment'>,
): Record<string, string> {
  return {
    phase: awaitingApproval,
    step: String(parked.step),
    'gate-until': String(parked.until),
    strategy: JSON.stringify(parked.strategy),
  };
}

/** The parked deploy of this artifact and environment, if one is; reads only. */
export async function findParked(ctx: ControllerContext): Promise<Parked | undefined> {
  const green = (await ctx.target.fleet.list()).find((f) => f.role === 'green');
  if (!green) return undefined;
  const notes = await ctx.target.notes?.read(green.deployment).catch(() => undefined);
  if (notes?.phase === awaitingApproval) {
    const step = Number(notes.step);
    const until = Number(notes['gate-until']);
    if (Number.isInteger(step) && Number.isFinite(until)) {
      return {
        deployment: green.deployment,
        version: green.version,
        green,
        step,
        until,
        strategy: strategyFrom(notes.strategy) ?? ctx.strategy,
      };
    }
  }
  const record = ctx.journal.deployments().find((d) => d.deployment === green.deployment);
  if (record?.phase !== awaitingApproval || record.step === undefined || record.gateUntil === undefined)
    return undefined;
  return {
    deployment: green.deployment,
    version: green.version,
    green,
    step: record.step,
    until: record.gateUntil,
    strategy: record.strategy ?? ctx.strategy,
  };
}

export function isExpired(ctx: ControllerContext, parked: Parked): boolean {
  return ctx.clock.now() >= parked.until;
}

function strategyFrom(text: string | undefined): Strategy | undefined {
  try {
    const parsed = JSON.parse(text ?? '') as Strategy;
    return typeof parsed === 'object' && parsed !== null && 'name' in parsed ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Before a deploy or rollback: a parked deploy whose gate is open holds the environment (exit 3, naming
 * it); one whose gate has closed is undone first: its traffic was 0%, so nothing is at risk.
 */
export async function settleParked(ctx: ControllerContext): Promise<void> {
  const parked = await findParked(ctx);
  if (!parked) return;
  if (!isExpired(ctx, parked)) {
    throw new LockHeld(
      'DEPLOY_AWAITING_APPROVAL',
      `deployment ${parked.deployment} of \`${parked.version}\` waits for approval until ${new Date(parked.until).toISOString()}, with no traffic: it holds this environment`,
      '`cutover promote` goes on with it; `cutover abort` undoes it',
    );
  }
  await undoParked(
    ctx,
    parked,
    `its approval gate closed at ${new Date(parked.until).toISOString()} with nobody promoting it`,
  );
}

/** The fleet that serves while a parked deploy waits: the one its promotion or its undoing goes from. */
export async function blueOf(ctx: ControllerContext, parked: Parked): Promise<FleetInfo | undefined> {
  const [fleets, weights] = await Promise.all([ctx.target.fleet.list(), ctx.target.router.readWeights()]);
  return viewOf(
    fleets.filter((f) => f.id !== parked.green.id),
    weights,
  ).live;
}

/** Stops a parked deploy's green through the one way back (traffic stays where it is: on blue). */
export async function undoParked(
  ctx: ControllerContext,
  parked: Parked,
  reason: string,
  moment: JournalEntry['moment'] = { kind: 'approval-timeout' },
): Promise<void> {
  const blue = await blueOf(ctx, parked);
  ctx.events.warn('recovery.started', `undoing ${parked.deployment} of ${parked.version}: ${reason}`, {
    interrupted: parked.deployment,
  });
  await restoreBlue(ctx, parked.deployment, blue, parked.green, reason);
  ctx.journal.record({
    deployment: parked.deployment,
    kind: 'deploy',
    phase: 'failed',
    at: ctx.clock.now(),
    reason,
    moment,
  });
  ctx.events.info(
    'recovery.finished',
    `${parked.deployment} undone: traffic stays on ${blue?.version ?? 'nothing'}`,
    {
      interrupted: parked.deployment,
      outcome: 'undone',
    },
  );
}

/**
 * Where two runners may promote the same parked deploy at once (aws), each writes its claim, waits, and
 * reads back: tags keep the last write, so only one sees its own. On one machine the lock decides.
 */
export async function claimParked(ctx: ControllerContext, parked: Parked, claim: string): Promise<void> {
  const notes = ctx.target.notes;
  if (!notes) return;
  await notes.write(parked.deployment, { phase: 'promoted', 'promoted-by': claim });
  await ctx.clock.sleep(claimSettleMs, ctx.signal);
  const now = await notes.read(parked.deployment);
  if (now?.['promoted-by'] !== claim) {
    throw new LockHeld(
      'DEPLOY_IN_PROGRESS',
      `another runner promoted deployment ${parked.deployment} at the same moment and goes on with it`,
      'cutover status shows its progress',
    );
  }
}

const claimSettleMs = 2000;
