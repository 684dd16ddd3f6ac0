import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server standing in for Slack: incoming webhooks (any path answers 200 `ok`) and the Web
 * API (`/api/chat.postMessage`, `/api/chat.update`, answering like Slack with `ok`, `channel` and `ts`).
 * Each request is recorded; a test can script the next answers (a status, headers, a body, or none at
 * all) and close the server to make it unreachable.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  /** The body parsed as JSON, or the raw text when it is not JSON. */
  body: unknown;
  /** Epoch ms when the request arrived. */
  at: number;
}

export type Reply =
  | { status?: number; headers?: Record<string, string>; body?: string | object }
  /** Keeps the request open without answering, until the server closes. */
  | 'hang';

export interface FakeSlack {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Where the Web API lives: `${url}/api`. */
  apiUrl: string;
  requests: RecordedRequest[];
  /** Requests to one Web API method (`chat.update`). */
  calls(method: string): RecordedRequest[];
  /** The next answers, in order, to requests whose path ends with `pathSuffix` (any request when omitted). */
  reply(replies: Reply | Reply[], pathSuffix?: string): void;
  close(): Promise<void>;
}

export async function fakeSlack(): Promise<FakeSlack> {
  const requests: RecordedRequest[] = [];
  const scripted: { suffix: string | undefined; reply: Reply }[] = [];
  let nextTs = 1_700_000_000;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // Not JSON: the raw text is what a test looks at.
      }
      const recorded = { method: req.method ?? '', path, headers: req.headers, raw, body, at: Date.now() };
      requests.push(recorded);

      const index = scripted.findIndex((s) => s.suffix === undefined || path.endsWith(s.suffix));
      const reply = index >= 0 ? scripted.splice(index, 1)[0]?.reply : undefined;
      const answer = reply ?? defaultReply(recorded);
      if (answer === 'hang') return;
      const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
      const type = typeof answer.body === 'string' ? 'text/plain' : 'application/json';
      res.writeHead(answer.status ?? 200, { 'content-type': type, ...answer.headers }).end(text);
    });
  });

  function defaultReply(request: RecordedRequest): Reply {
    const body = (request.body ?? {}) as { channel?: string; ts?: string };
    if (request.path.endsWith('/chat.postMessage')) {
      nextTs += 1;
      return { body: { ok: true, channel: `C-${body.channel}`, ts: `${nextTs}.000100` } };
    }
    if (request.path.endsWith('/chat.update'))
      return { body: { ok: true, channel: body.channel, ts: body.ts } };
    return { body: 'ok' };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    apiUrl: `${url}/api`,
    requests,
    calls: (method) => requests.filter((r) => r.path === `/api/${method}`),
    reply(replies, pathSuffix) {
      for (const reply of Array.isArray(replies) ? replies : [replies])
        scripted.push({ suffix: pathSuffix, reply });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An address nothing listens on: connecting is refused at once. */
export async function refusingUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
