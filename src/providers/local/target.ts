import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ArtifactConfig, LocalEnvironmentConfig } from '../../config/schema.js';
import type { Clock } from '../../clock.js';
import { formatDuration } from '../../duration.js';
import { parseListen, sameAddress } from '../../config/listen.js';
import { DeploymentFailed, UserInputError } from '../../errors.js';
import type { Measurement } from '../../../healthchecks/types.js';
import type {
  Fleet,
  FleetInfo,
  LaunchSpec,
  Progress,
  RoleChange,
  Target,
  TargetPlan,
  TrafficMetrics,
  TrafficRouter,
  Weights,
} from '../types.js';
import { AgentRefused, type AgentClient } from './agent-client.js';
import { requireHaproxy } from './haproxy-binary.js';
import type { AgentInfo, FleetStatus, RequestCountsReply, ServiceStatus } from './protocol.js';
import { sumWholeSeconds } from './request-counts.js';
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
      if (!(await client.awaitRestart())) return empty;
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
        env: options.env.env ?? {},
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

    // The agent records the role: it retires a standby whose window closed, and nothing else.
    async setRole(fleetId: string, change: RoleChange): Promise<void> {
      await client.request('PUT', `${base}/fleets/${encodeURIComponent(fleetId)}/role`, change);
    },

    async expireGreen(fleetId: string, until: number): Promise<void> {
      await client.request('PUT', `${base}/fleets/${encodeURIComponent(fleetId)}/gate`, { until });
    },

    /**
     * The HTTP checks on each instance are the fleet's health; what they cannot see is the router, which
     * lives in the agent. A bake must not pass while no request can reach green at all.
     */
    async health(): Promise<Measurement[]> {
      // An agent its watchdog is restarting is back within a second or two, routing as before.
      if (await client.awaitRestart()) return [];
      return [
        {
          instance: 'local router',
          outcome: 'error',
          detail: `the local agent, which holds the router on ${options.env.listen}, is not running`,
          at: options.clock.now(),
        },
      ];
    },

    async retire(fleetId: string): Promise<void> {
      await client.request('DELETE', `${base}/fleets/${encodeURIComponent(fleetId)}`);
    },
  };

  const router: TrafficRouter = {
    async ensure(): Promise<void> {
      // Before the agent starts anything: a rollback or a recovery checks it as a deploy's preflight does.
      if (options.env.router === 'haproxy') requireHaproxy(environment);
      await client.connect();
      try {
        await client.request('PUT', base, { listen: options.env.listen, router: options.env.router });
      } catch (error) {
        // The router cannot be where the config says (it serves another address, or the port is taken):
        // the config and the machine disagree, and nothing has changed yet.
        if (!(error instanceof AgentRefused && error.status === 409)) throw error;
        if (error.reason === 'ROUTER_CHANGED') {
          throw new UserInputError(
            'ROUTER_CHANGED',
            error.message,
            `\`cutover down environment=${environment}\` stops the environment (its fleets too); the next deploy starts it with the router the config names. Or set \`router\` back`,
          );
        }
        throw new UserInputError(
          'LISTEN_UNAVAILABLE',
          error.message,
          `check \`listen\` of environment \`${environment}\` in the config; \`cutover down environment=${environment}\` stops a router that must move`,
        );
      }
    },
    async readWeights(): Promise<Weights> {
      return (await service()).weights;
    },
    async setWeights(weights: Weights): Promise<void> {
      await client.request('PUT', `${base}/weights`, weights);
    },
  };

  const metrics: TrafficMetrics = {
    async requestCounts(fleetIds, from, to) {
      const query = new URLSearchParams(fleetIds.map((id) => ['fleet', id]));
      query.set('from', String(from));
      query.set('to', String(to));
      try {
        const reply = await client.request<RequestCountsReply>('GET', `${base}/requests?${query}`);
        return sumWholeSeconds(reply, fleetIds, from, to);
      } catch (error) {
        // No router for the service here (404), or one that cannot listen yet (503): it counted nothing,
        // so it has no data. An agent that does not answer at all is an error the caller reports.
        if (!(error instanceof AgentRefused && (error.status === 404 || error.status === 503))) throw error;
        return Object.fromEntries(fleetIds.map((id) => [id, undefined]));
      }
    },
  };

  const describe = async () => {
    const running = await client.isRunning();
    const info = running
      ? await client.request<AgentInfo>('GET', '/v1/agent').catch(() => undefined)
      : undefined;
    const details = {
      agent: info ? describeAgent(info) : running ? 'running' : 'stopped',
      agentLog: client.paths.log,
      listen: options.env.listen,
    };
    if (info?.unsaved) {
      return {
        details,
        warning: `the local agent cannot save its state (${info.unsaved}); it routes from memory and keeps trying, but an agent restarted meanwhile would come back with what was saved last`,
      };
    }
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
    // Never deployed and no agent: nothing to say beyond "nothing is deployed", which status sees itself.
    if (running || !stored) return { details };
    return {
      details,
      down: `the local agent is not running, so nothing answers on ${options.env.listen}`,
      warning: `the local agent is not running, so the router on ${options.env.listen} is down; its fleets may still run. Any cutover deploy or rollback starts it again and re-adopts them`,
    };
  };

  /**
   * The version label and the command were checked with the config. What is left is the address: one
   * router per address, so a second artifact on an address another artifact serves is refused here,
   * before the agent starts anything, rather than by the agent's bind.
   */
  const preflight = async () => {
    if (options.env.router === 'haproxy') requireHaproxy(environment);
    const ours = parseListen(options.env.listen);
    if (!ours) return;
    const taken = (await allServices()).find((s) => {
      if (s.environment === environment && s.artifact === artifact) return false;
      const theirs = parseListen(s.listen);
      return theirs !== undefined && sameAddress(ours, theirs);
    });
    if (taken) {
      throw new UserInputError(
        'LISTEN_TAKEN',
        `${options.env.listen} already serves artifact \`${taken.artifact}\` (environment \`${taken.environment}\` on ${taken.listen}), so \`${artifact}\` cannot have a router there`,
        `one address serves one artifact: give \`${artifact}\` an environment of its own with another \`listen\`, or stop \`${taken.artifact}\` first with \`cutover down environment=${taken.environment}\``,
      );
    }
  };
  // The router is cutover's own: nothing else can have been added to it.
  const checkRouting = async () => {};

  // What the agent serves, or, with no agent, what the next agent will re-adopt from its state file.
  const allServices = async (): Promise<{ environment: string; artifact: string; listen: string }[]> => {
    try {
      return await client.request<ServiceStatus[]>('GET', '/v1/services');
    } catch (error) {
      if (await client.awaitRestart()) throw error;
      return loadStore(client.paths.state).state.services;
    }
  };

  // Mirrors the controller's order: fleets that are no rollback target go first; the standby stays until
  // the new green is live, then gives way to the fleet green replaced.
  const plan = async (version: string): Promise<TargetPlan> => {
    if (options.env.router === 'haproxy') requireHaproxy(environment);
    const current = await service();
    // The fleet recorded live while it takes traffic (mid-canary a green takes some too), else the largest share.
    const share = (id: string) => current.weights[id] ?? 0;
    const live =
      current.fleets.find((f) => f.role === 'live' && share(f.id) > 0)?.id ??
      Object.keys(current.weights).sort((a, b) => share(b) - share(a))[0];
    const idle = current.fleets.filter((f) => f.id !== live);
    const standbys = idle.filter((f) => f.role === 'standby').sort((a, b) => b.createdAt - a.createdAt);
    const standby = standbys[0];
    const lines = [`(start the local agent and the router on ${options.env.listen} if they are not running)`];
    for (const old of idle.filter((f) => f !== standby))
      lines.push(`retire fleet ${old.id} (${old.version}, ${old.role})`);
    lines.push(
      `start ${options.env.capacity} × ${(options.artifactConfig.command ?? []).join(' ')} with VERSION=${version}`,
    );
    lines.push(
      `(health checks: GET ${options.env.healthCheck.path} on each instance, up to ${formatDuration(options.env.healthCheck.readyTimeout)})`,
    );
    const blue = current.fleets.find((f) => f.id === live);
    const promote: string[] = [];
    if (blue)
      promote.push(`keep ${blue.version} as standby for ${formatDuration(options.env.rollbackWindow)}`);
    if (standby) promote.push(`retire fleet ${standby.id} (${standby.version}, the previous standby)`);
    return {
      live: blue !== undefined,
      launch: lines,
      setWeight: (percent) =>
        `set router weights: ${version} ${percent}%${blue && percent < 100 ? `, ${blue.version} ${100 - percent}%` : ''}`,
      promote,
    };
  };

  const publicUrl = async () => routerUrl(options.env.listen);

  return {
    name: 'local',
    standbyGivesWay: false,
    fleet,
    router,
    metrics,
    publicUrl,
    describe,
    preflight,
    checkRouting,
    plan,
  };
}

