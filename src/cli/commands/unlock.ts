import { selectService } from '../../config/select.js';
import { removeGoneLock } from '../../state/unlock.js';
import { ExitCode } from '../../api/exit-codes.js';
import type { Command } from '../command.js';
import { loadFromArgs, stateDirOf } from '../options.js';

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
    const where = {
      stateDir: stateDirOf(args, loaded),
      artifact: service.artifact,
      environment: service.environment,
    };
    removeGoneLock(where, args.words.deployment ?? '', io.events);
    return ExitCode.ok;
  },
};
