import { hostname } from 'node:os';
import { UserInputError } from '../../errors.js';
import { isSameProcess } from '../../providers/local/processes.js';
import { lockPath, readHolder } from '../../state/lock.js';
import { selectService } from '../../config/select.js';
import { ExitCode } from '../exit-codes.js';
import type { Command } from '../command.js';
import { loadFromArgs, serviceRuntime, stateDirOf } from '../runtime.js';
import { abandonUnfinished } from '../../controller/abandon.js';
import { recoverIfInterrupted } from '../../controller/recover.js';
import { findParked, undoParked } from '../../controller/parked.js';
import { askRunningDeployToAbort } from '../abort-remote.js';
import { acquireLock } from '../../state/lock.js';
import { newDeploymentId } from '../../ids.js';
import { Journal } from '../../state/journal.js';
import { startNotifying } from '../../notify/start.js';
import type { ParsedArgs } from '../args.js';
import type { CommandIO } from '../command.js';

const waitMs = 120_000;

export const abortCommand: Command = {
  name: 'abort',
  summary: 'stop a running deploy: traffic goes back to blue through the normal rollback path',
  spec: { words: ['artifact', 'environment'], required: ['artifact', 'environment'], flags: [], options: [] },
  help: `Usage: cutover abort artifact=NAME environment=NAME

Asks the deploy that holds the lock on this machine to stop (SIGTERM). That deploy moves traffic back to
blue, stops green and exits 1, exactly as when a health check fails. Waits until it has finished (up
to 2 minutes; if it still runs then, abort exits 1 saying so).
With no deploy running here, on aws it first asks a deploy that may run on another runner to stop (a
request on its green group's tags, answered within one check interval), and waits until it has gone back.
A deploy detached at its approval gate (deploy --detach) is undone at once.
With no deploy answering, it undoes a deploy that never went live and whose controller is gone:
one killed on this runner (from its journal; one killed after it went live is finished instead), or on
aws a group still tagged cutover:role=green, left by a runner that died: traffic back to the fleet that
served before, green deleted. The aws case also works from another machine.`,

  async run(args, io) {
    const loaded = loadFromArgs(args);
    const service = selectService(loaded, args.words.artifact ?? '', args.words.environment ?? '');
    const path = lockPath(stateDirOf(args, loaded), service.environment, service.artifact);
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
    if (!holder || !isSameProcess(holder.pid, holder.processStart)) return abandonElsewhere(args, io);
    // The deploy tells its own end; this process tells it only if that deploy could not (see the record).
    startNotifying(io, loaded, service, stateDirOf(args, loaded));
    io.events.warn(
      'abort.requested',
      `asking ${holder.command} ${holder.deployment} (pid ${holder.pid}) to stop`,
    );
    process.kill(holder.pid, 'SIGTERM');
    const deadline = Date.now() + waitMs;
    // Until the process is gone, not only its lock: after the lock it sends its notifications, and
    // this process must read what it recorded to not tell the same end twice.
    while (Date.now() < deadline && isSameProcess(holder.pid, holder.processStart)) {
      await new Promise((r) => setTimeout(r, 100));
    }
    if (
      isSameProcess(holder.pid, holder.processStart) &&
      readHolder(path)?.deployment === holder.deployment
    ) {
      io.events.warn(
        'abort.timed_out',
        `${holder.command} ${holder.deployment} (pid ${holder.pid}) still runs ${waitMs / 1000}s after it was asked to stop: it may still be putting traffic back`,
        { deployment: holder.deployment, pid: holder.pid },
      );
      return ExitCode.failed;
    }
    const journal = new Journal(stateDirOf(args, loaded), service.environment, service.artifact);
    const ended = journal.deployments().find((d) => d.deployment === holder.deployment)?.phase;
    if (ended === 'succeeded') {
      io.events.info(
        'abort.finished',
        `${holder.deployment} had gone live before it could be stopped; \`cutover rollback\` goes back`,
        { deployment: holder.deployment, outcome: 'succeeded' },
      );
      return ExitCode.ok;
    }
    io.events.info('abort.finished', `${holder.deployment} has stopped`, {
      deployment: holder.deployment,
      outcome: 'stopped',
    });
    return ExitCode.ok;
  },
};

async function abandonElsewhere(args: ParsedArgs, io: CommandIO): Promise<number> {
  const { loaded, service, stateDir, ctx } = await serviceRuntime(args, io.events, io.signal);
  startNotifying(io, loaded, service, stateDir, undefined, ctx.target.notes);
  const lock = acquireLock(stateDir, service.environment, service.artifact, {
    deployment: newDeploymentId(ctx.clock.now()),
    command: 'abort',
    startedAt: ctx.clock.now(),
  });
  try {
    // A controller killed on this runner left its journal: undo (or finish) it here, as the next deploy would.
    const recovered = await recoverIfInterrupted(ctx);
    const parked = await findParked(ctx);
    if (parked) {
      await undoParked(ctx, parked, 'cutover abort while it waited for approval');
      io.events.info('abort.finished', `undid ${parked.deployment}, which waited for approval`, {
        deployment: parked.deployment,
        outcome: 'stopped',
      });
      return ExitCode.ok;
    }
    // Where the target's state is shared (aws), the deploy may be running on another runner: it is
    // asked to go back itself, as if a check had failed. Only a deploy that does not answer is undone here.
    const running = ctx.target.notes ? (await ctx.target.fleet.list()).find((f) => f.inProgress) : undefined;
    if (running && (await askRunningDeployToAbort(ctx, io, running))) {
      io.events.info('abort.finished', `${running.deployment} has stopped`, {
        deployment: running.deployment,
        outcome: 'stopped',
      });
      return ExitCode.ok;
    }
    const undone = await abandonUnfinished(ctx);
    if (undone) {
      io.events.info('abort.finished', `undid ${undone}, which had not gone live`, { deployment: undone });
    } else if (recovered) {
      io.events.info(
        'abort.finished',
        `${recovered.deployment}, whose controller was gone, is settled (see recovery.finished)`,
        { deployment: recovered.deployment },
      );
    } else {
      io.events.info(
        'abort.nothing_to_abort',
        `no deploy runs for ${service.artifact} in ${service.environment}: nothing to abort`,
      );
      // Nothing to act on is exit 2, as for promote, pause and resume: a pipeline's `if: cancelled()`
      // step can tell it from an abort that undid something.
      return ExitCode.badInput;
    }
    return ExitCode.ok;
  } finally {
    lock.release();
  }
}
