import { formatDuration } from '../duration.js';
import { CutoverError, DeploymentFailed, LockHeld, describeCause } from '../errors.js';
import type { FleetInfo } from '../providers/types.js';
import { unhandled } from '../../strategies/index.js';
import type { Step } from '../../strategies/types.js';
import type { JournalEntry, MomentKind, Phase } from '../state/journal.js';
import { blueOf, parkedNotes, type Parked } from './parked.js';
import { stepsToRun } from './steps.js';
import type { ControllerContext } from './context.js';
import { viewOf } from './fleets.js';
import { waitHealthy } from './health.js';
import { watchWait, type GreenWatch } from './watch.js';
import { shiftChecks, validateShiftChecks, type ShiftChecks } from './shift-checks.js';
import { restoreBlue } from './restore.js';
import { makeLive, reconcileRoles, retireAll } from './roles.js';
import { shift } from './shift.js';

export interface DeployRequest {
  deployment: string;
  version: string;
  /** Stop at the pre-traffic approval gate and leave the deploy there for `cutover promote`. */
  detach?: boolean;
}

export type DeployResult =
  | { type: 'deployed'; deployment: string; version: string; previous: string | undefined; ms: number }
  /** Detached at the pre-traffic gate: green checked, no traffic, waiting until `until`. */
  | { type: 'awaiting-approval'; deployment: string; version: string; until: number; ms: number };

/**
 * Green is promoted only as this deploy left it: unfinished and taking traffic. Where the target's state
 * is shared (aws), `cutover abort` on another runner may have undone it during the bake.
 */
async function greenStillOurs(ctx: ControllerContext, green: FleetInfo): Promise<void> {
  const [fleets, weights] = await Promise.all([ctx.target.fleet.list(), ctx.target.router.readWeights()]);
  const now = fleets.find((f) => f.id === green.id && f.deployment === green.deployment);
  if (now?.role === 'green' && (weights[green.id] ?? 0) > 0) return;
  throw new DeploymentFailed(
    'GREEN_TAKEN_AWAY',
    `green \`${green.id}\` of \`${green.version}\` ${now ? `is ${now.role} and takes ${weights[green.id] ?? 0}% of traffic` : 'is gone'}: another runner undid this deploy (cutover abort) during its bake`,
    'run cutover status to see what serves now',
  );
}

/**
 * launch green → wait ready → health checks → shift step by step, watching → bake → green live,
 * blue standby. Any failure before green is live puts traffic back on blue and stops green.
 */
export async function deploy(ctx: ControllerContext, request: DeployRequest): Promise<DeployResult> {
  const { deployment, version } = request;
  const { fleet, router } = ctx.target;
  const started = ctx.clock.now();

  await ctx.target.preflight(version);
  await validateShiftChecks(ctx, version, deployment);
  await router.ensure();
  const fleets = await fleet.list();
  const busy = fleets.find((f) => f.inProgress);
  if (busy) {
    throw new LockHeld(
      'DEPLOY_IN_PROGRESS',
      `deployment ${busy.deployment} of \`${busy.version}\` (fleet \`${busy.id}\`) has not gone live: it is running, or its controller died`,
      'wait for it to finish; if its controller died, `cutover abort` with the same artifact and environment undoes it from any machine',
    );
  }
  const weightsNow = await router.readWeights();
  const view = (await reconcileRoles(ctx, fleets, weightsNow))
    ? viewOf(await fleet.list(), weightsNow)
    : viewOf(fleets, weightsNow);
  const blue = view.live;
  // A kept failed fleet is no rollback target; the standby is, and stays until green is live unless
  // green needs its place (aws: its target group).
  const givesWay = ctx.target.standbyGivesWay ? view.standby : undefined;
  const useless = view.idle.filter((f) => f !== view.standby || f === givesWay);
  ctx.journal.record({
    deployment,
    kind: 'deploy',
    phase: 'started',
    at: ctx.clock.now(),
    version,
    blue: blue?.id,
    blueDeployment: blue?.deployment,
    ...(blue ? { blueVersion: blue.version } : {}),
    ...(ctx.actor ? { by: ctx.actor } : {}),
    strategyName: ctx.strategy.name,
  });
  ctx.events.info(
    'deploy.started',
    (blue
      ? `deploying ${version}; ${blue.version} takes traffic now`
      : `deploying ${version}; nothing takes traffic yet`) +
      (givesWay
        ? `; standby ${givesWay.version} gives way to the new green, so rollback reaches ${blue?.version ?? 'nothing'} only`
        : ''),
    { blue: blue?.version },
  );
  await retireAll(
    ctx,
    useless,
    (old) =>
      old === givesWay
        ? `retired standby ${old.version}: the new green takes its place`
        : `retired ${old.version} (${old.role}): it is no rollback target`,
    false,
  );

  const run = runOf(ctx, deployment, version, blue);
  // A launch that fails created nothing, and one that lost the race for its name (LockHeld) must not
  // touch traffic at all: the winner may be shifting it. Neither needs the way back.
  run.record('launching', { green: deployment });
  ctx.events.info('green.launching', `starting a fleet of ${version}`);
  let green: FleetInfo;
  try {
    green = await fleet.launch({ id: deployment, version, deployment, by: ctx.actor });
  } catch (error) {
    throw run.fail(error);
  }
  run.record('launching', { green: green.id });

  try {
    const deadline = ctx.clock.now() + ctx.healthCheck.readyTimeout;
    let lastProgress = ctx.clock.now();
    const progress = (message: string) => {
      if (ctx.clock.now() - lastProgress < 2000) return;
      lastProgress = ctx.clock.now();
      ctx.events.info('green.launching', `waiting for ${version} to start: ${message}`);
    };
    green = await fleet.waitReady(green.id, deadline, progress, ctx.signal);
    ctx.events.info('green.launched', `${green.instances.length} instances of ${version} are running`, {
      fleet: green.id,
    });
    run.record('checking');
    await waitHealthy(ctx, green, deadline);
  } catch (error) {
    throw await run.undo(error, green);
  }
  const steps = stepsToRun(ctx.strategy, blue !== undefined);
  if (request.detach) return park(ctx, run, green, steps, started);
  return shiftAndGoLive(ctx, run, green, steps, started, false);
}

