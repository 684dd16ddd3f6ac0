import { dirname } from 'node:path';
import { stopRecordedHaproxy } from './haproxy-process.js';
import { haproxyFolder } from './paths.js';
import { serviceKey } from './protocol.js';
import { stillOurs } from './ownership.js';
import { stopGraceMs, stopProcessGroup } from './processes.js';
import { loadStore, writeStore } from './store.js';

/**
 * `down` without an agent: stops every instance of an environment that the agent's state file
 * records, the way the agent would (its whole process group, SIGKILL after a grace time), then drops
 * the environment from the file so that the next agent neither re-adopts nor restarts them. A HAProxy
 * left serving one of its addresses (`router: haproxy`, its agent killed) is stopped too.
 * Returns the services stopped, as `environment/artifact`.
 */
export async function stopRecordedEnvironment(stateFile: string, environment: string): Promise<string[]> {
  const { state } = loadStore(stateFile);
  const ours = state.services.filter((s) => s.environment === environment);
  await Promise.all(
    ours
      .filter((service) => service.router === 'haproxy')
      .map((service) =>
        stopRecordedHaproxy(haproxyFolder(dirname(stateFile), service.environment, service.artifact)),
      ),
  );
  await Promise.all(
    ours.flatMap((service) =>
      service.fleets.flatMap((fleet) =>
        fleet.instances.map(async (instance) => {
          if (stillOurs(instance)) await stopProcessGroup(instance.pid, stopGraceMs);
        }),
      ),
    ),
  );
  writeStore(stateFile, { services: state.services.filter((s) => s.environment !== environment) });
  return ours.map((s) => serviceKey(s.environment, s.artifact));
}

export function recordsEnvironment(stateFile: string, environment: string): boolean {
  return loadStore(stateFile).state.services.some((s) => s.environment === environment);
}
