import type { LoadedConfig } from '../../config/load.js';
import type { Events } from '../../events.js';
import { acquireLock, type Lock } from '../../state/lock.js';
import { AgentClient } from './agent-client.js';
import { refuseSharedStateFolders } from './private-folders.js';
import { recordsEnvironment, stopRecordedEnvironment } from './stop-recorded.js';

/**
 * `cutover down`: stops the router and every fleet of a local environment, under the lock of each of
 * its artifacts. An agent its watchdog is restarting is waited for; with none, the instances its state
 * file records are stopped directly and forgotten.
 */
export async function downLocalEnvironment(
  loaded: LoadedConfig,
  environment: string,
  stateDir: string,
  events: Events,
): Promise<void> {
  const client = new AgentClient(stateDir);
  // An agent its watchdog is bringing back is waited for: stopping its instances from the state file
  // meanwhile would race the restarted agent, which reads the file and serves them again.
  const agentRunning = await client.awaitRestart();
  if (!agentRunning && !recordsEnvironment(client.paths.state, environment)) {
    events.info('environment.down', `nothing runs in ${environment}`, { environment, stopped: [] });
    return;
  }
  // The pids to signal come from the state file: whoever could write it could aim them.
  refuseSharedStateFolders(stateDir);
  const locks: Lock[] = [];
  try {
    for (const artifact of Object.keys(loaded.config.artifacts)) {
      locks.push(
        acquireLock(stateDir, environment, artifact, {
          deployment: 'down',
          command: 'down',
          startedAt: Date.now(),
        }),
      );
    }
    // A dead agent's instances keep running: they are stopped from its record, without starting one.
    const stopped = agentRunning
      ? (
          await client.request<{ stopped: string[] }>(
            'DELETE',
            `/v1/environments/${encodeURIComponent(environment)}`,
          )
        ).stopped
      : await stopRecordedEnvironment(client.paths.state, environment);
    const how = agentRunning ? '' : ' (the local agent was not running: stopped from its state file)';
    events.info(
      'environment.down',
      stopped.length ? `stopped ${stopped.join(', ')}${how}` : `nothing ran in ${environment}`,
      { environment, stopped },
    );
    return;
  } finally {
    for (const lock of locks) lock.release();
    await client.close();
  }
}
