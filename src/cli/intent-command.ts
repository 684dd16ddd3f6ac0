import { randomBytes } from 'node:crypto';
import { UserInputError } from '../errors.js';
import type { IntentKind, IntentReply } from '../controller/intents.js';
import { actorFrom } from '../notify/actor.js';
import { ExitCode } from './exit-codes.js';
import type { CommandIO } from './command.js';
import type { ParsedArgs } from './args.js';
import { serviceRuntime } from './runtime.js';
import { findParked } from '../controller/parked.js';
import { promoteParked } from './promote-parked.js';

/** How long a request waits for the deploy's answer: it reads requests once a check interval. */
const minimumWaitMs = 15_000;

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
  const id = `i-${randomBytes(4).toString('hex')}`;
  const by = actorFrom(process.env).name;
  await ctx.intents.send(green.deployment, { id, kind, at: ctx.clock.now(), by });
  io.events.info(
    'intent.sent',
    `asked deployment ${green.deployment} (${green.version}) to ${kind === 'promote-full' ? 'promote to 100%' : verb}; waiting for its answer`,
    { intent: kind, deployment: green.deployment },
  );
  const waitMs = Math.max(minimumWaitMs, 3 * service.env.healthCheck.interval);
  const deadline = ctx.clock.now() + waitMs;
  let reply: IntentReply | undefined;
  while (ctx.clock.now() < deadline) {
    reply = (await ctx.intents.read(green.deployment)).reply;
    if (reply?.id === id) break;
    reply = undefined;
    await ctx.clock.sleep(Math.min(200, service.env.healthCheck.interval), io.signal);
  }
  if (!reply) {
    io.events.warn(
      'intent.unanswered',
      `deployment ${green.deployment} did not answer within ${waitMs / 1000} s; the request stays recorded and the deploy acts on it when it next waits (a step, a gate, the bake), unless a later request replaces it`,
      { intent: kind, deployment: green.deployment },
    );
    io.out(
      `${verb}: no answer from ${green.deployment} yet (is its deploy running? cutover status shows it)`,
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
