import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { systemClock } from '../../src/clock.js';
import { configSchema, type LocalEnvironmentConfig } from '../../src/config/schema.js';
import { AgentClient } from '../../src/providers/local/agent-client.js';
import { readHolder } from '../../src/state/lock.js';
import type { AgentInfo } from '../../src/providers/local/protocol.js';
import { agentPaths } from '../../src/providers/local/paths.js';
import { isAlive } from '../../src/providers/local/processes.js';
import { createLocalTarget } from '../../src/providers/local/target.js';
import { freePort } from '../../src/providers/local/processes.js';
import { tempDir } from './tmp.js';

export const demoServer = resolve('examples/catalog/server.mjs');

/** A local target on a free port with its own state folder and agent; `cleanup` stops all of it. */
export async function localTarget(command: string[] = [process.execPath, demoServer], extra: object = {}) {
  const dir = tempDir();
  const port = await freePort();
  const config = configSchema.parse({
    artifacts: { catalog: { command } },
    environments: { test: { target: 'local', listen: `127.0.0.1:${port}`, drainTimeout: '2s', ...extra } },
  });
  const env = config.environments.test as LocalEnvironmentConfig;
  const client = new AgentClient(dir.path);
  const target = createLocalTarget({
    client,
    environment: 'test',
    artifact: 'catalog',
    env,
    artifactConfig: { command },
    baseDir: dir.path,
    clock: systemClock,
  });
  return {
    target,
    client,
    stateDir: dir.path,
    endpoint: `http://127.0.0.1:${port}`,
    async cleanup() {
      await stopAgent(dir.path);
      await client.close();
      dir.remove();
    },
  };
}

/** Brings every environment down through the agent, then makes sure no agent or instance survives. */
export async function stopAgent(stateDir: string): Promise<void> {
  const client = new AgentClient(stateDir);
  const pids = instancePids(stateDir);
  // A watchdog between two runs of its agent answers nothing: found by its lock, or it would start an agent
  // in a folder the test is about to remove.
  const watchdog = readHolder(agentPaths(stateDir).watchdogLock);
  if (watchdog && isAlive(watchdog.pid)) process.kill(watchdog.pid, 'SIGKILL');
  if (await client.isRunning()) {
    const info = await client.request<AgentInfo>('GET', '/v1/agent').catch(() => undefined);
    // The watchdog first, or it would start the agent again when it is killed below.
    if (info?.watchdog && isAlive(info.watchdog)) process.kill(info.watchdog, 'SIGKILL');
    const services = await client.request<{ environment: string }[]>('GET', '/v1/services').catch(() => []);
    for (const env of new Set(services.map((s) => s.environment))) {
      await client.request('DELETE', `/v1/environments/${env}`).catch(() => {});
    }
    for (const pid of [info?.pid, ...(info?.workers ?? [])]) {
      if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  }
  await client.close();
  const agent = readHolder(agentPaths(stateDir).agentLock);
  if (agent && isAlive(agent.pid)) process.kill(agent.pid, 'SIGKILL');
  for (const pid of pids) if (isAlive(pid)) process.kill(-pid, 'SIGKILL');
}

/**
 * Kills the whole local data plane, as losing it would: the watchdog (so nothing restarts the agent),
 * then the agent; its router workers exit with it. The fleets' instances keep running. Returns the
 * agent's pid once it and its workers are gone.
 */
export async function killDataPlane(stateDir: string): Promise<AgentInfo> {
  const client = new AgentClient(stateDir);
  const info = await client.request<AgentInfo>('GET', '/v1/agent');
  if (info.watchdog) process.kill(info.watchdog, 'SIGKILL');
  process.kill(info.pid, 'SIGKILL');
  const deadline = Date.now() + 5000;
  while ([info.pid, ...info.workers].some(isAlive) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return info;
}

export function instancePids(stateDir: string): number[] {
  try {
    const state = JSON.parse(readFileSync(agentPaths(stateDir).state, 'utf8')) as {
      services: { fleets: { instances: { pid?: number }[] }[] }[];
    };
    return state.services.flatMap((s) =>
      s.fleets.flatMap((f) => f.instances.flatMap((i) => (i.pid ? [i.pid] : []))),
    );
  } catch {
    return [];
  }
}
