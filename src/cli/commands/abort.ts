import { hostname } from 'node:os';
import { UserInputError } from '../../errors.js';
import { isAlive } from '../../providers/local/processes.js';
import { lockPath, readHolder } from '../../state/lock.js';
import { selectService } from '../../config/select.js';
import { ExitCode } from '../exit-codes.js';
import type { Command } from '../command.js';
import { loadFromArgs, stateDirOf } from '../runtime.js';

const waitMs = 120_000;

export const abortCommand: Command = {
  name: 'abort',
  summary: 'stop a running deploy: traffic goes back to blue through the normal rollback path',
  spec: { words: ['artifact', 'environment'], required: ['artifact', 'environment'], flags: [], options: [] },
  help: `Usage: cutover abort artifact=NAME environment=NAME

Asks the deploy that holds the lock to stop (SIGTERM). That deploy moves traffic back to blue, stops
green and exits 1, exactly as when a health check fails. Waits until it has finished.`,

  async run(args, io) {
    const loaded = loadFromArgs(args);
    const service = selectService(loaded, args.words.artifact ?? '', args.words.environment ?? '');
    const path = lockPath(stateDirOf(args, loaded), service.environment, service.artifact);
    const holder = readHolder(path);
    if (!holder || !isAlive(holder.pid)) {
      io.events.info('abort.requested', `no deploy runs for ${service.artifact} in ${service.environment}`);
      return ExitCode.ok;
    }
    if (holder.host !== hostname()) {
      throw new UserInputError(
        'ABORT_REMOTE',
        `the lock is held from host \`${holder.host}\`; abort it there`,
      );
    }
    io.events.warn(
      'abort.requested',
      `asking ${holder.command} ${holder.deployment} (pid ${holder.pid}) to stop`,
    );
    process.kill(holder.pid, 'SIGTERM');
    const deadline = Date.now() + waitMs;
    while (
      Date.now() < deadline &&
      isAlive(holder.pid) &&
      readHolder(path)?.deployment === holder.deployment
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    io.events.info('abort.requested', `${holder.deployment} has stopped`);
    return ExitCode.ok;
  },
};
