import { selectService } from '../../config/select.js';
import { removeGoneLock } from '../../state/unlock.js';
import { ExitCode } from '../../api/exit-codes.js';
import type { Command } from '../command.js';
import { hostOf, loadFromArgs, serviceOptionsOf, stateDirOf } from '../options.js';
import { serviceRuntime } from '../../controller/runtime.js';

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

On the hosts target the lock every runner sees, a folder on the load balancer host, is removed the
same way, with the same checks.

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
    const deployment = args.words.deployment ?? '';
    // A target whose lock every runner sees (hosts) holds one of its own beside this runner's.
    const runtime = await serviceRuntime({ ...serviceOptionsOf(args), ...hostOf(io) }, io.events, io.signal);
    const { target } = runtime.ctx;
    try {
      const sharedHeld = target.unlock ? await target.lockHolder?.() : undefined;
      removeGoneLock(where, deployment, io.events, { quietWhenFree: sharedHeld !== undefined });
      if (target.unlock && sharedHeld) {
        const removed = await target.unlock(deployment);
        io.events.warn(
          'lock.removed',
          removed
            ? `removed the lock ${sharedHeld.where}${sharedHeld.holder ? ` (${sharedHeld.holder.deployment} from ${sharedHeld.holder.host})` : ' (naming no holder)'}`
            : `the lock ${sharedHeld.where} was released meanwhile`,
          { artifact: service.artifact, environment: service.environment },
        );
      }
    } finally {
      await target.close?.();
    }
    return ExitCode.ok;
  },
};