/**
 * Goes on with a deploy detached at its pre-traffic gate, from the step after the gate: green is checked
 * again first (the gate may have waited an hour), then traffic moves as the strategy it started with says.
 */
export async function continueDeploy(
  ctx: ControllerContext,
  parked: Parked,
  full: boolean,
): Promise<DeployResult> {
  const started = ctx.clock.now();
  const blue = await blueOf(ctx, parked);
  const { deployment, version, green } = parked;
  const run = runOf(ctx, deployment, version, blue);
  // Promoted: the gate no longer closes on it (the local agent would retire it at its old time).
  await ctx.target.fleet.expireGreen?.(green.id, Number.MAX_SAFE_INTEGER);
  run.record('checking', {
    green: green.id,
    blue: blue?.id,
    blueDeployment: blue?.deployment,
    moment: { kind: full ? 'promote-full' : 'promote', by: ctx.actor },
  });
  ctx.events.info(
    'deploy.started',
    `promoted: going on with ${version} from its approval gate; ${blue ? `${blue.version} takes traffic now` : 'nothing takes traffic yet'}`,
    { blue: blue?.version },
  );
  try {
    await waitHealthy(ctx, green, ctx.clock.now() + ctx.healthCheck.readyTimeout);
  } catch (error) {
    throw await run.undo(error, green);
  }
  const steps = stepsToRun(parked.strategy, blue !== undefined).filter(([index]) => index > parked.step);
  return shiftAndGoLive({ ...ctx, strategy: parked.strategy }, run, green, steps, started, full);
}

/** What one deploy records, how it fails, and its one way back, around the blue it started from. */
function runOf(ctx: ControllerContext, deployment: string, version: string, blue: FleetInfo | undefined) {
  let phaseNow: Phase = 'started';
  const record = (phase: Phase, extra: Partial<JournalEntry> = {}) => {
    if (phase !== 'failed') phaseNow = phase;
    ctx.journal.record({ deployment, kind: 'deploy', phase, at: ctx.clock.now(), version, ...extra });
  };
  let aborted = false;
  /** A moment from outside (a promote, a pause) recorded in the phase the deploy is in. */
  const moment = (kind: MomentKind, by?: string) => {
    if (kind === 'abort') aborted = true;
    record(phaseNow, { moment: { kind, by } });
  };
  const fail = (error: unknown): CutoverError => {
    const reason = error instanceof CutoverError ? error.message : describeCause(error);
    record('failed', { reason, failedIn: phaseNow });
    const failure =
      error instanceof CutoverError
        ? error
        : new DeploymentFailed('DEPLOY_FAILED', `deploying \`${version}\` failed: ${reason}`, undefined, {
            cause: error,
          });
    ctx.events.error(
      'deploy.failed',
      // The CLI prints the failure itself, with what to do next; this event is the summary notifiers get.
      `deploy of ${version} failed (${failure.code}); traffic is on ${blue?.version ?? 'nothing, as before'}`,
      { error: failure.code, reason: failure.message },
    );
    return failure;
  };
  /** Traffic back on blue and green stopped, then the failure to throw. */
  const undo = async (error: unknown, green: FleetInfo): Promise<CutoverError> => {
    const reason = describeCause(error);
    // Stopped from outside (`cutover abort`'s SIGTERM, Ctrl-C, a library caller's AbortSignal); `cutover
    // abort` leaves who asked as the deployment's intent just before its signal.
    if (ctx.signal.aborted && !aborted) {
      const asked = await ctx.intents?.read(deployment).catch(() => undefined);
      const intent = asked?.intent;
      moment(
        'abort',
        intent?.kind === 'abort' && ctx.clock.now() - intent.at < 60_000 ? intent.by : undefined,
      );
    }
    try {
      await restoreBlue(ctx, deployment, blue, green, reason);
    } catch (backError) {
      // The journal still says rolling-back: whichever cutover command runs next finishes the way back.
      return new DeploymentFailed(
        'ROLLBACK_INCOMPLETE',
        `deploying \`${version}\` failed (${reason}), and traffic could not be put back on \`${blue?.version ?? 'nothing'}\` yet: ${describeCause(backError)}`,
        `run \`cutover abort\` with the same artifact and environment: it puts traffic back from the journal`,
        { cause: backError },
      );
    }
    return fail(error);
  };
  return { deployment, version, blue, record, moment, fail, undo };
}

