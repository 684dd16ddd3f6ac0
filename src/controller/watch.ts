import { formatDuration } from '../duration.js';
import { DeploymentFailed, describeCause } from '../errors.js';
import type { Measurement } from '../../healthchecks/types.js';
import type { FleetInfo } from '../providers/types.js';
import { unhandled } from '../../strategies/index.js';
import type { ApprovalTimeout } from '../../strategies/types.js';
import type { ControllerContext } from './context.js';
import { watchHealthy } from './health.js';
import type { Intent, IntentReply } from './intents.js';
import type { MomentKind } from '../state/journal.js';

/** A wait of a deploy: a step's pause, an approval gate, or the bake at 100%. */
export type Wait =
  | { kind: 'pause'; duration: number }
  | { kind: 'approval'; timeout: number; onTimeout: ApprovalTimeout }
  | { kind: 'bake'; duration: number };

/** How a wait ended: its time passed, or a person promoted past it (`full`: past every step to 100%). */
export type WaitEnd = 'elapsed' | 'promoted' | 'promoted-full';

/** Green as one deploy watches it, from its first share of traffic to the end of its bake. */
export interface GreenWatch {
  green: FleetInfo;
  /** The same map across every wait: one continuous watch, cut into pieces. */
  history: Map<string, Measurement[]>;
  /** The shift checks' names that cannot yet tell pass from fail: a wait does not end on them. */
  inconclusive?: () => string[];
  /** Intents this deploy already answered, so none is acted on twice. */
  answered: Set<string>;
  /** Requests could not be read at the last try: said once, not at every round, until they can again. */
  unreadable?: boolean;
  /** Told of each request acted on (and a gate that timed out), so the journal keeps the moment. */
  moment?: (kind: MomentKind, by?: string) => void;
}

const gateReminderMs = 60_000;

/**
 * Watches green through one wait, a check interval at a time, reading intents between pieces: `promote`
 * ends a pause or gate, `pause` stops its timer until `resume`, `abort` fails the deploy (traffic goes
 * back to blue). An unhealthy green fails it at once. A pause does not end while a check is inconclusive.
 */
