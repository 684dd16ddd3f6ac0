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
    const who = `${holder.command} ${holder.deployment} (pid ${holder.pid} on ${holder.host})`;
    if (holder.deployment !== deployment) {
      throw new UserInputError(
        'UNLOCK_NOT_HOLDER',
        `the lock on \`${artifact}\` in \`${environment}\` is held by ${who}, not by \`${deployment}\``,
        `check that ${holder.deployment} is gone, then run \`cutover unlock artifact=${artifact} environment=${environment} deployment=${holder.deployment}\``,
      );
    }
    if (recordedHere(holder) && isSameProcess(holder.pid, holder.processStart)) {
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
