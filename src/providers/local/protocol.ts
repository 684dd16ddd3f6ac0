import type { FleetRole } from '../types.js';

/** What the CLI and the local agent say to each other over the agent's unix socket. */

export type InstanceState = 'starting' | 'running' | 'restarting' | 'stopped';

export interface InstanceStatus {
  id: string;
  port: number;
  pid: number | undefined;
  state: InstanceState;
  /** How many times it exited and was started again. */
  restarts: number;
  lastExit: string | undefined;
  /** When a restarting instance is started again (ms since the epoch). */
  restartAt: number | undefined;
  log: string;
}

export interface FleetStatus {
  id: string;
  version: string;
  deployment: string;
  createdAt: number;
  role: FleetRole;
  standbyUntil: number | undefined;
  instances: InstanceStatus[];
}

export interface ServiceStatus {
  environment: string;
  artifact: string;
  listen: string;
  /** Absent from agents older than `router:`, which serve with the built-in router. */
  router?: RouterKind;
  weights: Record<string, number>;
  fleets: FleetStatus[];
}

/** What serves a local environment's address: cutover's own router, or HAProxy driven by the agent. */
export type RouterKind = 'builtin' | 'haproxy';

export interface EnsureServiceRequest {
  listen: string;
  /** Absent from CLIs older than `router:`: the built-in router. */
  router?: RouterKind;
}

export interface LaunchRequest {
  id: string;
  version: string;
  deployment: string;
  capacity: number;
  command: string[];
  cwd: string;
  drainTimeoutMs: number;
  /** The environment's `env:` map; it may hold secrets, so the agent keeps it only in its state file. */
  env: Record<string, string>;
}

export interface AgentInfo {
  pid: number;
  startedAt: number;
  services: number;
  /** The live watchdog that restarts the agent, if there is one. */
  watchdog: number | undefined;
  /** Run by a service manager (`cutover agent`), which restarts it. */
  managed: boolean;
  /** Router worker processes; empty when the agent routes itself (one core). */
  workers: number[];
  /** Why the agent's state could not be saved, while it cannot. */
  unsaved: string | undefined;
}

/**
 * `GET /v1/services/{env}/{artifact}/requests?fleet=ID&fleet=ID&from=MS&to=MS`: what the service's routers
 * counted for those fleets, by epoch second, from the second `from` falls in to the one `to` falls in.
 * The caller sums the whole seconds it wants (request-counts.ts); the agent only says what it can vouch for.
 */
export interface RequestCountsReply {
  /** Epoch ms from which on every response is counted: the routers opened, or the last counts were lost. */
  countedSince: number;
  /** Epoch ms up to which every response is counted: the agent collected from its routers just now. */
  countedUntil: number;
  /**
   * Each asked fleet the router serves: `[second, requests, errors]` for the seconds that had a response.
   * A fleet it does not serve (never here, or retired, and its counts dropped) is absent.
   */
  fleets: Record<string, [number, number, number][]>;
}

/** How a service (an environment's router for one artifact) is named in messages and the agent's maps. */
export function serviceKey(environment: string, artifact: string): string {
  return `${environment}/${artifact}`;
}
