import { UserInputError } from '../errors.js';
import type { Events } from '../events.js';
import { isSameProcess, recordedHere } from '../providers/local/processes.js';
import { lockPath, readLock, removeLockIfUnchanged } from './lock.js';

/**
 * `cutover unlock`: removes the lock of a deployment that will not finish and that cutover cannot break
 * by itself (one taken from another host). Never one whose holder still runs here, nor one taken since
 * by another deployment.
 */
export function removeGoneLock(
  where: { stateDir: string; artifact: string; environment: string },
  deployment: string,
  events: Events,
  /** Another lock (the target's) is about to be removed: a free one here is not worth saying. */
  options: { quietWhenFree?: boolean } = {},
): void {
  const { stateDir, artifact, environment } = where;
  const path = lockPath(stateDir, environment, artifact);
  const file = readLock(path);
  const fields = { artifact, environment };
  if (file.state === 'free') {
    if (options.quietWhenFree) return;
    events.info('lock.removed', `no lock on ${artifact} in ${environment}: nothing to remove`, fields);
    return;
  }
  if (file.state === 'held') {
    const { holder } = file;
    const refusal = unlockRefusal({
      holder,
      runsHere: recordedHere(holder) && isSameProcess(holder.pid, holder.processStart),
      deployment,
      lock: `the lock on \`${artifact}\` in \`${environment}\``,
      names: where,
    });
    if (refusal) throw refusal;
  }
  if (file.text === undefined || !removeLockIfUnchanged(path, file.text)) {
    const now = readLock(path);
    if (now.state === 'free') {
      events.info('lock.removed', `the lock on ${artifact} in ${environment} was released meanwhile`, fields);
      return;
    }
    throw new UserInputError(
      'UNLOCK_CHANGED',
      `the lock \`${path}\` changed or cannot be read; nothing was removed`,
      `see its holder with \`cutover status artifact=${artifact} environment=${environment}\``,
    );
  }
  const what =
    file.state === 'held' ? `${file.holder.deployment} from ${file.holder.host}` : 'naming no holder';
  events.warn('lock.removed', `removed the lock on ${artifact} in ${environment} (${what})`, fields);
  return;
}

/**
 * Why `cutover unlock … deployment=` must leave a lock alone, or undefined: another deployment holds it,
 * or its holder still runs on this machine. The same for the runner's lock and a target's (hosts).
 */
export function unlockRefusal(about: {
  holder: { deployment: string; command: string; pid: number; host: string };
  runsHere: boolean;
  deployment: string;
  /** The lock, for people: "the lock on `catalog` in `prod`". */
  lock: string;
  names: { artifact: string; environment: string };
}): UserInputError | undefined {
  const { holder, deployment, lock, names } = about;
  const who = `${holder.command} ${holder.deployment} (pid ${holder.pid} on ${holder.host})`;
  if (holder.deployment !== deployment) {
    return new UserInputError(
      'UNLOCK_NOT_HOLDER',
      `${lock} is held by ${who}, not by \`${deployment}\``,
      `check that ${holder.deployment} is gone, then run \`cutover unlock artifact=${names.artifact} environment=${names.environment} deployment=${holder.deployment}\``,
    );
  }
  if (about.runsHere) {
    return new UserInputError(
      'UNLOCK_RUNNING',
      `${lock} is held by ${who}, which is still running here`,
      `stop it with \`cutover abort artifact=${names.artifact} environment=${names.environment}\``,
    );
  }
  return undefined;
}
