import { randomBytes } from 'node:crypto';
import type { ControllerContext } from './context.js';
import type { IntentKind, IntentReply, IntentStore } from './intents.js';
import { actorFrom } from '../notify/actor.js';

/** At least this long for an answer: a deploy reads requests once a check interval, between rounds. */
const minimumWaitMs = 15_000;

/** How long a request waits for its answer, for a deploy with this context's check interval. */
export function answerWaitMs(ctx: ControllerContext): number {
  return Math.max(minimumWaitMs, 3 * ctx.healthCheck.interval);
}

/**
 * Records a request with a running deployment and waits for the deploy's answer to it. A request with
 * no answer in time, or whose wait was interrupted (Ctrl-C), is withdrawn before this returns or
 * throws: the deploy must not act on it later, after its command said it failed.
 */
export async function askDeploy(
  ctx: ControllerContext & { intents: IntentStore },
  deployment: string,
  kind: IntentKind,
  signal: AbortSignal,
): Promise<IntentReply | undefined> {
  const { intents, clock } = ctx;
  const id = `i-${randomBytes(4).toString('hex')}`;
  await intents.send(deployment, { id, kind, at: clock.now(), by: actorFrom(process.env).name });
  const withdraw = () =>
    intents.reply(deployment, { id, done: false, message: 'withdrawn: its command gave up waiting' });
  const deadline = clock.now() + answerWaitMs(ctx);
  try {
    while (clock.now() < deadline) {
      const { reply } = await intents.read(deployment);
      if (reply?.id === id) return reply;
      await clock.sleep(Math.min(1000, ctx.healthCheck.interval), signal);
    }
  } catch (error) {
    await withdraw();
    throw error;
  }
  await withdraw();
  return undefined;
}
