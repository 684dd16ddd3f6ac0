import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ArtifactConfig, LocalEnvironmentConfig } from '../../config/schema.js';
import type { Clock } from '../../clock.js';
import { DeploymentFailed } from '../../errors.js';
import type { Measurement } from '../../../healthchecks/types.js';
import type { Fleet, FleetInfo, LaunchSpec, Progress, Target, TrafficRouter, Weights } from '../types.js';
import { AgentRefused, type AgentClient } from './agent-client.js';
import type { FleetStatus, ServiceStatus } from './protocol.js';
import { loadStore, setAside } from './store.js';

/** The local target: fleets of processes and a weighted router, both held by the agent. */

export interface LocalTargetOptions {
  client: AgentClient;
  environment: string;
  artifact: string;
  env: LocalEnvironmentConfig;
  artifactConfig: ArtifactConfig;
  baseDir: string;
  clock: Clock;
}

export function createLocalTarget(options: LocalTargetOptions): Target {
  const { client, environment, artifact } = options;
  const base = `/v1/services/${encodeURIComponent(environment)}/${encodeURIComponent(artifact)}`;
  // No agent, or no router for this service, means nothing is deployed: reading must not start one.
  const service = async (): Promise<ServiceStatus> => {
    const empty: ServiceStatus = {
      environment,
      artifact,
      listen: options.env.listen,
      weights: {},
      fleets: [],
    };
    // One request in the normal case; liveness is asked only when the request itself fails.
    try {
      return await client.request<ServiceStatus>('GET', base);
    } catch (error) {
      if (error instanceof AgentRefused && error.status === 404) return empty;
      if (!(await client.isRunning())) return empty;
      throw error;
    }
  };

  const fleet: Fleet = {
    async launch(spec: LaunchSpec): Promise<FleetInfo> {
      const status = await client.request<FleetStatus>('POST', `${base}/fleets`, {
        id: spec.id,
        version: spec.version,
        deployment: spec.deployment,
        capacity: options.env.capacity,
        command: options.artifactConfig.command,
        cwd: options.baseDir,
        drainTimeoutMs: options.env.drainTimeout,
      });
      return toFleetInfo(status);
    },

    async waitReady(
      fleetId: string,
      deadline: number,
      progress: Progress,
      signal?: AbortSignal,
    ): Promise<FleetInfo> {
      for (;;) {
        const status = (await service()).fleets.find((f) => f.id === fleetId);
        if (!status)
          throw new DeploymentFailed('FLEET_GONE', `fleet \`${fleetId}\` disappeared while starting`);
        const crashed = status.instances.find((i) => i.restarts > 0);
        if (crashed) {
          throw new DeploymentFailed(
            'INSTANCE_EXITED',
            `instance \`${crashed.id}\` of version \`${status.version}\` exited while starting (${crashed.lastExit})`,
            `see its log: ${crashed.log}`,
          );
        }
        const running = status.instances.filter((i) => i.state === 'running').length;
        if (running === status.instances.length) return toFleetInfo(status);
        if (options.clock.now() >= deadline) {
          throw new DeploymentFailed(
            'FLEET_START_TIMEOUT',
            `only ${running} of ${status.instances.length} instances of \`${status.version}\` listen on their port`,
            `see the instance logs in ${resolve(client.stateDir, 'logs')}`,
          );
        }
        progress(`${running}/${status.instances.length} instances listening`);
        await options.clock.sleep(25, signal);
      }
    },

    async list(): Promise<FleetInfo[]> {
      return (await service()).fleets.map(toFleetInfo);
    },

    async keepAsStandby(fleetId: string, until: number): Promise<void> {
      await client.request('PUT', `${base}/fleets/${encodeURIComponent(fleetId)}/standby`, { until });
    },

    // Which fleet is live is the router's weights; a local deploy in progress is the file lock.
    async promote(): Promise<void> {},

    // The local router has no health view of its own: the HTTP checks on each instance are it.
    async health(): Promise<Measurement[]> {
      return [];
    },

    async retire(fleetId: string): Promise<void> {
      await client.request('DELETE', `${base}/fleets/${encodeURIComponent(fleetId)}`);
    },
  };

  const router: TrafficRouter = {
    async ensure(): Promise<void> {
      await client.connect();
      await client.request('PUT', base, { listen: options.env.listen });
    },
    async readWeights(): Promise<Weights> {
      return (await service()).weights;
    },
    async setWeights(weights: Weights): Promise<void> {
      await client.request('PUT', `${base}/weights`, weights);
    },
  };

  const describe = async () => {
    const running = await client.isRunning();
    const details = {
      agent: running ? 'running' : 'stopped',
      agentLog: client.paths.log,
      listen: options.env.listen,
    };
    const { state, problem, lost } = loadStore(client.paths.state);
    const unreadable = setAside(client.paths.state);
    if (existsSync(unreadable)) {
      return {
        details,
        warning: `the local agent could not read its state and started with none: fleets started before may still run, unknown to it, and hold their ports. The file is kept as ${unreadable} (see ${client.paths.log}); remove it once they are dealt with`,
      };
    }
    if (lost && !running) {
      return {
        details,
        warning: `the local agent's state cannot be read (${problem}); the next agent will start with none`,
      };
    }
    const stored = state.services.find(
      (s) => s.environment === environment && s.artifact === artifact && s.fleets.length > 0,
    );
    if (running || !stored) return { details };
    return {
      details,
      warning: `the local agent is not running, so the router on ${options.env.listen} is down; its fleets may still run. Any cutover deploy or rollback starts it again and re-adopts them`,
    };
  };

  // The version label was validated and the command checked with the config: nothing more to look up.
  const preflight = async () => {};

  const plan = async (version: string): Promise<string[]> => {
    const current = await service();
    const live = Object.entries(current.weights).find(([, w]) => w > 0)?.[0];
    const lines = [`(start the local agent and the router on ${options.env.listen} if they are not running)`];
    for (const idle of current.fleets.filter((f) => f.id !== live))
      lines.push(`retire fleet ${idle.id} (${idle.version})`);
    lines.push(
      `start ${options.env.capacity} × ${(options.artifactConfig.command ?? []).join(' ')} with VERSION=${version}`,
    );
    lines.push(
      `(health checks: GET ${options.env.healthCheck.path} on each instance, up to ${Math.round(options.env.healthCheck.readyTimeout / 1000)} s)`,
    );
    lines.push(`set router weights: ${version} 100%`);
    lines.push(`(bake ${Math.round(options.env.bake / 1000)} s)`);
    const blue = current.fleets.find((f) => f.id === live);
    if (blue)
      lines.push(
        `keep ${blue.version} as standby for ${Math.round(options.env.rollbackWindow / 60_000)} min`,
      );
    return lines;
  };

  return { name: 'local', fleet, router, describe, preflight, plan };
}

function toFleetInfo(status: FleetStatus): FleetInfo {
  return {
    id: status.id,
    version: status.version,
    deployment: status.deployment,
    createdAt: status.createdAt,
    ...(status.standbyUntil !== undefined ? { standbyUntil: status.standbyUntil } : {}),
    instances: status.instances.map((i) => ({ id: i.id, url: `http://127.0.0.1:${i.port}` })),
  };
}
