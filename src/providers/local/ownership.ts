import { isAlive } from './processes.js';
import type { StoredInstance } from './store.js';

/**
 * Whether the process a recorded instance names is still that instance, and so ours to signal.
 *
 * The one place that decides it. Today it trusts the pid alone, which a reused pid can fool; the
 * record is to carry the process's start time as well, and this is where the two will be compared.
 */
export function stillOurs(instance: StoredInstance): instance is StoredInstance & { pid: number } {
  return instance.pid !== undefined && isAlive(instance.pid);
}