export async function watchWait(
  ctx: ControllerContext,
  watch: GreenWatch,
  wait: Wait,
  where: { weight: number; step: number; deployment: string },
): Promise<WaitEnd> {
  const { clock } = ctx;
  const piece = Math.max(1, ctx.healthCheck.interval);
  let left = wait.kind === 'approval' ? wait.timeout : wait.duration;
  let paused = false;
  let held = '';
  let reminded = clock.now();
  const opened = clock.now();
  if (wait.kind === 'approval') gateWaiting(ctx, where, wait.timeout, left);
  for (;;) {
    const started = clock.now();
    // Held (paused, or a check still inconclusive) the watch goes on a piece at a time; otherwise it
    // stops when the wait's time is up, so a wait of 0 is one round of checks.
    const span = paused || held !== '' ? piece : Math.min(piece, Math.max(0, left));
    await watchHealthy(ctx, watch.green, span, watch.history);
    const counted = !paused;
    const intent = await nextIntent(ctx, watch, where.deployment);
    if (intent) {
      const answer = (done: boolean, message: string): Promise<void> =>
        answerIntent(ctx, where.deployment, { id: intent.id, done, message });
      switch (intent.kind) {
        case 'promote':
        case 'promote-full': {
          const full = intent.kind === 'promote-full';
          // An approval counts only when given while the gate is open: a promote meant for the step
          // before it must not approve a gate nobody has looked at yet.
          if (wait.kind === 'approval' && intent.at < opened) {
            await answer(
              false,
              `sent before this approval gate opened at ${where.weight}%; promote again to approve it`,
            );
            declined(ctx, intent, 'sent before the gate opened');
            break;
          }
          if (wait.kind === 'bake') {
            await answer(
              false,
              `green takes all traffic and bakes (${formatDuration(Math.max(0, left))} left); the bake is never skipped`,
            );
            declined(ctx, intent, 'the bake is never skipped');
            break;
          }
          await answer(
            true,
            `promoted at step ${where.step} (${where.weight}%)${full ? ': on to 100%' : ''}`,
          );
          watch.moment?.(intent.kind, intent.by);
          ctx.events.info(
            'approval.promoted',
            `${intent.by} promoted ${full ? 'to 100%' : 'to the next step'} at ${where.weight}%`,
            { weight: where.weight, step: where.step, by: intent.by, full },
          );
          return full ? 'promoted-full' : 'promoted';
        }
        case 'pause':
          if (paused) {
            await answer(false, 'already paused');
            declined(ctx, intent, 'already paused');
            break;
          }
          paused = true;
          watch.moment?.('pause', intent.by);
          await answer(true, `paused at step ${where.step} (${where.weight}%); green stays watched`);
          ctx.events.info(
            'shift.paused',
            `${intent.by} paused the deploy at ${where.weight}%: green stays watched; \`cutover resume\` goes on`,
            {
              weight: where.weight,
              step: where.step,
              by: intent.by,
            },
          );
          break;
        case 'resume':
          if (!paused) {
            await answer(false, 'not paused');
            declined(ctx, intent, 'not paused');
            break;
          }
          paused = false;
          watch.moment?.('resume', intent.by);
          await answer(true, `resumed at step ${where.step} (${where.weight}%)`);
          ctx.events.info('shift.resumed', `${intent.by} resumed the deploy at ${where.weight}%`, {
            weight: where.weight,
            step: where.step,
            by: intent.by,
          });
          break;
        case 'abort':
          watch.moment?.('abort', intent.by);
          await answer(true, `aborting at step ${where.step} (${where.weight}%): traffic goes back to blue`);
          throw new DeploymentFailed(
            'ABORTED',
            `${intent.by} aborted the deploy at ${where.weight}% (cutover abort)`,
            'traffic is back on the previous version',
          );
        default:
          unhandled(intent.kind);
      }
    }
    // The whole round counts, reading requests too: where that is a round trip (hosts: SSH to the load
    // balancer host) a wait counted only while watching lasted several times what it was set to.
    if (counted) left -= clock.now() - started;
    if (paused || left > 0) {
      if (wait.kind === 'approval' && !paused && clock.now() - reminded >= gateReminderMs) {
        reminded = clock.now();
        gateWaiting(ctx, where, wait.timeout, left);
      }
      continue;
    }
    if (wait.kind === 'approval') {
      ctx.events.warn(
        'approval.timed_out',
        `nobody approved within ${formatDuration(wait.timeout)}: ${wait.onTimeout === 'abort' ? 'traffic goes back to blue' : 'going on, as onTimeout says'}`,
        { weight: where.weight, step: where.step, onTimeout: wait.onTimeout },
      );
      watch.moment?.('approval-timeout');
      if (wait.onTimeout === 'promote') return 'promoted';
      throw new DeploymentFailed(
        'APPROVAL_TIMED_OUT',
        `nobody approved the deploy at ${where.weight}% within ${formatDuration(wait.timeout)}`,
        'deploy again and run `cutover promote` while it waits, or raise strategy.approval.timeout',
      );
    }
    const waiting = watch.inconclusive?.() ?? [];
    if (waiting.length === 0) return 'elapsed';
    const names = waiting.join(', ');
    if (names !== held) {
      held = names;
      ctx.events.info(
        'shift.watching',
        `holding ${where.weight}% until ${names} can decide: inconclusive is never a pass`,
        { weight: where.weight, ms: 0, step: where.step },
      );
    }
  }
}

function gateWaiting(
  ctx: ControllerContext,
  where: { weight: number; step: number },
  timeout: number,
  left: number,
): void {
  ctx.events.info(
    'approval.waiting',
    `waiting for approval with green at ${where.weight}%: run \`cutover promote\` (or \`cutover abort\`) with the same artifact and environment; ${formatDuration(Math.max(0, left))} left`,
    { weight: where.weight, step: where.step, timeoutMs: timeout, leftMs: Math.max(0, left) },
  );
}

function declined(ctx: ControllerContext, intent: Intent, reason: string): void {
  ctx.events.warn('intent.declined', `${intent.by} asked to ${intent.kind}: ${reason}`, {
    intent: intent.kind,
    by: intent.by,
    reason,
  });
}

/** The deployment's intent if it is new; a store that cannot be read is said, and the watch goes on. */
async function nextIntent(
  ctx: ControllerContext,
  watch: GreenWatch,
  deployment: string,
): Promise<Intent | undefined> {
  if (!ctx.intents) return undefined;
  try {
    const { intent, reply } = await ctx.intents.read(deployment);
    if (watch.unreadable) {
      watch.unreadable = false;
      ctx.events.info('target.note', 'requests for the deploy (promote, pause, abort) can be read again');
    }
    if (!intent || watch.answered.has(intent.id) || reply?.id === intent.id) return undefined;
    watch.answered.add(intent.id);
    return intent;
  } catch (error) {
    if (watch.unreadable) return undefined;
    watch.unreadable = true;
    ctx.events.warn(
      'target.note',
      `could not read requests for the deploy (promote, pause, abort): ${describeCause(error)}; trying again each round, said once`,
    );
    return undefined;
  }
}

async function answerIntent(ctx: ControllerContext, deployment: string, reply: IntentReply): Promise<void> {
  try {
    await ctx.intents?.reply(deployment, reply);
  } catch (error) {
    ctx.events.warn('target.note', `could not answer a request: ${describeCause(error)}`);
  }
}
