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
      await shared?.();
    }
  } finally {
    lock.release();
  }
}
