/**
 * How soon a crashed instance is started again. Crashes in a row back off, so a version that cannot start
 * does not spin a core; a run that lasted a stable period ends the streak, so an instance that crashes
 * once a day is back in half a second rather than at the ceiling it reached a week ago.
 */
export interface RestartPolicy {
  baseMs: number;
  ceilingMs: number;
  stableAfterMs: number;
}

export const defaultRestartPolicy: RestartPolicy = { baseMs: 500, ceilingMs: 30_000, stableAfterMs: 60_000 };

/** The crash streak after an exit, from the streak before it and how long the process ran. */
export function streakAfterExit(streak: number, ranForMs: number, policy: RestartPolicy): number {
  return ranForMs >= policy.stableAfterMs ? 1 : streak + 1;
}

export function restartDelayMs(streak: number, policy: RestartPolicy): number {
  return Math.min(policy.ceilingMs, policy.baseMs * 2 ** Math.max(0, Math.min(streak - 1, 16)));
}
