import type { Weights } from '../types.js';
import { CountHistory } from './count-history.js';
import { batch, differences, serverStates } from './haproxy-batch.js';
import { requireHaproxy } from './haproxy-binary.js';
import { backendName, configHash, haproxyConfig } from './haproxy-config.js';
import {
  answers,
  forgetRecord,
  haproxyFiles,
  prepareFolder,
  recordedProcess,
  startHaproxy,
  stopHaproxy,
  writeRecord,
  type HaproxyFiles,
} from './haproxy-process.js';
import { counted, messagesBeforeStat, parseStat, type ServerCounts, type StatRow } from '../haproxy/stat.js';
import { runtimeCommands } from './haproxy-runtime.js';
import { desiredServers } from './haproxy-weights.js';
import { haproxyFolder } from './paths.js';
import { isSameProcess } from './processes.js';
import type { RequestCountsReply } from './protocol.js';
import type { OpenRouter, RouterTable, ServiceRouter } from './service-router.js';

/**
 * `router: haproxy`: Debian's HAProxy serves the environment's address in place of the built-in router,
 * and the agent drives it through its runtime API. The agent keeps the table (fleets, weights, instances
 * down); each change updates it, then one batch of runtime commands brings HAProxy's servers to it and a
 * `show stat` in the same connection checks that they are (haproxy-batch.ts). A HAProxy that dies is
 * started again on the table as it is then, like a router worker; one left running by an agent that died
 * is taken over by the next. Request counts come from the servers' cumulative counters, read each second
 * into the same CountHistory the built-in router counts into.
 */

export function haproxyOpener(options: { agentDir: string; log: (line: string) => void }): OpenRouter {
  return async ({ host, port }, table, service) => {
    const { binary } = requireHaproxy(service.environment);
    const files = haproxyFiles(haproxyFolder(options.agentDir, service.environment, service.artifact));
    const router = new HaproxyRouter({ binary, files, host, port, table, log: options.log });
    await router.open();
    return router;
  };
}

interface Running {
  pid: number;
  processStart: number | undefined;
  /** Started by this agent: its exit is an event. One taken over is watched by polling its pid. */
  own: boolean;
  generation: number;
}

interface HaproxyRouterOptions {
  binary: string;
  files: HaproxyFiles;
  host: string;
  port: number;
  table: RouterTable;
  log: (line: string) => void;
}

const watchEveryMs = 250;

export class HaproxyRouter implements ServiceRouter {
  private table: RouterTable;
  private readonly history: CountHistory;
  private running: Running | undefined;
  private generation = 0;
  private closing = false;
  /** Changes, starts and restarts, one at a time and in order. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Which fleet each server HAProxy may still have belongs to: for counts and requests in flight. */
  private fleetOf = new Map<string, string>();
  /** Each server's counters at the last reading, to count the difference. */
  private baselines = new Map<string, ServerCounts>();
  /** A HAProxy taken over counted before this agent: its first reading only sets the baselines. */
  private baselineOnly = false;
  /** When the last reading was asked for: every response before it is counted. */
  private sampledAt = Date.now();
  private sampleTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private recentDeaths: number[] = [];
  private readonly hash: string;

  constructor(private readonly options: HaproxyRouterOptions) {
    this.table = copyTable(options.table);
    this.history = new CountHistory(Object.keys(options.table.fleets));
    this.hash = configHash({ host: options.host, port: options.port, socket: options.files.socket });
  }

  async open(): Promise<void> {
    prepareFolder(this.options.files);
    await this.serialized(async () => {
      if (!(await this.takeOver())) await this.start();
      await this.reconcile();
    });
    this.scheduleSample();
    this.watchTimer = setInterval(() => this.watch(), watchEveryMs);
    this.watchTimer.unref();
  }

  async setFleet(fleetId: string, urls: string[]): Promise<void> {
    this.table.fleets[fleetId] = [...urls];
    this.history.know(fleetId);
    await this.apply();
  }

  async removeFleet(fleetId: string): Promise<void> {
    if ((this.table.weights[fleetId] ?? 0) > 0) throw new Error(`fleet \`${fleetId}\` still takes traffic`);
    this.table.fleets = without(this.table.fleets, fleetId);
    this.table.weights = without(this.table.weights, fleetId);
    await this.apply();
    this.history.forget(fleetId);
  }

