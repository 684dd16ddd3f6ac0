import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import { Agent, AgentError } from './agent.js';
import type { RoleChange } from '../types.js';
import type { AgentInfo, EnsureServiceRequest, LaunchRequest } from './protocol.js';

/**
 * The agent's control channel: JSON over HTTP on a unix socket. The socket sits in a 0700 folder with
 * mode 0600, so only its owner (and root) can connect: no token to leak, no port to scan.
 */

interface Params {
  env: string;
  artifact: string;
  fleet: string;
}

type Handler = (params: Params, body: unknown, query: URLSearchParams) => Promise<unknown> | unknown;

const service = '/v1/services/(?<env>[^/]+)/(?<artifact>[^/]+)';
const route = (pattern: string) => new RegExp(`^${pattern}$`);

export function createControlServer(
  agent: Agent,
  onDown: () => void,
  processes: () => Pick<AgentInfo, 'watchdog' | 'managed' | 'workers'> = () => ({
    watchdog: undefined,
    managed: false,
    workers: [],
  }),
): http.Server {
  const routes: [string, RegExp, Handler][] = [
    [
      'GET',
      route('/v1/agent'),
      (): AgentInfo => ({
        pid: process.pid,
        startedAt: agent.startedAt,
        services: agent.serviceCount(),
        unsaved: agent.unsaved,
        ...processes(),
      }),
    ],
    ['GET', route('/v1/services'), () => agent.listServices()],
    [
      'PUT',
      route(service),
      (p, body) => {
        const { listen, router } = body as EnsureServiceRequest;
        if (router !== undefined && router !== 'builtin' && router !== 'haproxy') {
          throw new AgentError(400, `\`router\` must be builtin or haproxy, got ${JSON.stringify(router)}`);
        }
        return agent.ensureService(p.env, p.artifact, listen, router);
      },
    ],
    ['GET', route(service), (p) => agent.getService(p.env, p.artifact)],
    [
      'GET',
      route(`${service}/requests`),
      (p, _body, query) =>
        agent.requestCounts(
          p.env,
          p.artifact,
          query.getAll('fleet'),
          Number(query.get('from') ?? NaN),
          Number(query.get('to') ?? NaN),
        ),
    ],
    ['POST', route(`${service}/fleets`), (p, body) => agent.launch(p.env, p.artifact, body as LaunchRequest)],
    [
      'PUT',
      route(`${service}/weights`),
      (p, body) => agent.setWeights(p.env, p.artifact, body as Record<string, number>),
    ],
    [
      'PUT',
      route(`${service}/fleets/(?<fleet>[^/]+)/role`),
      (p, body) => agent.setRole(p.env, p.artifact, p.fleet, body as RoleChange),
    ],
    [
      'PUT',
      route(`${service}/fleets/(?<fleet>[^/]+)/gate`),
      (p, body) => agent.setGate(p.env, p.artifact, p.fleet, Number((body as { until?: unknown }).until)),
    ],
    [
      'DELETE',
      route(`${service}/fleets/(?<fleet>[^/]+)`),
      async (p) => {
        await agent.retire(p.env, p.artifact, p.fleet);
        return { retired: p.fleet };
      },
    ],
    [
      'DELETE',
      route('/v1/environments/(?<env>[^/]+)'),
      async (p) => {
        const stopped = await agent.down(p.env);
        onDown();
        return { stopped };
      },
    ],
  ];

  return http.createServer(async (req, res) => {
    const reply = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    };
    try {
      const url = new URL(req.url ?? '/', 'http://agent');
      const path = url.pathname;
      for (const [method, pattern, handler] of routes) {
        const match = pattern.exec(path);
        if (!match || method !== req.method) continue;
        const groups = match.groups ?? {};
        const params: Params = {
          env: decodeURIComponent(groups.env ?? ''),
          artifact: decodeURIComponent(groups.artifact ?? ''),
          fleet: decodeURIComponent(groups.fleet ?? ''),
        };
        const body = await readJson(req);
        return reply(200, await handler(params, body, url.searchParams));
      }
      reply(404, { error: `no route ${req.method} ${path}` });
    } catch (error) {
      const status = error instanceof AgentError ? error.status : 500;
      const code = error instanceof AgentError ? error.code : undefined;
      reply(status, {
        error: error instanceof Error ? error.message : String(error),
        ...(code ? { code } : {}),
      });
    }
  });
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new AgentError(400, 'the request body is not JSON');
  }
}

/** Listens on the socket with owner-only permissions; a socket left by a dead agent is replaced. */
export async function listenOwnerOnly(server: http.Server, dir: string, socket: string): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  if (existsSync(socket)) unlinkSync(socket);
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => resolve());
    });
  } finally {
    process.umask(previous);
  }
  chmodSync(socket, 0o600);
}