type Run = ReturnType<typeof runOf>;

/**
 * `deploy --detach`: the first step is the pre-traffic gate (the command checked). The deploy is
 * recorded as awaiting approval where every runner reads it, and this process leaves it there.
 */
async function park(
  ctx: ControllerContext,
  run: Run,
  green: FleetInfo,
  steps: [number, Step][],
  started: number,
): Promise<DeployResult> {
  const first = steps[0];
  if (!first || first[1].kind !== 'approval')
    throw await run.undo(new Error('--detach needs an approval gate before any traffic moves'), green);
  const [step, gate] = first;
  const until = ctx.clock.now() + gate.timeout;
  run.record('awaiting-approval', { step, gateUntil: until, strategy: ctx.strategy });
  try {
    // Without the note another runner would take green for one whose controller died, and undo it.
    if (
      ctx.target.notes &&
      !(await ctx.target.notes.write(run.deployment, parkedNotes({ step, until, strategy: ctx.strategy })))
    )
      throw new Error('the green fleet has no place for notes');
    await ctx.target.fleet.expireGreen?.(green.id, until);
  } catch (error) {
    throw await run.undo(
      new Error(`could not record the deploy as awaiting approval: ${describeCause(error)}`),
      green,
    );
  }
  ctx.events.info(
    'approval.detached',
    `${run.version} is checked and waits for approval with no traffic until ${new Date(until).toISOString()}: \`cutover promote\` (from any runner) goes on, \`cutover abort\` undoes it`,
    { until },
  );
  return {
    type: 'awaiting-approval',
    deployment: run.deployment,
    version: run.version,
    until,
    ms: ctx.clock.now() - started,
  };
}

const checkRecordEveryMs = 5000;

