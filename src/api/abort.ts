import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { UserInputError } from '../errors.js';
import { isSameProcess } from '../providers/local/processes.js';
import { lockPath, readHolder, type LockHolder } from '../state/lock.js';
import { selectService } from '../config/select.js';
import {
  checkServiceOptions,
  loadFromOptions,
  serviceRuntime,
  stateDirOf,
  type ServiceOptions,
} from '../controller/runtime.js';
import { abandonUnfinished } from '../controller/abandon.js';
import { recoverIfInterrupted } from '../controller/recover.js';
import { findParked, undoParked } from '../controller/parked.js';
import { askRunningDeployToAbort } from '../controller/abort-remote.js';
import { answerWaitMs, askDeploy } from '../controller/ask-deploy.js';
import { underLock } from '../controller/locked.js';
import { newDeploymentId } from '../ids.js';
import { Journal } from '../state/journal.js';
import { FileIntents } from '../state/intent-file.js';
import { actorFrom } from '../notify/actor.js';
import { startNotifying } from '../notify/start.js';
import { DeploymentFailed } from '../errors.js';
import { perform, type CommandOptions, type Host, type Invocation, type Scope } from './perform.js';
import type { AbortResult, Aborted } from './results.js';

export type AbortOptions = ServiceOptions & CommandOptions;

const waitMs = 120_000;

/**
 * Stops a running deploy: the one holding the lock on this machine is asked to stop (SIGTERM) and goes
 * back to blue itself; otherwise one detached at its gate, one running on another runner (aws), or one
 * whose controller is gone is undone here. Nothing to abort is `rejected` (`NOTHING_TO_ABORT`).
 */
export function abort(options: AbortOptions & Host): Promise<AbortResult> {
  return perform(options, async (io, scope) => {
    checkServiceOptions(options);
    const loaded = loadFromOptions(options, options.environment);
    const service = selectService(loaded, options.artifact, options.environment);
    const stateDir = stateDirOf(options, loaded);
    const path = lockPath(stateDir, service.environment, service.artifact);
    const holder = readHolder(path);
    // A pid from another host says nothing here, so that lock is not judged by it.
    if (holder && holder.host !== hostname()) {
      throw new UserInputError(
        'ABORT_REMOTE',
        `the lock is held from host \`${holder.host}\` by ${holder.deployment}; abort it there`,
        `if that run is gone, remove its lock with \`cutover unlock artifact=${service.artifact} environment=${service.environment} deployment=${holder.deployment}\``,
      );
    }
    // A pid whose process started after the lock was taken was reused: signalling it would hit a stranger.
    if (!holder || !isSameProcess(holder.pid, holder.processStart))
      return abandonElsewhere(options, io, scope);
    scope.deployment = holder.deployment;
    // A deploy run through the library shares its host's process: a signal would kill the host mid-shift.
    if (holder.stopsOnSignal === false) return askLibraryHost(options, holder, path, io, scope);
    // The deploy tells its own end; this process tells it only if that deploy could not (see the record).
    startNotifying(io, loaded, service, stateDir);
    // Who asked goes with the signal, for the deploy to record with its abort (the report's moment).
    await new FileIntents(stateDir, service.environment, service.artifact)
      .send(holder.deployment, {
        id: randomUUID(),
        kind: 'abort',
        at: Date.now(),
        by: actorFrom(options.env ?? process.env).name,
      })
      .catch(() => undefined);
    return stopHolder(holder, path, new Journal(stateDir, service.environment, service.artifact), io);
  });
}

async function stopHolder(
  holder: LockHolder,
  path: string,
  journal: Journal,
  io: Invocation,
): Promise<Aborted> {
  io.events.warn(
    'abort.requested',
    `asking ${holder.command} ${holder.deployment} (pid ${holder.pid}) to stop`,
  );
  process.kill(holder.pid, 'SIGTERM');
  // Until the process is gone, not only its lock: after the lock it sends its notifications, and
  // this process must read what it recorded to not tell the same end twice.
  await waitUntilStopped(
    holder,
    io,
    () => isSameProcess(holder.pid, holder.processStart),
    () =>
      isSameProcess(holder.pid, holder.processStart) && readHolder(path)?.deployment === holder.deployment,
  );
  if (endOf(journal, holder) === 'succeeded') {
    io.events.info(
      'abort.finished',
      `${holder.deployment} had gone live before it could be stopped; \`cutover rollback\` goes back`,
      { deployment: holder.deployment, outcome: 'succeeded' },
    );
    return { type: 'aborted', deployment: holder.deployment, outcome: 'succeeded' };
  }
  io.events.info('abort.finished', `${holder.deployment} has stopped`, {
    deployment: holder.deployment,
    outcome: 'stopped',
  });
  return { type: 'aborted', deployment: holder.deployment, outcome: 'stopped' };
}

/**
 * A deploy running inside another program through the library is asked, as a deploy on another runner
 * is, to go back to blue itself; this waits until it has let go of the lock. It reads requests while it
 * watches a step, a gate or the bake: one that never answers is left alone (its controller is alive).
 */
