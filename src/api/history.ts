import { historyOf, livenessOf } from '../controller/history.js';
import { checkServiceOptions, serviceRuntime, type ServiceOptions } from '../controller/runtime.js';
import { UserInputError } from '../errors.js';
import { perform, type CommandOptions, type Host } from './perform.js';
import type { HistoryResult } from './results.js';

export interface HistoryOptions extends ServiceOptions, CommandOptions {
  /** At most this many, newest first (default 20). */
  limit?: number | undefined;
}

/**
 * Past deployments and rollbacks, newest first: who, when, version, strategy, result, duration and what
 * failed. Read from this runner's journal, and on aws also from the launch template versions any
 * runner's deploys created.
 */
export function history(options: HistoryOptions & Host): Promise<HistoryResult> {
  return perform(options, async (io, scope) => {
    checkServiceOptions(options);
    const limit = options.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new UserInputError('LIMIT_INVALID', `\`limit\` must be a whole number above 0, not \`${limit}\``);
    }
    const runtime = await serviceRuntime(options, io.events, io.signal, io.clock, io.stopsOnSignal);
    scope.runtime = runtime;
    const { target } = runtime.ctx;
    const fromTarget = target.deployments
      ? { records: await target.deployments(), fleets: await target.fleet.list() }
      : undefined;
    const { service, stateDir } = runtime;
    const liveness = livenessOf(stateDir, service.environment, service.artifact, runtime.ctx.clock.now());
    return { type: 'history', entries: historyOf(runtime.journal, limit, fromTarget, liveness) };
  });
}