/** The strategy's steps, the bake, then green live and blue standby. Any failure puts traffic back on blue. */
async function shiftAndGoLive(
  ctx: ControllerContext,
  run: Run,
  green: FleetInfo,
  steps: [number, Step][],
  started: number,
  promotedFull: boolean,
): Promise<DeployResult> {
  const { deployment, version, blue, record } = run;
  let checks: ShiftChecks | undefined;
  try {
    let phase: Phase = 'shifting';
    let weight = 0;
    /** The weight green takes once a shift has gone through: what the checks' readings measured. */
    let watchedWeight = 0;
    let lastRecorded = 0;
    const told = new Map<string, string>();
    checks = await shiftChecks(ctx, green, blue, deployment, (reading, all) => {
      // Every change of outcome is said; the journal keeps the latest readings for `status --watch`
      // and the report, at a bounded rate (each record is a write and an fsync).
      const changed = told.get(reading.check) !== reading.outcome;
      told.set(reading.check, reading.outcome);
      if (changed && reading.outcome !== 'fail')
        ctx.events.info('check.reading', `${reading.check} ${reading.outcome}: ${reading.detail}`, {
          check: reading.check,
          outcome: reading.outcome,
          detail: reading.detail,
          weight: watchedWeight,
        });
      if (!changed && ctx.clock.now() - lastRecorded < checkRecordEveryMs) return;
      lastRecorded = ctx.clock.now();
      record(phase, {
        checks: Object.fromEntries(
          all.map((r) => [
            r.check,
            {
              outcome: r.outcome,
              detail: r.detail,
              at: r.at,
              // The number measured and its limit, for the report to draw against each other.
              ...(r.value !== undefined ? { value: r.value } : {}),
              ...(r.threshold !== undefined ? { threshold: r.threshold } : {}),
              ...(r.counted ? { counted: r.counted } : {}),
            },
          ]),
        ),
      });
    });
    // The waits and shifts run on the checks' signal: a failing check ends them like an abort.
    const loop: ControllerContext = { ...ctx, signal: checks.signal };
    const watching = checks;
    const watch: GreenWatch = {
      green,
      history: new Map(),
      answered: new Set(),
      inconclusive: () => watching.inconclusive(),
      moment: run.moment,
    };
    let full = promotedFull;
    for (const [index, step] of steps) {
      const where = { weight, step: index, deployment };
      // `cutover promote --full`: straight to 100%, past every step and gate between.
      if (full && !(step.kind === 'setWeight' && step.weight === 100)) continue;
      switch (step.kind) {
        case 'setWeight': {
          weight = step.weight;
          const weights =
            blue && step.weight < 100
              ? { [green.id]: step.weight, [blue.id]: 100 - step.weight }
              : { [green.id]: step.weight };
          record('shifting', { weights, step: index });
          await noteStep(ctx, deployment, index);
          await shift(loop, weights);
          watchedWeight = weight;
          checks.at({ step: index, weight, phase: 'step' });
          break;
        }
        case 'pause':
          ctx.events.info(
            'shift.watching',
            `watching ${version} take ${weight}% of traffic for ${formatDuration(step.duration)}`,
            { weight, ms: step.duration, step: index },
          );
          full =
            (await watchWait(loop, watch, { kind: 'pause', duration: step.duration }, where)) ===
            'promoted-full';
          break;
        case 'approval':
          record(weight > 0 ? 'shifting' : 'checking', { step: index });
          await noteStep(ctx, deployment, index);
          full = (await watchWait(loop, watch, step, where)) === 'promoted-full';
          break;
        default:
          unhandled(step);
      }
    }

    phase = 'baking';
    record('baking');
    checks.at({ step: steps.at(-1)?.[0] ?? 0, weight: 100, phase: 'bake' });
    ctx.events.info('bake.started', `watching ${version} take all traffic for ${formatDuration(ctx.bake)}`);
    await watchWait(loop, watch, { kind: 'bake', duration: ctx.bake }, { weight: 100, step: -1, deployment });
    await greenStillOurs(ctx, green);
    await checks.stop();
    ctx.events.info('bake.passed', `${version} stayed healthy for ${formatDuration(ctx.bake)}`);
  } catch (error) {
    await checks?.stop();
    // A check's failure reaches the waits as their signal's reason; the deploy's own abort stays its own.
    const cause = checks?.signal.aborted && !ctx.signal.aborted ? (checks.signal.reason as unknown) : error;
    throw await run.undo(cause, green);
  }

  record('live');
  try {
    await makeLive(ctx, green, blue);
  } catch (error) {
    // Green took all traffic and baked: going back now would be a second change nobody asked for.
    throw new DeploymentFailed(
      'PROMOTE_INCOMPLETE',
      `\`${version}\` took all traffic and passed its bake, but could not be recorded as live: ${describeCause(error)}`,
      'traffic stays on it; the next cutover deploy, rollback or abort of this artifact and environment finishes recording it (or run `cutover rollback` then to go back)',
      { cause: error },
    );
  }
  // At most two fleets once a deploy ends: the new live one and its standby.
  const left = (await ctx.target.fleet.list()).filter((f) => f.id !== green.id && f.id !== blue?.id);
  await retireAll(
    ctx,
    left,
    (old) =>
      `retired ${old.version}: ${blue ? `${blue.version} is the standby now` : `${version} replaced it`}`,
    true,
  );
  const ms = ctx.clock.now() - started;
  record('succeeded');
  ctx.events.info('deploy.succeeded', `${version} is live (took ${formatDuration(ms)})`, { ms });
  return { type: 'deployed', deployment, version, previous: blue?.version, ms };
}

/**
 * Where the target keeps notes every runner reads (aws: the green group's tags), the step too, for
 * `status` and the report on another runner. Only information: a note that cannot be written is said,
 * and the deploy goes on.
 */
async function noteStep(ctx: ControllerContext, deployment: string, step: number): Promise<void> {
  try {
    await ctx.target.notes?.write(deployment, { step: String(step) });
  } catch (error) {
    ctx.events.warn(
      'target.note',
      `could not record step ${step} with the deployment: ${describeCause(error)}`,
    );
  }
}