async function askLibraryHost(
  options: AbortOptions,
  holder: LockHolder,
  path: string,
  io: Invocation,
  scope: Scope,
): Promise<Aborted> {
  const runtime = await serviceRuntime(options, io.events, io.signal, io.clock, io.stopsOnSignal);
  scope.runtime = runtime;
  const { ctx, loaded, service, stateDir, journal } = runtime;
  startNotifying(io, loaded, service, stateDir);
  io.events.warn(
    'abort.requested',
    `asking ${holder.command} ${holder.deployment}, run through cutover's library in pid ${holder.pid}, to stop`,
    { pid: holder.pid },
  );
  const reply = ctx.intents
    ? await askDeploy({ ...ctx, intents: ctx.intents }, holder.deployment, 'abort', io.signal)
    : undefined;
  if (!reply) {
    throw new DeploymentFailed(
      'ABORT_UNANSWERED',
      `${holder.command} ${holder.deployment} runs inside pid ${holder.pid} through cutover's library, which a signal would kill rather than stop, and it did not answer the abort request within ${answerWaitMs(ctx) / 1000} s (it reads requests only while it watches a step, a gate or the bake)`,
      'run abort again once it shifts or bakes, or stop it from its program with the AbortSignal it was given',
    );
  }
  // The host goes on running: the deploy has stopped once it let go of the lock.
  const holds = () => readHolder(path)?.deployment === holder.deployment;
  await waitUntilStopped(holder, io, holds, holds);
  const how = endOf(journal, holder);
  io.events.info('abort.finished', `${holder.deployment}: ${reply.message}`, {
    deployment: holder.deployment,
    outcome: how,
  });
  return { type: 'aborted', deployment: holder.deployment, outcome: how };
}

/**
 * Waits (up to 2 minutes) while `running` says the asked deploy still runs; if `stuck` still holds then,
 * it may be putting traffic back yet, which is said and ends the abort as failed.
 */
async function waitUntilStopped(
  holder: LockHolder,
  io: Invocation,
  running: () => boolean,
  stuck: () => boolean,
): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && running()) await new Promise((r) => setTimeout(r, 100));
  if (!stuck()) return;
  io.events.warn(
    'abort.timed_out',
    `${holder.command} ${holder.deployment} (pid ${holder.pid}) still runs ${waitMs / 1000}s after it was asked to stop: it may still be putting traffic back`,
    { deployment: holder.deployment, pid: holder.pid },
  );
  throw new DeploymentFailed(
    'ABORT_TIMED_OUT',
    `${holder.command} ${holder.deployment} (pid ${holder.pid}) still runs ${waitMs / 1000}s after it was asked to stop`,
    'it may still be putting traffic back: see cutover status, and abort again',
  );
}

/** How the stopped deploy ended: it may have gone live before the request reached it. */
function endOf(journal: Journal, holder: LockHolder): 'succeeded' | 'stopped' {
  const phase = journal.deployments().find((d) => d.deployment === holder.deployment)?.phase;
  return phase === 'succeeded' ? 'succeeded' : 'stopped';
}

async function abandonElsewhere(options: AbortOptions, io: Invocation, scope: Scope): Promise<Aborted> {
  const runtime = await serviceRuntime(options, io.events, io.signal, io.clock, io.stopsOnSignal);
  scope.runtime = runtime;
  const { loaded, service, stateDir, ctx } = runtime;
  startNotifying(io, loaded, service, stateDir, undefined, ctx.target.notes);
  // Where the target's state is shared (aws, hosts), the deploy may be running on another runner: it is
  // asked to go back itself, as if a check had failed, before any lock (it holds the one every runner
  // sees). Only a deploy that does not answer is undone here, under the lock.
  const running = ctx.target.notes ? (await ctx.target.fleet.list()).find((f) => f.inProgress) : undefined;
  // One this runner ran, whose controller here is gone (no live lock holder got us this far), cannot
  // answer: it is undone at once, from the journal.
  const ranHere = running !== undefined && runtime.journal.latest()?.deployment === running.deployment;
  if (running && !ranHere && (await askRunningDeployToAbort(ctx, running, io.signal))) {
    io.events.info('abort.finished', `${running.deployment} has stopped`, {
      deployment: running.deployment,
      outcome: 'stopped',
    });
    return { type: 'aborted', deployment: running.deployment, outcome: 'stopped' };
  }
  const holder = { deployment: newDeploymentId(ctx.clock.now()), command: 'abort' };
  return underLock(runtime, holder, {}, async (): Promise<Aborted> => {
    // A controller killed on this runner left its journal: undo (or finish) it here, as the next deploy would.
    const recovered = await recoverIfInterrupted(ctx);
    const parked = await findParked(ctx);
    if (parked) {
      await undoParked(ctx, parked, 'cutover abort while it waited for approval', {
        kind: 'abort',
        by: ctx.actor,
      });
      io.events.info('abort.finished', `undid ${parked.deployment}, which waited for approval`, {
        deployment: parked.deployment,
        outcome: 'stopped',
      });
      return { type: 'aborted', deployment: parked.deployment, outcome: 'undone' };
    }
    const undone = await abandonUnfinished(ctx);
    if (undone) {
      io.events.info('abort.finished', `undid ${undone}, which had not gone live`, { deployment: undone });
      return { type: 'aborted', deployment: undone, outcome: 'undone' };
    }
    if (recovered) {
      io.events.info(
        'abort.finished',
        `${recovered.deployment}, whose controller was gone, is settled (see recovery.finished)`,
        { deployment: recovered.deployment },
      );
      return { type: 'aborted', deployment: recovered.deployment, outcome: 'settled' };
    }
    // Nothing to act on is exit 2, as for promote, pause and resume: a pipeline's `if: cancelled()`
    // step can tell it from an abort that undid something.
    throw new UserInputError(
      'NOTHING_TO_ABORT',
      `no deploy runs for \`${service.artifact}\` in \`${service.environment}\`: nothing to abort`,
      `\`cutover status artifact=${service.artifact} environment=${service.environment}\` shows what runs`,
    );
  });
}
