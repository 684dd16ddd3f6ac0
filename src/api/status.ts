import { serviceRuntime, type ServiceOptions, type ServiceRuntime } from '../controller/runtime.js';
import { statusReport } from '../controller/status.js';
import { perform, type CommandOptions, type Host } from './perform.js';
import type { Status, StatusResult } from './results.js';

export type StatusOptions = ServiceOptions & CommandOptions;

/** The live version, the standby, every fleet, the last deployment and the lock. Reads only. */
export function status(options: StatusOptions & Host): Promise<StatusResult> {
  return perform(options, async (io, scope) => {
    const runtime = await serviceRuntime(options, io.events, io.signal, io.clock, io.stopsOnSignal);
    scope.runtime = runtime;
    return readStatus(runtime, io.events);
  });
}

/** The status result of one reading; `warn` tells a reading that finds nothing serving. */
async function readStatus(
  runtime: ServiceRuntime,
  events?: ServiceRuntime['ctx']['events'],
): Promise<Status> {
  const { status: body, text, notServing } = await statusReport(runtime);
  if (notServing && events) {
    events.warn('status.not_serving', `nothing serves ${runtime.service.environment}: ${notServing}`, {
      reason: notServing,
    });
  }
  return {
    type: 'status',
    serving: notServing === undefined,
    notServing: notServing ?? null,
    status: body,
    text,
  };
}

export interface WatchOptions extends StatusOptions {
  /** How often the status is read (default 1 s). */
  everyMs?: number | undefined;
}

/**
 * The status now, then again whenever it changes (a deploy's step, the weights, a check's reading),
 * until `signal` aborts. The environment's setup failing ends it with one failure.
 */
export async function* watchStatus(options: WatchOptions & Host): AsyncGenerator<StatusResult> {
  const signal = options.signal ?? new AbortController().signal;
  let runtime: ServiceRuntime | undefined;
  const first = await perform(options, async (io, scope) => {
    runtime = await serviceRuntime(options, io.events, signal, io.clock);
    scope.runtime = runtime;
    return readStatus(runtime, io.events);
  });
  yield first;
  if (first.type !== 'status' || !runtime) return;
  let shown = JSON.stringify(first.status);
  for (;;) {
    try {
      await runtime.ctx.clock.sleep(options.everyMs ?? 1000, signal);
    } catch {
      return;
    }
    if (signal.aborted) return;
    const now = await readStatus(runtime);
    const shape = JSON.stringify(now.status);
    if (shape === shown) continue;
    shown = shape;
    yield now;
  }
}
