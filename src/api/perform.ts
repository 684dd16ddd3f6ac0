import type { Clock } from '../clock.js';
import { CutoverError, DeploymentFailed, LockHeld, UserInputError } from '../errors.js';
import { Events, type CutoverEvent } from '../events.js';
import { lockPath, readHolder } from '../state/lock.js';
import type { ServiceRuntime } from '../controller/runtime.js';
import type { Failure } from './results.js';
import { exitCodeOf } from './results.js';

/** What every library call accepts besides its own words. */
export interface CommandOptions {
  /** Hears every event of the command as it happens (the CLI's log lines are these). */
  onEvent?: ((event: CutoverEvent) => void) | undefined;
  /**
   * Stops the command: a deploy puts traffic back on blue and resolves `failed` with code `ABORTED`;
   * the way back itself is not abortable.
   */
  signal?: AbortSignal | undefined;
}

/**
 * What the CLI hands the library beyond the public options: its own event bus (logger attached), its
 * clock, and where notifications still being sent are waited for (after the result is printed).
 * @internal
 */
export interface Host {
  events?: Events;
  clock?: Clock;
  afterResult?: (work: () => Promise<void>) => void;
  /** This process stops a deploy on SIGTERM (the CLI); a library host does not, and its locks say so. */
  stopsOnSignal?: boolean;
}

/** What a command's body gets: events, the signal, and a place for work to finish before returning. */
export interface Invocation {
  events: Events;
  signal: AbortSignal;
  clock: Clock | undefined;
  stopsOnSignal: boolean;
  beforeExit: (work: () => Promise<void>) => void;
}

/** What a body learns as it goes, so a failure can say where traffic is and what phase it failed in. */
export interface Scope {
  runtime?: ServiceRuntime;
  deployment?: string;
  version?: string;
}

const trafficReadMs = 10_000;

/**
 * Runs a command's body and turns every error that ends it into a typed failure (and a `command.failed`
 * event), so library callers switch on `type` and never catch. Notifications are flushed before this
 * returns, unless the host (the CLI) waits for them itself after printing the result.
 */
export async function perform<R>(
  given: CommandOptions & Host,
  body: (io: Invocation, scope: Scope) => Promise<R>,
): Promise<R | Failure> {
  // JavaScript callers are not held to the types: what is not an object is checked as an empty one.
  const options: CommandOptions & Host = typeof given === 'object' && given !== null ? given : {};
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    return { type: 'rejected', code: 'OPTION_INVALID', reason: '`signal` is not an AbortSignal', hint: null };
  }
  const events = options.events ?? new Events(options.onEvent ? [options.onEvent] : []);
  if (options.events && options.onEvent) events.subscribe(options.onEvent);
  const aborter = new AbortController();
  const forward = () => {
    const reason: unknown = options.signal?.reason;
    const failure =
      reason instanceof CutoverError
        ? reason
        : new DeploymentFailed(
            'ABORTED',
            `aborted by the caller${reason instanceof Error && reason.message ? ` (${reason.message})` : ''}`,
            'run the command again when ready',
          );
    events.warn('abort.requested', `${failure.message}: aborting`);
    aborter.abort(failure);
  };
  if (options.signal?.aborted) forward();
  else options.signal?.addEventListener('abort', forward, { once: true });
  const pending: (() => Promise<void>)[] = [];
  const io: Invocation = {
    events,
    signal: aborter.signal,
    clock: options.clock,
    stopsOnSignal: options.stopsOnSignal ?? false,
    beforeExit: (work) => (options.afterResult ? options.afterResult(work) : pending.push(work)),
  };
  const scope: Scope = {};
  try {
    // A caller that gave up before the call starts nothing: no lock, no fleet.
    if (aborter.signal.aborted) throw aborter.signal.reason;
    return await body(io, scope);
  } catch (error) {
    return await failureReported(events, error, scope);
  } finally {
    options.signal?.removeEventListener('abort', forward);
    // Each is bounded (notifyFlushTimeout) and reports its own failures as warnings.
    await Promise.all(pending.map((work) => work().catch(() => undefined)));
    // The command is over: what the target holds open (SSH sessions) would only keep the process alive.
    await scope.runtime?.ctx.target.close?.().catch(() => undefined);
  }
}

/** The typed failure for an error that ended a command, told as `command.failed` (what pipelines match). */
export async function failureReported(events: Events, error: unknown, scope: Scope = {}): Promise<Failure> {
  const failure = await failureOf(error, scope);
  const code = exitCodeOf(failure);
  if (error instanceof CutoverError) {
    events.error('command.failed', error.message, {
      error: error.code,
      exitCode: code,
      ...(error.hint ? { hint: error.hint } : {}),
    });
  } else {
    events.error(
      'command.failed',
      `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      { error: 'INTERNAL', exitCode: code },
    );
  }
  return failure;
}

async function failureOf(error: unknown, scope: Scope): Promise<Failure> {
  const hint = error instanceof CutoverError ? (error.hint ?? null) : null;
  const code = error instanceof CutoverError ? error.code : 'INTERNAL';
  const reason = error instanceof Error ? error.message : String(error);
  if (error instanceof UserInputError) return { type: 'rejected', code, reason, hint };
  if (error instanceof LockHeld) {
    const { runtime } = scope;
    const holder = runtime
      ? readHolder(lockPath(runtime.stateDir, runtime.service.environment, runtime.service.artifact))
      : undefined;
    return { type: 'locked', code, reason, hint, holder: holder ?? null };
  }
  const record = scope.deployment
    ? scope.runtime?.journal.deployments().find((d) => d.deployment === scope.deployment)
    : undefined;
  return {
    type: 'failed',
    code,
    phase: record?.failedIn ?? (record && record.phase !== 'failed' ? record.phase : null),
    reason,
    hint,
    trafficOn: scope.runtime ? await trafficOn(scope.runtime) : null,
    deployment: scope.deployment ?? null,
    version: scope.version ?? record?.version ?? null,
  };
}

/** The version with the most traffic, read back from the target; null when nothing answers in time. */
async function trafficOn(runtime: ServiceRuntime): Promise<string | null> {
  const { target } = runtime.ctx;
  const read = Promise.all([target.fleet.list(), target.router.readWeights()]).then(([fleets, weights]) => {
    const top = fleets
      .filter((f) => (weights[f.id] ?? 0) > 0)
      .sort((a, b) => (weights[b.id] ?? 0) - (weights[a.id] ?? 0))[0];
    return top?.version ?? null;
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), trafficReadMs)));
  try {
    return await Promise.race([read.catch(() => null), late]);
  } finally {
    clearTimeout(timer);
  }
}