/**
 * Where a client on this host reaches the router: its `listen` address as a URL, an IPv6 host in brackets.
 * A wildcard address is reached on loopback, since 0.0.0.0 and [::] name no host to connect to.
 */
export function routerUrl(listen: string): string | undefined {
  const address = parseListen(listen);
  if (!address) return undefined;
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

function toFleetInfo(status: FleetStatus): FleetInfo {
  return {
    id: status.id,
    version: status.version,
    deployment: status.deployment,
    createdAt: status.createdAt,
    role: status.role,
    ...(status.standbyUntil !== undefined ? { standbyUntil: status.standbyUntil } : {}),
    instances: status.instances.map((i) => ({
      id: i.id,
      url: `http://127.0.0.1:${i.port}`,
      up: i.state === 'running',
    })),
  };
}

function describeAgent(info: AgentInfo): string {
  const workers = info.workers.length === 0 ? 'routing itself' : `${info.workers.length} router workers`;
  const keeper = info.managed
    ? 'run by a service manager (`cutover agent`)'
    : info.watchdog !== undefined
      ? `watchdog pid ${info.watchdog}`
      : 'no watchdog: nothing restarts it if it dies; the next cutover command that needs it starts one';
  return `running, pid ${info.pid}, ${workers}, ${keeper}`;
}
