import { isPidReused } from './processes.js';
import type { StoredInstance } from './store.js';

/**
 * Whether the process group a recorded instance names is still ours to signal: the one place `down`
 * without an agent decides it, by the same rule as the agent's own retire. A pid that another process
 * now has (its start time differs from the one recorded) is not; one that no process has still is, so
 * that members left by a leader that exited are stopped too.
 */
export function stillOurs(instance: StoredInstance): instance is StoredInstance & { pid: number } {
  return instance.pid !== undefined && !isPidReused(instance.pid, instance.processStart);
}
