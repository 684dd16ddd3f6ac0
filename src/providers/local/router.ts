import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';
import type { Weights } from '../types.js';

/**
 * The local target's load balancer: a reverse proxy that picks a fleet by weight, then an instance of it
 * round-robin. The routing table is one immutable object swapped in one assignment, so a weight change
 * is atomic: every request sees the old table or the new one, and requests in flight finish where they are.
 * undici's pools do the proxying.
 */

interface Backend {
  url: string;
  pool: Pool;
  inFlight: number;
}

interface FleetRoute {
  id: string;
  weight: number;
  backends: Backend[];
  next: number;
}

interface Table {
  routes: FleetRoute[];
  totalWeight: number;
}

// RFC 9110 7.6.1: meaningful for one connection only. `host` is not one: the backend sees the name the
// client asked for, as it would behind any other proxy.
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

// Not passed on for the router's own reasons. It sets X-Forwarded-* itself: a client's values would let it
// pose as another host or scheme. And Node has answered `Expect: 100-continue` for it before handle() runs,
// as nginx does; undici refuses to send the header anyway, which made such uploads a 502.
const answeredByRouter = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'expect']);

/** Header names a `Connection` value adds to the hop-by-hop ones; none for the usual bare keep-alive or close. */
function connectionOptions(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const lower = (typeof value === 'string' ? value : value.join(',')).toLowerCase();
  if (lower === 'keep-alive' || lower === 'close') return undefined;
  return lower.split(',').map((token) => token.trim());
}

/**
 * The request's headers as undici takes them, flat name/value pairs: the client's own, minus hop-by-hop
 * ones, plus the X-Forwarded-* trio. Read from rawHeaders so that no header object is built on the way.
 */
function forwardedHeaders(req: http.IncomingMessage): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let host: string | undefined;
  let forwardedFor: string | undefined;
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower === 'connection') connection = list(connection, value);
    else if (lower === 'x-forwarded-for') forwardedFor = list(forwardedFor, value);
    else if (!hopByHop.has(lower) && !answeredByRouter.has(lower)) {
      if (lower === 'host') host = value;
      out.push(name, value);
    }
  }
  const named = connectionOptions(connection);
  if (named) {
    for (let i = out.length - 2; i >= 0; i -= 2) {
      if (named.includes((out[i] as string).toLowerCase())) out.splice(i, 2);
    }
  }
  out.push('x-forwarded-for', list(forwardedFor, peerAddress(req)));
  out.push('x-forwarded-proto', 'http');
  if (host !== undefined) out.push('x-forwarded-host', host);
  return out;
}

function list(values: string | undefined, value: string): string {
  return values === undefined ? value : `${values}, ${value}`;
}

