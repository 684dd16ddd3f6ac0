import { join } from 'node:path';

/** Where the local target keeps its files inside the state folder. */
export function agentPaths(stateDir: string) {
  const dir = join(stateDir, 'agent');
  return {
    dir,
    socket: join(dir, 'control.sock'),
    state: join(dir, 'state.json'),
    log: join(dir, 'agent.log'),
    starting: join(dir, 'starting.lock'),
    logs: join(stateDir, 'logs'),
  };
}
