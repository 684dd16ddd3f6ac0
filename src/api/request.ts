import { hostname } from 'node:os';
import { isSameProcess } from '../providers/local/processes.js';
import { lockPath, readHolder } from '../state/lock.js';
import { DeploymentFailed, UserInputError } from '../errors.js';
import type { IntentKind } from '../controller/intents.js';
import { answerWaitMs, askDeploy } from '../controller/ask-deploy.js';
import { findParked } from '../controller/parked.js';
import { promoteParked } from '../controller/promote-parked.js';
import { serviceRuntime, type ServiceOptions } from '../controller/runtime.js';
import { startNotifying } from '../notify/start.js';
import { perform, type CommandOptions, type Host } from './perform.js';
import type { PromoteResult, RequestResult } from './results.js';

export type RequestOptions = ServiceOptions & CommandOptions;

export interface PromoteOptions extends RequestOptions {
  /** Skip every remaining step and gate, straight to 100% (the bake is never skipped). */
  full?: boolean | undefined;
}

/**
 * Moves the running deploy past its current step or approval gate. A deploy detached at its gate
 * (`deploy --detach`) is gone on with here, in this process: that resolves `deployed`.
 */
export function promote(options: PromoteOptions & Host): Promise<PromoteResult> {
  return sendRequest(options, options.full ? 'promote-full' : 'promote');
}

/** Holds the running deploy at its current weight (green stays watched) until `resume`. */
export function pause(options: RequestOptions & Host): Promise<RequestResult> {
  return sendRequest(options, 'pause') as Promise<RequestResult>;
}

export function resume(options: RequestOptions & Host): Promise<RequestResult> {
  return sendRequest(options, 'resume') as Promise<RequestResult>;
}

const answered = {
  promote: 'promoted',
  'promote-full': 'promoted',
  pause: 'paused',
  resume: 'resumed',
} as const;

/**
 * Records the request with the running deployment where every runner reaches it, then waits for the
 * deploy's answer. Rejected when there is nothing to act on, failed when no deploy answered in time.
 */
function sendRequest(
  options: RequestOptions & Host,
  kind: Exclude<IntentKind, 'abort'>,
): Promise<PromoteResult> {
  return perform(options, async (io, scope) => {
    const runtime = await serviceRuntime(options, io.events, io.signal, io.clock, io.stopsOnSignal);
    scope.runtime = runtime;
    const { loaded, service, stateDir, ctx } = runtime;
    const verb = kind === 'promote-full' ? 'promote' : kind;
    const parked = await findParked(ctx);
    if (parked) {
      if (kind === 'promote' || kind === 'promote-full') {
        scope.deployment = parked.deployment;
        scope.version = parked.version;
        startNotifying(io, loaded, service, stateDir, parked.deployment, ctx.target.notes);
        const result = await promoteParked(runtime, parked, kind === 'promote-full');
        if (result.type !== 'deployed') throw new Error(`a promoted deploy ended ${result.type}`);
        return { ...result, previous: result.previous ?? null };
      }
      throw new UserInputError(
        'NOTHING_TO_ACT_ON',
        `deployment ${parked.deployment} of \`${parked.version}\` waits for approval with no traffic and no process running it: nothing to ${verb}`,
        '`cutover promote` goes on with it; `cutover abort` undoes it',
      );
    }
    const green = (await ctx.target.fleet.list()).find((f) => f.role === 'green');
    if (!green || !ctx.intents) {
      throw new UserInputError(
        'NOTHING_TO_ACT_ON',
        `no deploy of \`${service.artifact}\` in \`${service.environment}\` is under way: nothing to ${verb}`,
        `\`cutover status artifact=${service.artifact} environment=${service.environment}\` shows what runs`,
      );
    }
    scope.deployment = green.deployment;
    scope.version = green.version;
    // On one machine the deploy holds the lock while it runs: with no live holder, nobody would answer.
    if (!ctx.target.notes) {
      const holder = readHolder(lockPath(stateDir, service.environment, service.artifact));
      if (!holder || holder.host !== hostname() || !isSameProcess(holder.pid, holder.processStart)) {
        throw new UserInputError(
          'NOTHING_TO_ACT_ON',
          `deployment ${green.deployment} of \`${green.version}\` has not gone live, and its controller is gone: nothing to ${verb}`,
          `\`cutover abort artifact=${service.artifact} environment=${service.environment}\` undoes it (so does the next deploy or rollback)`,
        );
      }
    }
    io.events.info(
      'intent.sent',
      `asking deployment ${green.deployment} (${green.version}) to ${kind === 'promote-full' ? 'promote to 100%' : verb}; waiting for its answer`,
      { intent: kind, deployment: green.deployment },
    );
    const waitMs = answerWaitMs(ctx);
    const reply = await askDeploy({ ...ctx, intents: ctx.intents }, green.deployment, kind, io.signal);
    if (!reply) {
      io.events.warn(
        'intent.unanswered',
        `deployment ${green.deployment} did not answer within ${waitMs / 1000} s (it reads requests only while it watches a step, a gate or the bake, and another request may have replaced this one); the request is withdrawn: run it again`,
        { intent: kind, deployment: green.deployment },
      );
      throw new DeploymentFailed(
        'NO_ANSWER',
        `${verb}: no answer from ${green.deployment}; the request is withdrawn`,
        'run it again; cutover status shows where the deploy is',
      );
    }
    io.events.info('intent.answered', `${green.deployment}: ${reply.message}`, {
      intent: kind,
      deployment: green.deployment,
      done: reply.done,
    });
    if (!reply.done) {
      throw new UserInputError(
        'NOTHING_TO_ACT_ON',
        `deployment ${green.deployment} did not ${verb}: ${reply.message}`,
      );
    }
    return { type: answered[kind], deployment: green.deployment, message: reply.message };
  });
}
