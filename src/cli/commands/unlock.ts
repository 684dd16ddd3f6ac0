import { hostname } from 'node:os';
import { selectService } from '../../config/select.js';
import { UserInputError } from '../../errors.js';
import { isSameProcess } from '../../providers/local/processes.js';
import { lockPath, readLock, removeLockIfUnchanged } from '../../state/lock.js';
import { ExitCode } from '../exit-codes.js';
import type { Command } from '../command.js';
import { loadFromArgs, stateDirOf } from '../runtime.js';

export const unlockCommand: Command = {
  name: 'unlock',
  summary: 'remove the lock of a deploy or rollback that is gone (one from another host, say)',
  spec: {
    words: ['artifact', 'environment', 'deployment'],
    required: ['artifact', 'environment', 'deployment'],
    flags: [],
    options: [],
  },
  help: `Usage: cutover unlock artifact=NAME environment=NAME deployment=ID

Removes the lock of a deploy or rollback that will not finish, which cutover cannot break by itself:
one taken from another host sharing this state folder (its process cannot be checked from here). A lock
left on this host by a process that is gone is broken by the next command without this.

  artifact=NAME      an artifact of the config file
  environment=NAME   an environment of the config file
  deployment=ID      the deployment that holds the lock, as the exit-3 message names it: a lock taken
                     since by another deployment is left alone (exit 2, naming its holder). A lock file
                     that names no holder is removed whatever the id.

It stops nothing: to stop a deploy that runs on this host, use \`cutover abort\`, which unlock refuses
to replace. The next deploy or rollback finishes or undoes the unlocked deployment from its journal.
With no lock, it says so and exits 0.`,

  async run(args, io) {
    const loaded = loadFromArgs(args);
    const service = selectService(loaded, args.words.artifact ?? '', args.words.environment ?? '');
    const { artifact, environment } = service;
    const deployment = args.words.deployment ?? '';
    const path = lockPath(stateDirOf(args, loaded), environment, artifact);
    const file = readLock(path);
    const fields = { artifact, environment };
    if (file.state === 'free') {
      io.events.info('lock.removed', `no lock on ${artifact} in ${environment}: nothing to remove`, fields);
      return ExitCode.ok;
    }
    if (file.state === 'held') {
      const { holder } = file;
      const who = `${holder.command} ${holder.deployment} (pid ${holder.pid} on ${holder.host})`;
      if (holder.deployment !== deployment) {
        throw new UserInputError(
          'UNLOCK_NOT_HOLDER',
          `the lock on \`${artifact}\` in \`${environment}\` is held by ${who}, not by \`${deployment}\``,
          `check that ${holder.deployment} is gone, then run \`cutover unlock artifact=${artifact} environment=${environment} deployment=${holder.deployment}\``,
        );
      }
      if (holder.host === hostname() && isSameProcess(holder.pid, holder.processStart)) {
        throw new UserInputError(
          'UNLOCK_RUNNING',
          `the lock on \`${artifact}\` in \`${environment}\` is held by ${who}, which is still running here`,
          `stop it with \`cutover abort artifact=${artifact} environment=${environment}\``,
        );
      }
    }
    if (file.text === undefined || !removeLockIfUnchanged(path, file.text)) {
      const now = readLock(path);
      if (now.state === 'free') {
        io.events.info(
          'lock.removed',
          `the lock on ${artifact} in ${environment} was released meanwhile`,
          fields,
        );
        return ExitCode.ok;
      }
      throw new UserInputError(
        'UNLOCK_CHANGED',
        `the lock \`${path}\` changed or cannot be read; nothing was removed`,
        `see its holder with \`cutover status artifact=${artifact} environment=${environment}\``,
      );
    }
    const what =
      file.state === 'held' ? `${file.holder.deployment} from ${file.holder.host}` : 'naming no holder';
    io.events.warn('lock.removed', `removed the lock on ${artifact} in ${environment} (${what})`, fields);
    return ExitCode.ok;
  },
};
