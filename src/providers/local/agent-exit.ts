/** How the agent process ends: what its watchdog (or a service manager) decides on. Kept apart so the
 * watchdog loads nothing of the agent itself. */
export const AgentExit = {
  stopped: 0,
  failed: 1,
  refused: 2,
  /** Another agent already runs for this state folder: a restart loop must stop trying. */
  anotherRuns: 75,
} as const;
