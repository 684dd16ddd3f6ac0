import { describeCause } from '../errors.js';
import { acquireLock } from '../state/lock.js';
import type { ControllerContext } from './context.js';
import type { ServiceRuntime } from './runtime.js';

/**
 * Runs `work` holding the artifact-and-environment lock (safety rule 5), with events that name the
 * deployment. The lock is released however `work` ends; a held lock throws LockHeld (exit 3).
 */
export async function underLock<T>(
  runtime: ServiceRuntime,
  holder: { deployment: string; command: string },
  fields: Record<string, unknown>,
  work: (ctx: ControllerContext) => Promise<T>,
): Promise<T> {
  const { service, stateDir, ctx } = runtime;
  const lock = acquireLock(stateDir, service.environment, service.artifact, {
    ...holder,
    startedAt: ctx.clock.now(),
    ...(runtime.stopsOnSignal ? {} : { stopsOnSignal: false }),
  });
  try {
    const shared = await ctx.target.lock?.({ ...holder, startedAt: ctx.clock.now() });
    try {
      return await work({ ...ctx, events: ctx.events.child(fields) });
    } finally {
      // The outcome stands whatever the release does: a load balancer host gone mid-deploy must not
      // turn a failed deploy's message (where traffic is, what to do) into the release's error.
      await shared?.().catch((error: unknown) =>
        ctx.events.warn(
          'target.note',
          `could not release the lock every runner sees: ${describeCause(error)}; this machine's next command takes it over, another runner's needs \`cutover unlock artifact=${service.artifact} environment=${service.environment} deployment=${holder.deployment}\``,
        ),
      );
    }
  } finally {
    lock.release();
  }
}
