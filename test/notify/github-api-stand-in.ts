import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server standing in for GitHub's REST API, as much of it as cutover uses: creating a
 * deployment and creating a deployment status. It checks what GitHub checks that matters here (the
 * bearer token, the API version header, the media type, a known deployment id) and answers as GitHub
 * does (401 `Bad credentials`, 404, 201 with the created object), records every call, and can be told
 * to answer every request with a status or not at all.
 */

export interface GitHubCall {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** What the stand-in answered; 0 for a request left hanging. */
  status: number;
  at: number;
}

export interface StandInDeployment {
  id: number;
  repository: string;
  ref: unknown;
  environment: unknown;
  payload: Record<string, unknown>;
  statuses: Record<string, unknown>[];
}

export type Mode = 'normal' | 'hang' | { status: number; body?: object; headers?: Record<string, string> };

export interface GitHubStandIn {
  /** For GITHUB_API_URL. */
  url: string;
  calls: GitHubCall[];
  deployments: StandInDeployment[];
  /** How every later request is answered. */
  answer(mode: Mode): void;
  close(): Promise<void>;
}

export async function githubStandIn(token: string): Promise<GitHubStandIn> {
  const calls: GitHubCall[] = [];
  const deployments: StandInDeployment[] = [];
  let mode: Mode = 'normal';
  let nextId = 1000;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        // Left empty: a route that needs a body answers 400.
      }
      const call: GitHubCall = {
        method: req.method ?? '',
        path: req.url ?? '/',
        headers: req.headers,
        body,
        status: 0,
        at: Date.now(),
      };
      calls.push(call);
      if (mode === 'hang') return;
      const [status, answer, headers] =
        typeof mode === 'object' ? [mode.status, mode.body ?? {}, mode.headers] : route(call);
      call.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(answer));
    });
  });

  function route(call: GitHubCall): [number, object, Record<string, string>?] {
    if (call.headers.authorization !== `Bearer ${token}`) return [401, { message: 'Bad credentials' }];
    if (call.headers['x-github-api-version'] !== '2022-11-28')
      return [400, { message: 'Invalid API version' }];
    if (call.headers.accept !== 'application/vnd.github+json')
      return [415, { message: 'Unsupported media type' }];
    if (call.method !== 'POST') return [404, { message: 'Not Found' }];
    const create = /^\/repos\/([^/]+)\/([^/]+)\/deployments$/.exec(call.path);
    if (create) {
      if (typeof call.body.ref !== 'string') return [422, { message: 'Validation Failed' }];
      nextId += 1;
      deployments.push({
        id: nextId,
        repository: `${create[1]}/${create[2]}`,
        ref: call.body.ref,
        environment: call.body.environment,
        payload: (call.body.payload ?? {}) as Record<string, unknown>,
        statuses: [],
      });
      return [201, { id: nextId, ref: call.body.ref, environment: call.body.environment }];
    }
    const status = /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/.exec(call.path);
    const deployment = deployments.find(
      (d) => status && d.id === Number(status[3]) && d.repository === `${status[1]}/${status[2]}`,
    );
    if (!deployment) return [404, { message: 'Not Found' }];
    deployment.statuses.push(call.body);
    return [201, { id: nextId * 10 + deployment.statuses.length, state: call.body.state }];
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    deployments,
    answer: (next) => {
      mode = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