  async setWeights(weights: Weights): Promise<void> {
    for (const [id, weight] of Object.entries(weights)) {
      if (!Number.isInteger(weight) || weight < 0 || weight > 100) {
        throw new Error(`weight of \`${id}\` must be a whole number from 0 to 100, got ${weight}`);
      }
      if (weight > 0 && !this.table.fleets[id]?.length) throw new Error(`fleet \`${id}\` has no instances`);
    }
    this.table.weights = Object.fromEntries(Object.entries(weights).filter(([, w]) => w > 0));
    await this.apply();
  }

  async setDown(urls: string[]): Promise<void> {
    this.table.down = [...urls];
    await this.apply();
  }

  /** Requests HAProxy is serving or queueing on the fleet's instances; none once it is gone. */
  async inFlight(fleetId: string): Promise<number> {
    const rows = await this.readStat();
    if (!rows) return 0;
    return rows
      .filter((row) => this.fleetOf.get(row.svname ?? '') === fleetId)
      .reduce((sum, row) => sum + Number(row.scur || 0) + Number(row.qcur || 0), 0);
  }

  async requestCounts(fleetIds: string[], from: number, to: number): Promise<RequestCountsReply> {
    return this.history.read(fleetIds, from, to, this.sampledAt);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.sampleTimer);
    clearInterval(this.watchTimer);
    clearTimeout(this.restartTimer);
    await this.queue.catch(() => {});
    const running = this.running;
    this.running = undefined;
    if (running) await stopHaproxy(running.pid, running.processStart);
    forgetRecord(this.options.files);
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }

  /**
   * Brings HAProxy to the table. With no HAProxy running (between a death and the start of the next)
   * there is nothing to change: the next one starts from the table as it is then.
   */
  private apply(): Promise<void> {
    return this.serialized(async () => {
      const running = this.running;
      if (!running) return;
      try {
        await this.reconcile();
      } catch (error) {
        // It died meanwhile: the one started next serves the table, this change included.
        if (this.running !== running || !isSameProcess(running.pid, running.processStart)) return;
        throw error;
      }
    });
  }

  private async reconcile(attempt = 1): Promise<void> {
    const desired = desiredServers(this.table);
    for (const server of desired) this.fleetOf.set(server.name, server.fleetId);
    const stat = `show stat ${backendName} 4 -1`;
    const before = await runtimeCommands(this.options.files.socket, [stat]);
    const commands = batch(serverStates(parseStat(before)), desired);
    if (commands.length === 0) return;
    const answer = await runtimeCommands(this.options.files.socket, [...commands, stat]);
    const after = serverStates(parseStat(answer));
    const problems = differences(after, desired);
    if (problems.length > 0) {
      if (attempt < 2) return this.reconcile(attempt + 1);
      const said = messagesBeforeStat(answer);
      throw new Error(
        `HAProxy did not take the change: ${problems.join('; ')}${said.length ? ` (it answered: ${said.join(' | ')})` : ''}`,
      );
    }
    const present = new Set(after.map((s) => s.name));
    for (const name of this.fleetOf.keys()) if (!present.has(name)) this.fleetOf.delete(name);
  }

  /** Takes over the HAProxy a previous agent left serving this address, if it is one started as this one would be. */
  private async takeOver(): Promise<boolean> {
    const record = recordedProcess(this.options.files);
    if (!record) {
      forgetRecord(this.options.files);
      return false;
    }
    if (record.configHash === this.hash && (await answers(this.options.files, 2000))) {
      this.running = {
        pid: record.pid,
        processStart: record.processStart,
        own: false,
        generation: ++this.generation,
      };
      // Its counters hold what it served for the previous agent: only what comes after is counted.
      this.baselineOnly = true;
      this.sampledAt = Date.now();
      this.options.log(`took over HAProxy pid ${record.pid}, which kept serving ${this.address()}`);
      return true;
    }
    this.options.log(`stopping HAProxy pid ${record.pid}, left by a previous agent, to start one of its own`);
    await stopHaproxy(record.pid, record.processStart, 3000);
    forgetRecord(this.options.files);
    return false;
  }

  private async start(): Promise<Running> {
    const { files, host, port, binary } = this.options;
    const servers = desiredServers(this.table);
    for (const server of servers) this.fleetOf.set(server.name, server.fleetId);
    const generation = ++this.generation;
    const started = await startHaproxy(
      binary,
      files,
      haproxyConfig({ host, port, socket: files.socket, servers }),
      (why) => this.died(generation, why),
    );
    const running: Running = { pid: started.pid, processStart: started.processStart, own: true, generation };
    this.running = running;
    writeRecord(files, { pid: started.pid, processStart: started.processStart, configHash: this.hash });
    // A new process counts from zero; what the last one served since its last reading is lost.
    this.baselines.clear();
    this.baselineOnly = false;
    this.sampledAt = Date.now();
    this.history.lost(this.sampledAt);
    return running;
  }

  private died(generation: number, why: string): void {
    if (this.closing || this.running?.generation !== generation) return;
    const pid = this.running.pid;
    this.running = undefined;
    this.restartLater(`HAProxy ${pid} serving ${this.address()} exited (${why})`);
  }

  private restartLater(what: string): void {
    const now = Date.now();
    this.recentDeaths = [...this.recentDeaths.filter((t) => now - t < 10_000), now];
    // As the router pool does: the first deaths are answered at once, a crash loop backs off.
    const delay = Math.min(5000, 25 * 2 ** Math.max(0, this.recentDeaths.length - 2));
    this.options.log(`${what}; starting another in ${delay} ms (its output: ${this.options.files.log})`);
    this.restartTimer = setTimeout(() => void this.restart(), delay);
    this.restartTimer.unref();
  }

  private restart(): Promise<void> {
    return this.serialized(async () => {
      if (this.closing || this.running) return;
      try {
        const running = await this.start();
        this.options.log(`HAProxy ${running.pid} serves ${this.address()} again`);
      } catch (error) {
        if (!this.closing) this.restartLater(`HAProxy could not start again: ${(error as Error).message}`);
      }
    });
  }

  /** A HAProxy taken over is not this process's child: its end is noticed by its pid. */
  private watch(): void {
    const running = this.running;
    if (!running || running.own || isSameProcess(running.pid, running.processStart)) return;
    this.died(running.generation, 'it is gone');
  }

  private async readStat(): Promise<StatRow[] | undefined> {
    const running = this.running;
    if (!running) return undefined;
    try {
      return parseStat(await runtimeCommands(this.options.files.socket, [`show stat ${backendName} 4 -1`]));
    } catch (error) {
      if (this.running !== running || !isSameProcess(running.pid, running.processStart)) return undefined;
      throw error;
    }
  }

  /** Readings just after each second starts, so that each one's difference belongs to the second before. */
  private scheduleSample(): void {
    if (this.closing) return;
    this.sampleTimer = setTimeout(
      () => void this.sample().finally(() => this.scheduleSample()),
      1000 - (Date.now() % 1000) + 5,
    );
    this.sampleTimer.unref();
  }

  private async sample(): Promise<void> {
    const running = this.running;
    if (!running) return;
    const asked = Date.now();
    let rows: StatRow[] | undefined;
    try {
      rows = await this.readStat();
    } catch (error) {
      this.options.log(
        `could not read HAProxy's counters for ${this.address()}: ${(error as Error).message}`,
      );
      return;
    }
    // Restarted meanwhile: these counters are not the ones the baselines were read from.
    if (!rows || this.running !== running) return;
    const second = Math.floor(this.sampledAt / 1000);
    const seen = new Set<string>();
    for (const row of rows) {
      const name = row.svname ?? '';
      const fleetId = this.fleetOf.get(name);
      if (!fleetId) continue;
      seen.add(name);
      const now = counted(row);
      const base = this.baselines.get(name) ?? (this.baselineOnly ? now : { requests: 0, errors: 0 });
      this.baselines.set(name, now);
      // Lower than before: a server deleted and added again under its name counts from zero.
      const requests = now.requests >= base.requests ? now.requests - base.requests : now.requests;
      const errors = now.errors >= base.errors ? now.errors - base.errors : now.errors;
      if (requests > 0 || errors > 0) this.history.add(fleetId, second, requests, errors);
    }
    for (const name of this.baselines.keys()) if (!seen.has(name)) this.baselines.delete(name);
    this.baselineOnly = false;
    this.sampledAt = asked;
  }

  private address(): string {
    const { host, port } = this.options;
    return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  }
}

function copyTable(table: RouterTable): RouterTable {
  return {
    fleets: Object.fromEntries(Object.entries(table.fleets).map(([id, urls]) => [id, [...urls]])),
    weights: { ...table.weights },
    down: [...table.down],
  };
}

function without<T>(byFleet: Record<string, T>, fleetId: string): Record<string, T> {
  return Object.fromEntries(Object.entries(byFleet).filter(([id]) => id !== fleetId));
}
