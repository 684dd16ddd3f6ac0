import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parseListen, sameAddress } from '../../config/listen.js';
import { instanceEnvironment } from './instance-env.js';
import { stillOurs } from './ownership.js';
import { serviceKey } from './protocol.js';
import { WeightedRouter } from './router.js';
import {
  acceptsConnections,
  freePort,
  isPidReused,
  isSameProcess,
  processStartTime,
  stopGraceMs,
  stopProcessGroup,
} from './processes.js';
import type { FleetStatus, InstanceState, LaunchRequest, ServiceStatus } from './protocol.js';
import type { RoleChange } from '../types.js';
import {
  loadStore,
  previousCopy,
  roleOf,
  setAside,
  writeStore,
  type StoredFleet,
  type StoredInstance,
  type StoredService,
} from './store.js';

/**
 * The local target's long-lived half: a tiny ALB plus Auto Scaling on one host. It hosts one weighted
 * router per environment and artifact, supervises fleet processes (restarting those that die), retires a
 * standby when its rollback window closes, and records everything so a restarted agent re-adopts its fleets.
 */

interface RuntimeInstance {
  stored: StoredInstance;
  state: InstanceState;
  restarts: number;
  lastExit: string | undefined;
  restartAt: number;
  child: ChildProcess | undefined;
}

interface RuntimeService {
  stored: StoredService;
  router: WeightedRouter;
  instances: Map<string, RuntimeInstance>;
  retiring: Set<string>;
}

export class AgentError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const superviseEveryMs = 250;

export class Agent {
  private services = new Map<string, RuntimeService>();
  private timer: NodeJS.Timeout | undefined;
  private supervising = false;
  readonly startedAt = Date.now();
  /** Why the state on disk could not be used as it was, if it could not: for the agent's log. */
  stateProblem: string | undefined;

  constructor(
    private readonly stateFile: string,
    private readonly logDir: string,
    private readonly onEmpty: () => void = () => {},
  ) {}

