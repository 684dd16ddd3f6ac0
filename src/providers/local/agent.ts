import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseListen, sameAddress } from '../../config/listen.js';
import { CutoverError } from '../../errors.js';
import { instanceEnvironment } from './instance-env.js';
import { stillOurs } from './ownership.js';
import { serviceKey } from './protocol.js';
import {
  defaultRestartPolicy,
  restartDelayMs,
  streakAfterExit,
  type RestartPolicy,
} from './restart-policy.js';
import { openInProcess, type OpenRouter, type RouterTable, type ServiceRouter } from './service-router.js';
import {
  acceptsConnections,
  freePort,
  isPidReused,
  isSameProcess,
  processStartTime,
  stopGraceMs,
  stopProcessGroup,
} from './processes.js';
import type {
  FleetStatus,
  InstanceState,
  LaunchRequest,
  RequestCountsReply,
  RouterKind,
  ServiceStatus,
} from './protocol.js';
import type { RoleChange, Weights } from '../types.js';
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
  /** Crashes without a stable run between them: what the restart delay grows with. */
  crashStreak: number;
  startedAt: number;
  lastExit: string | undefined;
  restartAt: number;
  child: ChildProcess | undefined;
}

interface RuntimeService {
  stored: StoredService;
  router: ServiceRouter;
  instances: Map<string, RuntimeInstance>;
  retiring: Set<string>;
  /** The down set the routers were last given, to send only changes. */
  sentDown: string;
}

export interface AgentOptions {
  stateFile: string;
  logDir: string;
  /** The built-in router: in this process, or the router worker pool. */
  openRouter?: OpenRouter;
  /** `router: haproxy`; by default HAProxy with its files in the agent's folder (haproxy-router.ts). */
  openHaproxy?: OpenRouter;
  onEmpty?: () => void;
  log?: (line: string) => void;
  restartPolicy?: RestartPolicy;
  /** How state reaches the disk; a test gives one that fails like a full disk. */
  save?: typeof writeStore;
  /** How long a re-adopted router keeps trying an address a dying predecessor may still hold. */
  bindRetryMs?: number;
}

export class AgentError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** For the CLI to tell one refusal from another with the same status. */
    readonly code?: string,
  ) {
    super(message);
  }
}

const superviseEveryMs = 250;

export class Agent {
  private services = new Map<string, RuntimeService>();
  /** Recorded services whose address could not be had at start: retried, never dropped. */
  private unopened: StoredService[] = [];
  private timer: NodeJS.Timeout | undefined;
  private supervising = false;
  readonly startedAt = Date.now();
  /** Why the state on disk could not be used as it was, if it could not: for the agent's log. */
  stateProblem: string | undefined;
  /** Why the last save failed, while it does: routing goes on from memory and saving is retried. */
  unsaved: string | undefined;
  private readonly stateFile: string;
  private readonly logDir: string;
  private readonly openRouter: OpenRouter;
  private readonly openHaproxy: OpenRouter;
  private readonly onEmpty: () => void;
  private readonly log: (line: string) => void;
  private readonly restartPolicy: RestartPolicy;
  private readonly save: typeof writeStore;
  private readonly bindRetryMs: number;

