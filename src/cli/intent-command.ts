import { hostname } from 'node:os';
import { isSameProcess } from '../providers/local/processes.js';
import { lockPath, readHolder } from '../state/lock.js';
import { UserInputError } from '../errors.js';
import type { IntentKind } from '../controller/intents.js';
import { answerWaitMs, askDeploy } from './ask-deploy.js';
import { ExitCode } from './exit-codes.js';
import type { CommandIO } from './command.js';
import type { ParsedArgs } from './args.js';
import { serviceRuntime } from './runtime.js';
import { findParked } from '../controller/parked.js';
import { promoteParked } from './promote-parked.js';

/**
 * `promote`, `pause`, `resume`: records the request with the running deployment where every runner
 * reaches it, then waits for the deploy's answer. Exit 0 when it acted, 2 when it had nothing to act on
 * (or nothing runs), 1 when no deploy answered in time.
 */
export async function sendIntent(args: ParsedArgs, io: CommandIO, kind: IntentKind): Promise<number> {
  const runtime = await serviceRuntime(args, io.events, io.signal);
  const { service, ctx } = runtime;
  const verb = kind === 'promote-full' ? 'promote' : kind;
  const parked = await findParked(ctx);
  if (parked) {
    if (kind === 'promote' || kind === 'promote-full')
      return promoteParked(runtime, io, parked, kind === 'promote-full');
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
  // On one machine the deploy holds the lock while it runs: with no live holder, nobody would answer.
  if (!ctx.target.notes) {
    const holder = readHolder(lockPath(runtime.stateDir, service.environment, service.artifact));
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
    io.out(
      `${verb}: no answer from ${green.deployment}; the request is withdrawn (cutover status shows where the deploy is)`,
    );
    return ExitCode.failed;
  }
  io.events.info('intent.answered', `${green.deployment}: ${reply.message}`, {
    intent: kind,
    deployment: green.deployment,
    done: reply.done,
  });
  io.out(`${verb}: ${reply.message}`);
  if (!reply.done) {
    throw new UserInputError(
      'NOTHING_TO_ACT_ON',
      `deployment ${green.deployment} did not ${verb}: ${reply.message}`,
    );
  }
  return ExitCode.ok;
}
