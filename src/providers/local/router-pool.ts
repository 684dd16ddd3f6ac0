import cluster, { type Worker } from 'node:cluster';
import { CountHistory } from './count-history.js';
import { compiledEntry } from './entry.js';
import type { CountEntry } from './response-tally.js';
import type { FromWorker, RouterCommand } from './router-messages.js';
import type { OpenRouter, RouterTable, ServiceRouter } from './service-router.js';

/**
 * The agent's router workers. Every worker serves every service: node:cluster hands each one the same
 * listening socket (SCHED_NONE, so workers accept for themselves and the agent relays nothing). The pool
 * keeps what each service should look like; a worker that dies is replaced and given all of it before it
 * counts, and a change counts as done only when every live worker has applied it. A worker that does not
 * answer within `answerWithinMs` is killed, so it cannot keep serving an old table. The responses each
 * worker counts come here and are summed into one history per service.
 */

interface Member {
  worker: Worker;
  ready: boolean;
  pending: Map<number, { resolve: (value: number | undefined) => void; reject: (error: Error) => void }>;
}

interface Service {
  host: string;
  port: number;
  table: RouterTable;
  history: CountHistory;
}

export class RouterWorkerError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const answerWithinMs = 5000;

export class RouterPool {
  private members = new Map<number, Member>();
  private services = new Map<string, Service>();
  private nextId = 1;
  private closing = false;
  /** Fast successive deaths back off, so a worker that cannot start does not spin a core. */
  private recentDeaths: number[] = [];

  constructor(
    private readonly size: number,
    private readonly log: (line: string) => void,
  ) {}

  private started: Promise<void> | undefined;