  /** Re-adopts what the last agent left: routers come back on their addresses, live processes are kept. */
  async start(): Promise<void> {
    // Instance logs may show what an instance was given: owner-only, like the state file.
    mkdirSync(this.logDir, { recursive: true, mode: 0o700 });
    chmodSync(this.logDir, 0o700);
    const { state, problem, lost } = loadStore(this.stateFile);
    this.stateProblem = problem;
    // Nothing could be read: adopt nothing, and keep the files for a person (and `cutover status`) to
    // see, since fleets the last agent ran may still hold their ports.
    if (lost) setAsideUnreadable(this.stateFile);
    const adopted: RuntimeInstance[] = [];
    for (const stored of state.services) {
      const service = await this.openService(stored);
      for (const fleet of stored.fleets) {
        for (const instance of fleet.instances) {
          const runtime = this.track(service, instance);
          if (instance.pid !== undefined && isSameProcess(instance.pid, instance.processStart)) {
            runtime.state = 'starting';
            adopted.push(runtime);
          } else {
            runtime.restartAt = 0;
            if (instance.pid !== undefined && isPidReused(instance.pid, instance.processStart)) {
              instance.pid = undefined;
              instance.processStart = undefined;
            }
          }
        }
        service.router.setFleet(
          fleet.id,
          fleet.instances.map((i) => `http://127.0.0.1:${i.port}`),
        );
      }
      service.router.setWeights(stored.weights);
    }
    // Known to be running before the control channel opens: the command that restarted this agent (a
    // rollback, often) must not find its standby "starting" and refuse to send it traffic.
    await Promise.all(
      adopted.map(async (runtime) => {
        if (await acceptsConnections(runtime.stored.port)) runtime.state = 'running';
      }),
    );
    this.timer = setInterval(() => void this.supervise(), superviseEveryMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.services.values()].map((s) => s.router.close()));
  }

  serviceCount(): number {
    return this.services.size;
  }

  async ensureService(environment: string, artifact: string, listen: string): Promise<ServiceStatus> {
    const key = serviceKey(environment, artifact);
    const existing = this.services.get(key);
    if (existing) {
      if (existing.stored.listen !== listen) {
        throw new AgentError(
          409,
          `the router of \`${key}\` listens on ${existing.stored.listen}, not ${listen}; run \`cutover down environment=${environment}\` to move it`,
        );
      }
      return this.status(existing);
    }
    const wanted = parseListen(listen);
    for (const other of this.services.values()) {
      const theirs = parseListen(other.stored.listen);
      if (wanted && theirs && sameAddress(wanted, theirs)) {
        throw new AgentError(
          409,
          `${listen} already serves artifact \`${other.stored.artifact}\` of environment \`${other.stored.environment}\`; one address serves one artifact`,
        );
      }
    }
    const stored: StoredService = { environment, artifact, listen, weights: {}, fleets: [] };
    const service = await this.openService(stored);
    this.persist();
    return this.status(service);
  }

  getService(environment: string, artifact: string): ServiceStatus {
    return this.status(this.service(environment, artifact));
  }

  listServices(): ServiceStatus[] {
    return [...this.services.values()].map((s) => this.status(s));
  }

  async launch(environment: string, artifact: string, request: LaunchRequest): Promise<FleetStatus> {
    const service = this.service(environment, artifact);
    if (service.stored.fleets.some((f) => f.id === request.id)) {
      throw new AgentError(409, `fleet \`${request.id}\` already exists`);
    }
    const fleet: StoredFleet = {
      id: request.id,
      version: request.version,
      deployment: request.deployment,
      createdAt: Date.now(),
      role: 'green',
      standbyUntil: undefined,
      command: request.command,
      cwd: request.cwd,
      drainTimeoutMs: request.drainTimeoutMs,
      env: request.env ?? {},
      instances: [],
    };
    // A port handed out is free until its instance binds it: never hand out one twice meanwhile.
    const handedOut = new Set(
      [...this.services.values()].flatMap((s) =>
        s.stored.fleets.flatMap((f) => f.instances.map((i) => i.port)),
      ),
    );
    for (let i = 0; i < request.capacity; i++) {
      const id = `${request.id}-${i}`;
      let port = await freePort();
      while (handedOut.has(port)) port = await freePort();
      handedOut.add(port);
      fleet.instances.push({
        id,
        port,
        pid: undefined,
        log: join(this.logDir, `${environment}-${artifact}-${id}.log`),
      });
    }
    service.stored.fleets.push(fleet);
    for (const instance of fleet.instances) this.spawnInstance(fleet, this.track(service, instance));
    service.router.setFleet(
      fleet.id,
      fleet.instances.map((i) => `http://127.0.0.1:${i.port}`),
    );
    this.persist();
    return this.fleetStatus(service, fleet);
  }

  setWeights(environment: string, artifact: string, weights: Record<string, number>): ServiceStatus {
    const service = this.service(environment, artifact);
    for (const id of Object.keys(weights)) {
      if (!service.stored.fleets.some((f) => f.id === id))
        throw new AgentError(404, `fleet \`${id}\` is not here`);
      if ((weights[id] ?? 0) > 0 && service.retiring.has(id)) {
        throw new AgentError(409, `fleet \`${id}\` is being retired`);
      }
      const fleet = service.stored.fleets.find((f) => f.id === id);
      if ((weights[id] ?? 0) > 0 && fleet && roleOf(fleet, service.stored.weights) === 'failed') {
        throw new AgentError(409, `fleet \`${id}\` failed its deploy and never takes traffic`);
      }
    }
    try {
      service.router.setWeights(weights);
    } catch (error) {
      throw new AgentError(400, (error as Error).message);
    }
    service.stored.weights = service.router.getWeights();
    this.persist();
    return this.status(service);
  }

  /** Only a standby has a window: a fleet that becomes live again must not be retired when it closes. */
  setRole(environment: string, artifact: string, fleetId: string, change: RoleChange): FleetStatus {
    const service = this.service(environment, artifact);
    const fleet = this.fleet(service, fleetId);
    if (service.retiring.has(fleetId)) throw new AgentError(409, `fleet \`${fleetId}\` is being retired`);
    const valid =
      change.role === 'live' ||
      change.role === 'failed' ||
      (change.role === 'standby' && Number.isFinite(change.until));
    if (!valid) throw new AgentError(400, `not a role change: ${JSON.stringify(change)}`);
    fleet.role = change.role;
    fleet.standbyUntil = change.role === 'standby' ? change.until : undefined;
    this.persist();
    return this.fleetStatus(service, fleet);
  }

  /** Waits for requests in flight on the fleet to finish (up to its drain timeout), then stops it. */
  async retire(environment: string, artifact: string, fleetId: string): Promise<void> {
    const service = this.service(environment, artifact);
    const fleet = this.fleet(service, fleetId);
    if ((service.stored.weights[fleetId] ?? 0) > 0) {
      throw new AgentError(409, `fleet \`${fleetId}\` takes traffic; move traffic off it before retiring it`);
    }
    if (service.retiring.has(fleetId)) return;
    service.retiring.add(fleetId);
    try {
      const drainUntil = Date.now() + fleet.drainTimeoutMs;
      while (service.router.inFlight(fleetId) > 0 && Date.now() < drainUntil) {
        await new Promise((r) => setTimeout(r, 25));
      }
      service.router.removeFleet(fleetId);
      await Promise.all(
        fleet.instances.map(async (instance) => {
          const runtime = service.instances.get(instance.id);
          if (runtime) runtime.state = 'stopped';
          if (stillOurs(instance)) await stopProcessGroup(instance.pid, stopGraceMs);
          service.instances.delete(instance.id);
        }),
      );
      service.stored.fleets = service.stored.fleets.filter((f) => f.id !== fleetId);
      this.persist();
    } finally {
      service.retiring.delete(fleetId);
    }
  }

  /** Stops every router and fleet of an environment. */
  async down(environment: string): Promise<string[]> {
    const stopped: string[] = [];
    for (const [key, service] of this.services) {
      if (service.stored.environment !== environment) continue;
      service.stored.weights = {};
      service.router.setWeights({});
      for (const fleet of [...service.stored.fleets])
        await this.retire(environment, service.stored.artifact, fleet.id);
      await service.router.close();
      this.services.delete(key);
      stopped.push(key);
    }
    this.persist();
    if (this.services.size === 0) this.onEmpty();
    return stopped;
  }

  private async openService(stored: StoredService): Promise<RuntimeService> {
    const router = new WeightedRouter();
    const [host, port] = splitListen(stored.listen);
    try {
      await router.listen(host, port);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new AgentError(
        409,
        `the router of \`${serviceKey(stored.environment, stored.artifact)}\` cannot listen on ${stored.listen}: ${code ?? (error as Error).message}`,
      );
    }
    const service: RuntimeService = { stored, router, instances: new Map(), retiring: new Set() };
    this.services.set(serviceKey(stored.environment, stored.artifact), service);
    return service;
  }

  private track(service: RuntimeService, stored: StoredInstance): RuntimeInstance {
    const runtime: RuntimeInstance = {
      stored,
      state: 'restarting',
      restarts: 0,
      lastExit: undefined,
      restartAt: Date.now(),
      child: undefined,
    };
    service.instances.set(stored.id, runtime);
    return runtime;
  }

  private spawnInstance(fleet: StoredFleet, runtime: RuntimeInstance): void {
    const [command, ...args] = fleet.command as [string, ...string[]];
    const log = openSync(runtime.stored.log, 'a', 0o600);
    try {
      // A log left by an older agent may have been created readable by all.
      fchmodSync(log, 0o600);
      // Detached into its own process group: an instance outlives its agent and is re-adopted by the next.
      const child = spawn(command, args, {
        cwd: fleet.cwd,
        env: instanceEnvironment({
          base: process.env,
          configured: fleet.env,
          port: runtime.stored.port,
          version: fleet.version,
        }),
        detached: true,
        stdio: ['ignore', log, log],
      });
      child.unref();
      runtime.child = child;
      runtime.stored.pid = child.pid;
      runtime.stored.processStart = child.pid === undefined ? undefined : processStartTime(child.pid);
      runtime.state = 'starting';
      child.once('error', (error) => this.exited(runtime, `could not start: ${error.message}`));
      child.once('exit', (code, signal) =>
        this.exited(runtime, signal ? `killed by ${signal}` : `exit code ${code}`),
      );
      void this.watchStart(runtime, child);
    } finally {
      closeSync(log);
    }
  }

  /**
   * Polls a starting instance's port closely, so a deploy learns it listens within tens of milliseconds
   * rather than at the next supervision round.
   */
  private async watchStart(runtime: RuntimeInstance, child: ChildProcess): Promise<void> {
    const until = Date.now() + 30_000;
    while (runtime.child === child && runtime.state === 'starting' && Date.now() < until) {
      if (await acceptsConnections(runtime.stored.port)) {
        if (runtime.child === child && runtime.state === 'starting') runtime.state = 'running';
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private exited(runtime: RuntimeInstance, reason: string): void {
    if (runtime.state === 'stopped') return;
    runtime.child = undefined;
    runtime.lastExit = reason;
    runtime.restarts++;
    runtime.state = 'restarting';
    runtime.restartAt = Date.now() + Math.min(30_000, 500 * 2 ** Math.min(runtime.restarts, 6));
  }

  private async supervise(): Promise<void> {
    if (this.supervising) return;
    this.supervising = true;
    try {
      const now = Date.now();
      for (const service of this.services.values()) {
        for (const fleet of service.stored.fleets) {
          if (service.retiring.has(fleet.id)) continue;
          if (
            roleOf(fleet, service.stored.weights) === 'standby' &&
            fleet.standbyUntil !== undefined &&
            now >= fleet.standbyUntil &&
            !service.stored.weights[fleet.id]
          ) {
            void this.retire(service.stored.environment, service.stored.artifact, fleet.id).catch(() => {});
            continue;
          }
          for (const stored of fleet.instances) {
            const runtime = service.instances.get(stored.id);
            if (!runtime || runtime.state === 'stopped') continue;
            if (
              runtime.state !== 'restarting' &&
              !runtime.child &&
              stored.pid !== undefined &&
              !isSameProcess(stored.pid, stored.processStart)
            ) {
              this.exited(runtime, 'exited while the agent was away');
            }
            if (runtime.state === 'restarting' && now >= runtime.restartAt) {
              this.spawnInstance(fleet, runtime);
              this.persist();
            } else if (runtime.state === 'starting' && (await acceptsConnections(stored.port))) {
              runtime.state = 'running';
            }
          }
        }
      }
    } finally {
      this.supervising = false;
    }
  }

  private service(environment: string, artifact: string): RuntimeService {
    const service = this.services.get(serviceKey(environment, artifact));
    if (!service) throw new AgentError(404, `no router for \`${serviceKey(environment, artifact)}\` here`);
    return service;
  }

  private fleet(service: RuntimeService, fleetId: string): StoredFleet {
    const fleet = service.stored.fleets.find((f) => f.id === fleetId);
    if (!fleet) throw new AgentError(404, `fleet \`${fleetId}\` is not here`);
    return fleet;
  }

  private status(service: RuntimeService): ServiceStatus {
    return {
      environment: service.stored.environment,
      artifact: service.stored.artifact,
      listen: service.stored.listen,
      weights: { ...service.stored.weights },
      fleets: service.stored.fleets.map((fleet) => this.fleetStatus(service, fleet)),
    };
  }

  private fleetStatus(service: RuntimeService, fleet: StoredFleet): FleetStatus {
    return {
      id: fleet.id,
      version: fleet.version,
      deployment: fleet.deployment,
      createdAt: fleet.createdAt,
      role: service.retiring.has(fleet.id) ? 'retiring' : roleOf(fleet, service.stored.weights),
      standbyUntil: fleet.standbyUntil,
      instances: fleet.instances.map((stored) => {
        const runtime = service.instances.get(stored.id);
        return {
          id: stored.id,
          port: stored.port,
          pid: stored.pid,
          state: runtime?.state ?? 'stopped',
          restarts: runtime?.restarts ?? 0,
          lastExit: runtime?.lastExit,
          log: stored.log,
        };
      }),
    };
  }

  private persist(): void {
    writeStore(this.stateFile, { services: [...this.services.values()].map((s) => s.stored) });
  }
}

function setAsideUnreadable(stateFile: string): void {
  for (const file of [stateFile, previousCopy(stateFile)]) {
    try {
      renameSync(file, setAside(file));
    } catch {
      // Missing: nothing to keep.
    }
  }
}

/** The config checked the address; a state file edited by hand is refused here rather than bound wrongly. */
function splitListen(listen: string): [string, number] {
  const address = parseListen(listen);
  if (!address) throw new AgentError(400, `\`${listen}\` is not a host:port address`);
  return [address.host, address.port];
}
