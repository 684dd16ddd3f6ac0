import { join } from 'node:path';

/** Where the HAProxy of one environment and artifact (`router: haproxy`) keeps its files: owner-only. */
export function haproxyFolder(agentDir: string, environment: string, artifact: string): string {
  return join(agentDir, 'haproxy', `${environment}--${artifact}`);
}

/** Where the local target keeps its files inside the state folder. */
export function agentPaths(stateDir: string) {
  const dir = join(stateDir, 'agent');
  return {
    dir,
    socket: join(dir, 'control.sock'),
    state: join(dir, 'state.json'),
    log: join(dir, 'agent.log'),
    starting: join(dir, 'starting.lock'),
    /** Held by the one agent of this state folder for its whole life. */
    agentLock: join(dir, 'agent.lock'),
    /** Held by the watchdog that restarts it, when the CLI started it. */
    watchdogLock: join(dir, 'watchdog.lock'),
    /** Left by `cutover agent`: a service manager restarts this agent, so the CLI waits for it. */
    managed: join(dir, 'managed-by-service'),
    logs: join(stateDir, 'logs'),
  };
}