  /** Forks the workers; `open` waits for them, so the agent can read its state while they boot. */
  start(): Promise<void> {
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: compiledEntry(import.meta.url, 'router-worker.js') });
    this.started = Promise.all(Array.from({ length: this.size }, () => this.fork())).then(() => {});
    return this.started;
  }

  pids(): number[] {
    return [...this.members.values()].flatMap((m) => (m.worker.process.pid ? [m.worker.process.pid] : []));
  }

  readonly open: OpenRouter = async ({ host, port }, table) => {
    await this.started;
    const key = `${host}:${port}`;
    const service: Service = {
      host,
      port,
      table: copyTable(table),
      history: new CountHistory(Object.keys(table.fleets)),
    };
    // Recorded first, so a worker that becomes ready while the others open it is given it too.
    this.services.set(key, service);
    try {
      await this.broadcast({ op: 'open', key, host, port, table: service.table });
    } catch (error) {
      this.services.delete(key);
      await this.broadcast({ op: 'close', key }).catch(() => {});
      throw error;
    }
    return this.handle(key, service);
  };

  async stop(): Promise<void> {
    this.closing = true;
    for (const member of this.members.values()) member.worker.process.kill('SIGTERM');
  }

  private handle(key: string, service: Service): ServiceRouter {
    return {
      setFleet: async (fleetId, urls) => {
        service.table.fleets[fleetId] = [...urls];
        service.history.know(fleetId);
        await this.broadcast({ op: 'fleet', key, fleetId, urls });
      },
      removeFleet: async (fleetId) => {
        service.table.fleets = withoutFleet(service.table.fleets, fleetId);
        service.table.weights = withoutFleet(service.table.weights, fleetId);
        await this.broadcast({ op: 'remove', key, fleetId });
        service.history.forget(fleetId);
      },
      setWeights: async (weights) => {
        service.table.weights = { ...weights };
        await this.broadcast({ op: 'weights', key, weights });
      },
      setDown: async (urls) => {
        service.table.down = [...urls];
        await this.broadcast({ op: 'down', key, urls });
      },
      inFlight: async (fleetId) => {
        const counts = await this.broadcast({ op: 'inFlight', key, fleetId });
        return counts.reduce<number>((sum, n) => sum + (n ?? 0), 0);
      },
      requestCounts: async (fleetIds, from, to) => {
        // Every response that ended before the workers are asked is in their hand-overs, which reach
        // this process before their answers do (one channel, in order).
        const asked = Date.now();
        await this.broadcast({ op: 'counts' });
        return service.history.read(fleetIds, from, to, asked);
      },
      close: async () => {
        this.services.delete(key);
        await this.broadcast({ op: 'close', key });
      },
    };
  }

  private fork(): Promise<void> {
    const worker = cluster.fork();
    const member: Member = { worker, ready: false, pending: new Map() };
    this.members.set(worker.id, member);
    return new Promise((resolve) => {
      worker.on('message', (message: FromWorker) => {
        if ('counts' in message) {
          this.record(message.counts);
          return;
        }
        if ('ready' in message) {
          // Marked ready and given every table in one turn, so no change sent meanwhile is missed.
          member.ready = true;
          for (const [key, s] of this.services) {
            void this.ask(member, { op: 'open', key, host: s.host, port: s.port, table: s.table }).catch(
              (error: Error) =>
                this.log(`router worker ${worker.process.pid} could not serve ${key}: ${error.message}`),
            );
          }
          resolve();
          return;
        }
        const waiting = member.pending.get(message.id);
        if (!waiting) return;
        member.pending.delete(message.id);
        if (message.ok) waiting.resolve(message.value);
        else waiting.reject(new RouterWorkerError(message.error, message.code));
      });
      worker.on('exit', (code, signal) => {
        this.members.delete(worker.id);
        // What it counted since its last hand-over died with it: no count before now is vouched for.
        if (!this.closing) for (const service of this.services.values()) service.history.lost(Date.now());
        // Its requests in flight ended with it, and its replacement gets the table as it is now.
        for (const waiting of member.pending.values()) waiting.resolve(undefined);
        resolve();
        if (this.closing) return;
        this.log(
          `router worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`,
        );
        const now = Date.now();
        this.recentDeaths = [...this.recentDeaths.filter((t) => now - t < 10_000), now];
        const delay = Math.min(5000, 25 * 2 ** Math.max(0, this.recentDeaths.length - 2));
        setTimeout(() => void this.fork(), delay).unref();
      });
    });
  }

  private record(counts: Record<string, CountEntry[]>): void {
    for (const [key, entries] of Object.entries(counts)) {
      const history = this.services.get(key)?.history;
      // A service closed meanwhile: its counts went with it.
      if (!history) continue;
      for (const e of entries) history.add(e.fleetId, e.second, e.requests, e.errors);
    }
  }

  private async broadcast(command: RouterCommand): Promise<(number | undefined)[]> {
    const members = [...this.members.values()].filter((m) => m.ready);
    return Promise.all(members.map((m) => this.ask(m, command)));
  }

  private ask(member: Member, command: RouterCommand): Promise<number | undefined> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!member.pending.has(id)) return;
        this.log(
          `router worker ${member.worker.process.pid} did not answer ${command.op} within ${answerWithinMs} ms; killing it`,
        );
        member.worker.process.kill('SIGKILL');
      }, answerWithinMs);
      timer.unref();
      member.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      // A worker that died (its channel closed) answers nothing; its exit settles what it was asked.
      if (!member.worker.isConnected()) {
        member.pending.get(id)?.resolve(undefined);
        member.pending.delete(id);
        return;
      }
      member.worker.send({ id, command }, (error: Error | null) => {
        if (!error) return;
        member.pending.get(id)?.resolve(undefined);
        member.pending.delete(id);
      });
    });
  }
}

function copyTable(table: RouterTable): RouterTable {
  return {
    fleets: Object.fromEntries(Object.entries(table.fleets).map(([id, urls]) => [id, [...urls]])),
    weights: { ...table.weights },
    down: [...table.down],
  };
}

function withoutFleet<T>(byFleet: Record<string, T>, fleetId: string): Record<string, T> {
  return Object.fromEntries(Object.entries(byFleet).filter(([id]) => id !== fleetId));
}