  constructor(options: AgentOptions) {
    this.stateFile = options.stateFile;
    this.logDir = options.logDir;
    this.openRouter = options.openRouter ?? openInProcess;
    this.openHaproxy =
      options.openHaproxy ??
      (async (address, table, service) => {
        // Loaded on demand: an agent that serves no `router: haproxy` environment never loads it.
        const { haproxyOpener } = await import('./haproxy-router.js');
        return haproxyOpener({ agentDir: dirname(this.stateFile), log: this.log })(address, table, service);
      });
    this.onEmpty = options.onEmpty ?? (() => {});
    this.log = options.log ?? ((line) => console.error(`${new Date().toISOString()} ${line}`));
    this.restartPolicy = options.restartPolicy ?? defaultRestartPolicy;
    this.save = options.save ?? writeStore;
    this.bindRetryMs = options.bindRetryMs ?? 3000;
  }

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
    const adopted: { service: StoredService; runtime: RuntimeInstance }[] = [];
    const runtimes = new Map<StoredService, Map<string, RuntimeInstance>>();
    for (const stored of state.services) {
      const instances = new Map<string, RuntimeInstance>();
      runtimes.set(stored, instances);
      for (const fleet of stored.fleets) {
        for (const instance of fleet.instances) {
          const runtime = this.newRuntime(instance);
          instances.set(instance.id, runtime);
          if (instance.pid !== undefined && isSameProcess(instance.pid, instance.processStart)) {
            runtime.state = 'starting';
            adopted.push({ service: stored, runtime });
          } else {
            runtime.restartAt = 0;
            if (instance.pid !== undefined && isPidReused(instance.pid, instance.processStart)) {
              instance.pid = undefined;
              instance.processStart = undefined;
            }
          }
        }
      }
    }
    // Known to be running before the routers and the control channel open: the command that restarted
    // this agent (a rollback, often) must not find its standby "starting" and refuse to send it traffic,
    // and the routers must not start with every instance marked down.
    await Promise.all(
      adopted.map(async ({ runtime }) => {
        if (await acceptsConnections(runtime.stored.port)) runtime.state = 'running';
      }),
    );
    await Promise.all(
      state.services.map(async (stored) => {
        const instances = runtimes.get(stored) ?? new Map<string, RuntimeInstance>();
        try {
          await this.openService(stored, instances, this.bindRetryMs);
        } catch (error) {
          this.log(`${(error as Error).message}; routing for it is retried every few seconds`);
          this.unopened.push(stored);
        }
      }),
    );
    this.timer = setInterval(() => void this.supervise(), superviseEveryMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.services.values()].map((s) => s.router.close()));
  }

  serviceCount(): number {
    return this.services.size + this.unopened.length;
  }

  async ensureService(
    environment: string,
    artifact: string,
    listen: string,
    router: RouterKind = 'builtin',
  ): Promise<ServiceStatus> {
    const key = serviceKey(environment, artifact);
    const existing = this.services.get(key);
    if (existing) {
      if (existing.stored.listen !== listen) {
        throw new AgentError(
          409,
          `the router of \`${key}\` listens on ${existing.stored.listen}, not ${listen}; run \`cutover down environment=${environment}\` to move it`,
        );
      }
      const serving = routerOf(existing.stored);
      if (serving !== router) {
        // Swapping the process that holds the address under traffic would drop requests: never silently.
        throw new AgentError(
          409,
          `\`${key}\` is served by ${routerName(serving)}, and the config now asks for ${routerName(router)}`,
          'ROUTER_CHANGED',
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
    const stored: StoredService = {
      environment,
      artifact,
      listen,
      ...(router === 'haproxy' ? { router } : {}),
      weights: {},
      fleets: [],
    };
    const service = await this.openService(stored, new Map(), 0);
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
    // Recorded before anything starts: instances a restarted agent would not know of would hold their ports.
    try {
      this.persistOrRefuse('no instance was started');
    } catch (error) {
      service.stored.fleets = service.stored.fleets.filter((f) => f !== fleet);
      throw error;
    }
    for (const instance of fleet.instances) {
      const runtime = this.newRuntime(instance);
      service.instances.set(instance.id, runtime);
      this.spawnInstance(fleet, runtime);
    }
    await this.sendDown(service);
    await service.router.setFleet(fleet.id, fleet.instances.map(instanceUrl));
    this.persist();
    return this.fleetStatus(service, fleet);
  }

  /** Resolves once every router serving the address routes by the new weights. */
  async setWeights(environment: string, artifact: string, weights: Weights): Promise<ServiceStatus> {
    const service = this.service(environment, artifact);
    for (const [id, weight] of Object.entries(weights)) {
      if (!Number.isInteger(weight) || weight < 0 || weight > 100) {
        throw new AgentError(400, `weight of \`${id}\` must be a whole number from 0 to 100, got ${weight}`);
      }
      const fleet = service.stored.fleets.find((f) => f.id === id);
      if (!fleet) throw new AgentError(404, `fleet \`${id}\` is not here`);
      if (weight === 0) continue;
      if (service.retiring.has(id)) throw new AgentError(409, `fleet \`${id}\` is being retired`);
      if (roleOf(fleet, service.stored.weights) === 'failed') {
        throw new AgentError(409, `fleet \`${id}\` failed its deploy and never takes traffic`);
      }
      if (fleet.instances.length === 0) throw new AgentError(400, `fleet \`${id}\` has no instances`);
    }
    const serving = Object.fromEntries(Object.entries(weights).filter(([, w]) => w > 0));
    // Saved before the routers change: a change an agent restart would silently undo is refused instead.
    const before = service.stored.weights;
    service.stored.weights = serving;
    try {
      this.persistOrRefuse('the weights are as they were');
    } catch (error) {
      service.stored.weights = before;
      throw error;
    }
    await service.router.setWeights(serving);
    return this.status(service);
  }

  /** What the service's routers counted for those fleets, by second, between `from` and `to` (epoch ms). */
  async requestCounts(
    environment: string,
    artifact: string,
    fleetIds: string[],
    from: number,
    to: number,
  ): Promise<RequestCountsReply> {
    const service = this.service(environment, artifact);
    if (!Number.isFinite(from) || !Number.isFinite(to)) {
      throw new AgentError(400, `\`from\` and \`to\` must be epoch milliseconds, got ${from} and ${to}`);
    }
    return service.router.requestCounts(fleetIds, from, to);
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
    const before = { role: fleet.role, standbyUntil: fleet.standbyUntil };
    fleet.role = change.role;
    fleet.standbyUntil = change.role === 'standby' ? change.until : undefined;
    delete fleet.gateUntil;
    try {
      this.persistOrRefuse('the role is as it was');
    } catch (error) {
      Object.assign(fleet, before);
      throw error;
    }
    return this.fleetStatus(service, fleet);
  }

  /**
   * A green detached at its approval gate (`deploy --detach`): nobody waits at the gate, so the agent
   * retires it once `until` passes, as long as it takes no traffic (it took none at the gate).
   */
  setGate(environment: string, artifact: string, fleetId: string, until: number): FleetStatus {
    const service = this.service(environment, artifact);
    const fleet = this.fleet(service, fleetId);
    if (!Number.isFinite(until)) throw new AgentError(400, 'not a gate: `until` must be a time');
    if (roleOf(fleet, service.stored.weights) !== 'green')
      throw new AgentError(409, `fleet \`${fleetId}\` is not green`);
    const before = fleet.gateUntil;
    fleet.gateUntil = until;
    try {
      this.persistOrRefuse('the gate is as it was');
    } catch (error) {
      fleet.gateUntil = before;
      throw error;
    }
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
      while ((await service.router.inFlight(fleetId)) > 0 && Date.now() < drainUntil) {
        await new Promise((r) => setTimeout(r, 25));
      }
      await service.router.removeFleet(fleetId);
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
      await service.router.setWeights({});
      for (const fleet of [...service.stored.fleets])
        await this.retire(environment, service.stored.artifact, fleet.id);
      await service.router.close();
      this.services.delete(key);
      stopped.push(key);
    }
    for (const stored of this.unopened.filter((s) => s.environment === environment)) {
      for (const fleet of stored.fleets) {
        for (const instance of fleet.instances) {
          if (stillOurs(instance)) await stopProcessGroup(instance.pid, stopGraceMs);
        }
      }
      stopped.push(serviceKey(stored.environment, stored.artifact));
    }
    this.unopened = this.unopened.filter((s) => s.environment !== environment);
    this.persist();
    if (this.services.size === 0) this.onEmpty();
    return stopped;
  }

  /**
   * Opens a service's routers with its whole table. `retryMs` covers an agent restarted by its watchdog:
   * the routers of the one before may hold the address for a moment after it died.
   */
  private async openService(
    stored: StoredService,
    instances: Map<string, RuntimeInstance>,
    retryMs: number,
  ): Promise<RuntimeService> {
    const [host, port] = splitListen(stored.listen);
    const table: RouterTable = {
      fleets: Object.fromEntries(stored.fleets.map((f) => [f.id, f.instances.map(instanceUrl)])),
      weights: { ...stored.weights },
      down: downUrls(instances),
    };
    const until = Date.now() + retryMs;
    for (;;) {
      try {
        const open = routerOf(stored) === 'haproxy' ? this.openHaproxy : this.openRouter;
        const router = await open({ host, port }, table, {
          environment: stored.environment,
          artifact: stored.artifact,
        });
        const service: RuntimeService = {
          stored,
          router,
          instances,
          retiring: new Set(),
          sentDown: table.down.join(' '),
        };
        this.services.set(serviceKey(stored.environment, stored.artifact), service);
        return service;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        // A CutoverError (HAProxy missing, say) explains itself; a system error is named by its code.
        const why =
          error instanceof CutoverError
            ? `${error.message}${error.hint ? `; ${error.hint}` : ''}`
            : (code ?? (error as Error).message);
        throw new AgentError(
          409,
          `the router of \`${serviceKey(stored.environment, stored.artifact)}\` cannot listen on ${stored.listen}: ${why}`,
        );
      }
    }
  }

  private newRuntime(stored: StoredInstance): RuntimeInstance {
    return {
      stored,
      state: 'restarting',
      restarts: 0,
      crashStreak: 0,
      startedAt: Date.now(),
      lastExit: undefined,
      restartAt: Date.now(),
      child: undefined,
    };
  }

  /** Tells the routers which instances are not running, when that changed. */
  private async sendDown(service: RuntimeService): Promise<void> {
    const down = downUrls(service.instances);
    const text = down.join(' ');
    if (text === service.sentDown) return;
    service.sentDown = text;
    try {
      await service.router.setDown(down);
    } catch (error) {
      service.sentDown = '';
      this.log(
        `could not tell the routers of ${serviceKey(service.stored.environment, service.stored.artifact)} which instances are down: ${(error as Error).message}`,
      );
    }
  }

  private serviceOf(runtime: RuntimeInstance): RuntimeService | undefined {
    for (const service of this.services.values()) {
      if (service.instances.get(runtime.stored.id) === runtime) return service;
    }
    return undefined;
  }

  private spawnInstance(fleet: StoredFleet, runtime: RuntimeInstance): void {
    const [command, ...args] = fleet.command as [string, ...string[]];
    let log: number;
    try {
      log = openSync(runtime.stored.log, 'a', 0o600);
    } catch (error) {
      // The instance cannot start without somewhere to write; it is retried like a crash.
      runtime.startedAt = Date.now();
      this.exited(runtime, `could not open its log ${runtime.stored.log}: ${(error as Error).message}`);
      return;
    }
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
      runtime.startedAt = Date.now();
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
        if (runtime.child === child && runtime.state === 'starting') {
          runtime.state = 'running';
          const service = this.serviceOf(runtime);
          if (service) await this.sendDown(service);
        }
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
    runtime.crashStreak = streakAfterExit(
      runtime.crashStreak,
      Date.now() - runtime.startedAt,
      this.restartPolicy,
    );
    runtime.state = 'restarting';
    runtime.restartAt = Date.now() + restartDelayMs(runtime.crashStreak, this.restartPolicy);
    // Out of every router's rotation now, not at the next supervision round.
    const service = this.serviceOf(runtime);
    if (service) void this.sendDown(service);
  }

  /** One round of looking after everything; a fault in one instance or service is logged, not fatal. */
  private async supervise(): Promise<void> {
    if (this.supervising) return;
    this.supervising = true;
    try {
      if (this.unsaved !== undefined) this.persist();
      await this.reopenUnopened();
      for (const service of this.services.values()) {
        try {
          await this.superviseService(service);
        } catch (error) {
          this.log(
            `supervising ${serviceKey(service.stored.environment, service.stored.artifact)}: ${(error as Error).stack ?? String(error)}`,
          );
        }
      }
    } finally {
      this.supervising = false;
    }
  }

  private async superviseService(service: RuntimeService): Promise<void> {
    const now = Date.now();
    for (const fleet of service.stored.fleets) {
      if (service.retiring.has(fleet.id)) continue;
      if (
        roleOf(fleet, service.stored.weights) === 'standby' &&
        fleet.standbyUntil !== undefined &&
        now >= fleet.standbyUntil &&
        !service.stored.weights[fleet.id]
      ) {
        void this.retire(service.stored.environment, service.stored.artifact, fleet.id).catch(
          (error: Error) => this.log(`retiring standby ${fleet.id}: ${error.message}`),
        );
        continue;
      }
      if (
        roleOf(fleet, service.stored.weights) === 'green' &&
        fleet.gateUntil !== undefined &&
        now >= fleet.gateUntil &&
        !service.stored.weights[fleet.id]
      ) {
        this.log(`retiring green ${fleet.id}: its approval gate closed with nobody promoting it`);
        void this.retire(service.stored.environment, service.stored.artifact, fleet.id).catch(
          (error: Error) => this.log(`retiring green ${fleet.id}: ${error.message}`),
        );
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
          // A process the state file cannot name would be an orphan to the next agent, holding its port
          // and never stopped: a save goes first, and while state cannot be saved a dead instance stays down.
          this.persist();
          if (this.unsaved !== undefined) {
            const why = '; not started again until the agent can save its state';
            if (!runtime.lastExit?.endsWith(why)) runtime.lastExit = `${runtime.lastExit ?? 'exited'}${why}`;
            runtime.restartAt = now + 1000;
            continue;
          }
          this.spawnInstance(fleet, runtime);
          this.persist();
        } else if (runtime.state === 'starting' && (await acceptsConnections(stored.port))) {
          runtime.state = 'running';
        }
      }
    }
    await this.sendDown(service);
  }

  private lastReopen = 0;

  private async reopenUnopened(): Promise<void> {
    if (this.unopened.length === 0 || Date.now() - this.lastReopen < 3000) return;
    this.lastReopen = Date.now();
    for (const stored of [...this.unopened]) {
      const instances = new Map<string, RuntimeInstance>();
      for (const fleet of stored.fleets) {
        for (const instance of fleet.instances) {
          const runtime = this.newRuntime(instance);
          runtime.state =
            instance.pid !== undefined && isSameProcess(instance.pid, instance.processStart)
              ? 'starting'
              : 'restarting';
          runtime.restartAt = 0;
          instances.set(instance.id, runtime);
        }
      }
      try {
        await this.openService(stored, instances, 0);
        this.unopened = this.unopened.filter((s) => s !== stored);
        this.log(
          `the router of ${serviceKey(stored.environment, stored.artifact)} listens on ${stored.listen} again`,
        );
      } catch {
        // Still taken: tried again in a few seconds.
      }
    }
  }

  private service(environment: string, artifact: string): RuntimeService {
    const service = this.services.get(serviceKey(environment, artifact));
    const waiting = this.unopened.find((s) => s.environment === environment && s.artifact === artifact);
    if (!service && waiting) {
      throw new AgentError(
        503,
        `the router of \`${serviceKey(environment, artifact)}\` cannot listen on ${waiting.listen} yet (the agent keeps trying); see the agent's log`,
      );
    }
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
      router: routerOf(service.stored),
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
          restartAt: runtime?.state === 'restarting' ? runtime.restartAt : undefined,
          log: stored.log,
        };
      }),
    };
  }

  /**
   * Saves what a restarted agent re-adopts. A failure (a full disk) does not stop routing: the change is
   * live in memory, the agent says so in its log and in `status`, and retries every supervision round.
   */
  /** Saves, or refuses the change that needed saving (507), saying what stayed as it was. */
  private persistOrRefuse(unchanged: string): void {
    this.persist();
    if (this.unsaved !== undefined) {
      throw new AgentError(
        507,
        `the local agent cannot save its state (${this.unsaved}), so ${unchanged}: a change a restarted agent would forget is not made. Free space for ${this.stateFile} (or fix its permissions), then run the command again`,
      );
    }
  }

  private persist(): void {
    try {
      this.save(this.stateFile, {
        services: [...[...this.services.values()].map((s) => s.stored), ...this.unopened],
      });
      if (this.unsaved !== undefined) this.log(`state saved again to ${this.stateFile}`);
      this.unsaved = undefined;
    } catch (error) {
      const why = (error as Error).message;
      if (this.unsaved !== why) {
        this.log(
          `could not save state to ${this.stateFile}: ${why}; routing goes on from memory, and saving is retried`,
        );
      }
      this.unsaved = why;
    }
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

function routerOf(stored: StoredService): RouterKind {
  return stored.router === 'haproxy' ? 'haproxy' : 'builtin';
}

function routerName(router: RouterKind): string {
  return router === 'haproxy' ? 'HAProxy (`router: haproxy`)' : 'the built-in router (`router: builtin`)';
}

function instanceUrl(instance: StoredInstance): string {
  return `http://127.0.0.1:${instance.port}`;
}

function downUrls(instances: Map<string, RuntimeInstance>): string[] {
  return [...instances.values()].filter((r) => r.state !== 'running').map((r) => instanceUrl(r.stored));
}

/** The config checked the address; a state file edited by hand is refused here rather than bound wrongly. */
function splitListen(listen: string): [string, number] {
  const address = parseListen(listen);
  if (!address) throw new AgentError(400, `\`${listen}\` is not a host:port address`);
  return [address.host, address.port];
}
