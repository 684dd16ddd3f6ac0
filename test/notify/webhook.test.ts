import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SendError } from '../../src/notify/http.js';
import type { MessageStore, Notification, SendContext } from '../../src/notify/notification.js';
import { signBody, verifySignature, WebhookNotifier } from '../../src/notify/webhook.js';

interface Received {
  method: string | undefined;
  path: string | undefined;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

type Answer = (request: Received) => { status: number; body?: string };

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A real receiver on 127.0.0.1: records each request whole and answers with `answers` in turn (the last repeats). */
async function receiver(...answers: Answer[]): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method,
        path: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      received.push(request);
      const answer = (answers[received.length - 1] ?? answers[answers.length - 1] ?? ok)(request);
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? '');
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/T0001/s3cr3t-path-token`, received };
}

const ok: Answer = () => ({ status: 200, body: 'ok' });

const noMessages: MessageStore = {
  message: async () => undefined,
  saveMessage: async () => undefined,
};

function context(budgetMs = 5_000): SendContext {
  return { deadline: Date.now() + budgetMs, signal: new AbortController().signal, messages: noMessages };
}

const notification: Notification = {
  schemaVersion: 1,
  id: 'd-20261126T113002-3f9a:end',
  kind: 'failed',
  code: 'deploy.failed',
  level: 'error',
  time: '2026-11-26T11:34:10.512Z',
  message: 'd-20261126T113002-3f9a failed: green did not pass its checks — «ünïcödé»',
  deployment: {
    id: 'd-20261126T113002-3f9a',
    kind: 'deploy',
    artifact: 'shop-api',
    environment: 'prod',
    target: 'aws',
    version: '1.8.0',
    previousVersion: '1.7.2',
    phase: 'failed',
    weights: { '1.7.2': 100, '1.8.0': 0 },
    startedAt: '2026-11-26T11:30:02.114Z',
    durationMs: 248398,
    failure: { code: 'checks.failed', reason: 'green did not pass its checks' },
  },
  actor: {
    name: 'ana',
    source: 'github',
    runUrl: 'https://github.com/acme/shop/actions/runs/1',
    commit: 'abc123',
  },
};

const signed = (url: string) =>
  new WebhookNotifier({ name: 'webhook', url, secret: 'shh-its-a-secret', minBackoffMs: 10 });

describe('webhook notifier', () => {
  it('GIVEN a secret and extra headers WHEN a notification is sent THEN the receiver gets exactly its JSON, the extra headers, the event and delivery headers, and a signature it can verify', async () => {
    const { url, received } = await receiver(ok);
    const webhook = new WebhookNotifier({
      name: 'webhook #1',
      url,
      headers: { Authorization: 'Bearer tok-123456', 'X-Team': 'payments' },
      secret: 'shh-its-a-secret',
      minBackoffMs: 10,
    });
    await webhook.send(notification, context());

    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.method).toBe('POST');
    expect(request?.body.toString('utf8')).toBe(JSON.stringify(notification));
    expect(JSON.parse(request?.body.toString('utf8') ?? '')).toEqual(notification);
    expect(request?.headers['content-type']).toMatch(/^application\/json/);
    expect(request?.headers['authorization']).toBe('Bearer tok-123456');
    expect(request?.headers['x-team']).toBe('payments');
    expect(request?.headers['x-cutover-event']).toBe('deploy.failed');
    expect(request?.headers['x-cutover-delivery']).toBe('d-20261126T113002-3f9a:end');
    const signature = request?.headers['x-cutover-signature'];
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(request?.body ?? Buffer.alloc(0), signature, 'shh-its-a-secret')).toBe(true);
  });

  it('GIVEN a signed request WHEN its body, the secret or the signature is not the one signed THEN verification fails', async () => {
    const { url, received } = await receiver(ok);
    const webhook = signed(url);
    await webhook.send(notification, context());
    const body = received[0]?.body ?? Buffer.alloc(0);
    const signature = received[0]?.headers['x-cutover-signature'];

    const tampered = Buffer.from(body.toString('utf8').replace('"failed"', '"succeeded"'), 'utf8');
    expect(tampered.equals(body)).toBe(false);
    expect(verifySignature(tampered, signature, 'shh-its-a-secret')).toBe(false);
    expect(verifySignature(body, signature, 'another-secret')).toBe(false);
    expect(verifySignature(body, undefined, 'shh-its-a-secret')).toBe(false);
    expect(verifySignature(body, 'sha256=abc', 'shh-its-a-secret')).toBe(false);
    expect(verifySignature(body, signBody(body, 'shh-its-a-secret'), 'shh-its-a-secret')).toBe(true);
  });

  it('GIVEN no secret WHEN a notification is sent THEN no signature header is sent', async () => {
    const { url, received } = await receiver(ok);
    await new WebhookNotifier({ name: 'webhook', url, minBackoffMs: 10 }).send(notification, context());
    expect(received).toHaveLength(1);
    expect(received[0]?.headers['x-cutover-signature']).toBeUndefined();
    expect(received[0]?.headers['x-cutover-delivery']).toBe(notification.id);
  });

  it('GIVEN a receiver that answers 500 once WHEN a notification is sent THEN it is sent again, with the same body and delivery id, and succeeds', async () => {
    const { url, received } = await receiver(() => ({ status: 500, body: 'busy' }), ok);
    const webhook = signed(url);
    await webhook.send(notification, context());
    expect(received).toHaveLength(2);
    expect(received[1]?.body.equals(received[0]?.body ?? Buffer.alloc(0))).toBe(true);
    expect(received[1]?.headers['x-cutover-delivery']).toBe(received[0]?.headers['x-cutover-delivery']);
    expect(
      verifySignature(
        received[1]?.body ?? '',
        received[1]?.headers['x-cutover-signature'],
        'shh-its-a-secret',
      ),
    ).toBe(true);
  });

  it('GIVEN a receiver that answers 400 WHEN a notification is sent THEN it fails at once, permanently, after one request', async () => {
    const { url, received } = await receiver(() => ({ status: 400, body: 'bad_payload' }));
    const webhook = new WebhookNotifier({ name: 'webhook', url, minBackoffMs: 10 });
    const error = await webhook.send(notification, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendError);
    expect((error as SendError).permanent).toBe(true);
    expect((error as SendError).message).toBe(
      'webhook 127.0.0.1:' + new URL(url).port + ' refused the message: 400 bad_payload',
    );
    expect(received).toHaveLength(1);
  });

  it('GIVEN a receiver that echoes the whole request in its errors WHEN the send fails, permanently or by the deadline THEN the error names the host but holds neither the URL path, nor a header value, nor the secret', async () => {
    const echo: Answer = (r) => ({
      status: 0,
      body: `${r.method} ${r.path} ${JSON.stringify(r.headers)} secret=shh-its-a-secret`,
    });
    const secretHeaders = { Authorization: 'Bearer tok-123456', 'X-Api-Key': 'key-abcdef' };
    const secrets = [
      '/hooks/T0001/s3cr3t-path-token',
      's3cr3t-path-token',
      'tok-123456',
      'key-abcdef',
      'shh-its-a-secret',
    ];

    for (const status of [403, 503]) {
      const { url, received } = await receiver((r) => ({ ...echo(r), status }));
      const webhook = new WebhookNotifier({
        name: 'webhook',
        url,
        headers: secretHeaders,
        secret: 'shh-its-a-secret',
        minBackoffMs: 10,
        maxBackoffMs: 20,
      });
      const error = await webhook.send(notification, context(1500)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SendError);
      expect((error as SendError).permanent).toBe(status === 403);
      const message = (error as SendError).message;
      expect(message.startsWith(`webhook 127.0.0.1:${new URL(url).port}`)).toBe(true);
      expect(message).toContain(String(status));
      for (const secret of secrets) expect(message).not.toContain(secret);
      expect(message).not.toContain(received[0]?.headers['x-cutover-signature']);
      expect(received.length).toBeGreaterThanOrEqual(1);
    }
  });

  it('GIVEN a long answer cut off in the middle of a header value WHEN the send fails THEN not even the start of that value is in the error', async () => {
    const { url } = await receiver(() => ({ status: 401, body: `${'x'.repeat(195)}tok-123456 was refused` }));
    const webhook = new WebhookNotifier({
      name: 'webhook',
      url,
      headers: { Authorization: 'Bearer tok-123456' },
      minBackoffMs: 10,
    });
    const error = await webhook.send(notification, context()).catch((e: unknown) => e);
    const message = (error as SendError).message;
    expect(message).toMatch(/ 401 \(an answer of \d+ bytes, not shown/);
    expect(message).not.toMatch(/tok/);
  });

  it('GIVEN nothing listening WHEN a notification is sent THEN it gives up by the deadline with the host only', async () => {
    const { url } = await receiver(ok);
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
    const webhook = new WebhookNotifier({ name: 'webhook', url, minBackoffMs: 10, maxBackoffMs: 20 });
    const error = await webhook.send(notification, context(200)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendError);
    expect((error as SendError).permanent).toBe(false);
    expect((error as SendError).message).toMatch(/^webhook 127\.0\.0\.1:\d+: gave up .*ECONNREFUSED/);
    expect((error as SendError).message).not.toContain('/hooks');
  });

  it('GIVEN a bad configuration WHEN the notifier is made THEN it refuses with a message free of the URL and header values', () => {
    const bad = (options: Partial<ConstructorParameters<typeof WebhookNotifier>[0]>) => () =>
      new WebhookNotifier({ name: 'webhook', url: 'https://hooks.example.com/x/secret-part', ...options });
    expect(bad({ url: 'not a url secret-part' })).toThrow(/^webhook: the webhook url is not a valid URL$/);
    expect(bad({ url: 'ftp://hooks.example.com/secret-part' })).toThrow(/must be http\(s\), not ftp:$/);
    expect(bad({ headers: { 'x-cutover-signature': 'sha256=forged' } })).toThrow(
      /x-cutover-signature is set by cutover/,
    );
    expect(bad({ headers: { 'X-Token': 'abc\r\nX-Evil: 1' } })).toThrow(
      /^webhook: header X-Token has a line break/,
    );
    expect(bad({})).not.toThrow();
  });
});