function peerAddress(req: http.IncomingMessage): string {
  const address = req.socket.remoteAddress;
  // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; backends expect the address they know.
  if (address === undefined) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export class WeightedRouter {
  private server: http.Server | undefined;
  private fleets = new Map<string, Backend[]>();
  private weights: Weights = {};
  private table: Table = { routes: [], totalWeight: 0 };

  /** Adds or replaces the instances of one fleet. Weights are left as they are. */
  setFleet(fleetId: string, urls: string[]): void {
    const old = new Map((this.fleets.get(fleetId) ?? []).map((b) => [b.url, b]));
    const backends = urls.map(
      (url) => old.get(url) ?? { url, pool: new Pool(url, { connections: 128, pipelining: 1 }), inFlight: 0 },
    );
    for (const [url, backend] of old) if (!urls.includes(url)) void backend.pool.close();
    this.fleets.set(fleetId, backends);
    this.rebuild();
  }

  /** Forgets a fleet; refuses while it takes traffic, since that would drop requests. */
  removeFleet(fleetId: string): void {
    if ((this.weights[fleetId] ?? 0) > 0) throw new Error(`fleet \`${fleetId}\` still takes traffic`);
    for (const backend of this.fleets.get(fleetId) ?? []) void backend.pool.close();
    this.fleets.delete(fleetId);
    this.weights = Object.fromEntries(Object.entries(this.weights).filter(([id]) => id !== fleetId));
    this.rebuild();
  }

  /** Replaces every weight at once. Every fleet named must be known and have instances. */
  setWeights(weights: Weights): void {
    for (const [id, weight] of Object.entries(weights)) {
      if (!Number.isInteger(weight) || weight < 0 || weight > 100) {
        throw new Error(`weight of \`${id}\` must be a whole number from 0 to 100, got ${weight}`);
      }
      if (weight > 0 && !this.fleets.get(id)?.length) throw new Error(`fleet \`${id}\` has no instances`);
    }
    this.weights = Object.fromEntries(Object.entries(weights).filter(([, w]) => w > 0));
    this.rebuild();
  }

  getWeights(): Weights {
    return { ...this.weights };
  }

  /** Requests being served right now by a fleet's instances: a retiring fleet waits for zero. */
  inFlight(fleetId: string): number {
    return (this.fleets.get(fleetId) ?? []).reduce((sum, b) => sum + b.inFlight, 0);
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await Promise.all([...this.fleets.values()].flat().map((b) => b.pool.close()));
    this.fleets.clear();
  }

  private rebuild(): void {
    const routes: FleetRoute[] = [];
    for (const [id, weight] of Object.entries(this.weights)) {
      const backends = this.fleets.get(id);
      if (backends?.length && weight > 0) routes.push({ id, weight, backends, next: 0 });
    }
    this.table = { routes, totalWeight: routes.reduce((sum, r) => sum + r.weight, 0) };
  }

  private pick(table: Table): FleetRoute | undefined {
    if (table.routes.length <= 1) return table.routes[0];
    let ticket = Math.random() * table.totalWeight;
    for (const route of table.routes) {
      ticket -= route.weight;
      if (ticket < 0) return route;
    }
    return table.routes[table.routes.length - 1];
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const route = this.pick(this.table);
    if (!route) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('cutover: no fleet takes traffic here yet\n');
      return;
    }
    const headers = forwardedHeaders(req);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    // A request without a body can go to another instance when its first one refuses the connection.
    const attempts = hasBody ? 1 : route.backends.length;
    this.forward(req, res, route, route.next++, headers, hasBody, attempts);
  }

  private forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    route: FleetRoute,
    index: number,
    headers: string[],
    hasBody: boolean,
    attemptsLeft: number,
  ): void {
    const backend = route.backends[index % route.backends.length] as Backend;
    backend.inFlight++;
    let settled = false;
    let upstream: Dispatcher.DispatchController | undefined;
    const onClose = () => {
      if (!res.writableFinished) upstream?.abort(new Error('client went away'));
    };
    const settle = () => {
      if (settled) return false;
      settled = true;
      backend.inFlight--;
      res.off('close', onClose);
      return true;
    };
    res.once('close', onClose);
    // dispatch() with our own handler rather than stream(): no pipeline and no AbortController per
    // request, which measured 38% more requests a second (median of three alternating 5 s rounds: 25,969 vs 18,801).
    backend.pool.dispatch(
      {
        path: req.url ?? '/',
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: hasBody ? req : null,
      },
      {
        onRequestStart: (controller) => {
          upstream = controller;
        },
        onResponseStart: (controller, statusCode, upstreamHeaders) => {
          const named = connectionOptions(upstreamHeaders.connection);
          const out: Record<string, string | string[]> = {};
          for (const name in upstreamHeaders) {
            const value = upstreamHeaders[name];
            if (value !== undefined && !hopByHop.has(name) && !named?.includes(name)) out[name] = value;
          }
          res.writeHead(statusCode, out);
          res.on('drain', () => controller.resume());
        },
        onResponseData: (controller, chunk) => {
          if (!res.write(chunk)) controller.pause();
        },
        onResponseEnd: () => {
          settle();
          res.end();
        },
        onResponseError: (_controller, error) => {
          if (!settle()) return;
          if (!res.headersSent && attemptsLeft > 1 && !res.destroyed) {
            // The next instance in order, not the next round-robin turn, so a retry never lands on the same one.
            this.forward(req, res, route, index + 1, headers, hasBody, attemptsLeft - 1);
            return;
          }
          if (!res.headersSent) {
            res
              .writeHead(502, { 'content-type': 'text/plain' })
              .end(`cutover: upstream ${backend.url} failed\n`);
          } else {
            res.destroy(error);
          }
        },
      },
    );
  }
}
