import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probeCheck } from '../../healthchecks/probe.js';
import { shiftChecksFrom } from '../../healthchecks/shift-checks.js';
import type { CheckReading, ShiftPhase } from '../../healthchecks/shift-types.js';
import { startShiftWatch } from '../../healthchecks/shift-watch.js';
import { webhookCheck } from '../../healthchecks/webhook.js';
import { systemClock } from '../../src/clock.js';

/** Real HTTP on 127.0.0.1, port 0: the webhook's POSTs and the probe's GETs. */

interface Received {
  method: string | undefined;
  path: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

type Answer = (request: Received) => { status: number; body?: string } | 'hang';

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(resolve));
    }),
  );
});

async function server(answer: Answer): Promise<{ base: string; received: Received[] }> {
  const received: Received[] = [];
  const s = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method,
        path: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      received.push(request);
      const a = answer(request);
      if (a === 'hang') return;
      res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.body ?? '');
    });
  });
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, received };
}

/** A port nothing listens on: one a server had a moment ago. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

const now = Date.now();
const phase = (step: number, over: Partial<ShiftPhase> = {}): ShiftPhase => ({
  step,
  weight: 10,
  phase: 'step',
  since: now,
  greenSince: now,
  ...over,
});
const body = {
  artifact: 'catalog',
  environment: 'prod',
  version: 'v2',
  deployment: 'd-20261127T081500-3f9a',
};
const secretPath = '/hooks/T0001/s3cr3t-path-token';
const never = new AbortController().signal;

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('webhook check (real HTTP)', () => {
  const check = (url: string, timeout = 2000) =>
    webhookCheck({ url, timeout, interval: 10_000, body, headers: { Authorization: 'Bearer tkn' } });

  it('GIVEN a 2xx WHEN it reads THEN it passes, having POSTed the deploy and its phase as JSON with the headers', async () => {
    const { base, received } = await server(() => ({ status: 204 }));
    const reading = await check(base + secretPath).read(phase(1, { weight: 50 }), never);
    expect(reading).toMatchObject({ check: 'webhook', outcome: 'pass', detail: 'webhook answered 204' });
    expect(received).toHaveLength(1);
    expect(received[0]?.method).toBe('POST');
    expect(received[0]?.path).toBe(secretPath);
    expect(received[0]?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(received[0]?.headers.authorization).toBe('Bearer tkn');
    expect(JSON.parse(received[0]?.body ?? '')).toEqual({ ...body, phase: 'step', weight: 50 });
  });

  it.each([
    [{ status: 503, body: '' }, 'webhook answered 503'],
    [{ status: 409, body: 'deploy_frozen' }, 'webhook answered 409 deploy_frozen'],
    [
      { status: 404, body: `Cannot POST ${secretPath}` },
      /^webhook answered 404 \(an answer of \d+ bytes, not shown/,
    ],
    [{ status: 301, body: '' }, 'webhook answered 301'],
  ])('GIVEN %j WHEN it reads THEN it fails once, no retry, never naming the URL', async (answer, detail) => {
    const { base, received } = await server(() => answer);
    const reading = await check(base + secretPath).read(phase(0), never);
    expect(reading.outcome).toBe('fail');
    expect(reading.detail).toMatch(detail);
    expect(reading.detail).not.toContain('s3cr3t');
    expect(reading.detail).not.toContain('127.0.0.1');
    expect(received).toHaveLength(1);
  });

  it('GIVEN no answer within the timeout WHEN it reads THEN it fails saying so', async () => {
    const { base } = await server(() => 'hang');
    const started = Date.now();
    const reading = await check(base + secretPath, 150).read(phase(0), never);
    expect(reading).toMatchObject({ outcome: 'fail', detail: 'webhook: no answer within 150ms (ETIMEDOUT)' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('GIVEN nothing listening WHEN it reads THEN it fails with the error code only', async () => {
    const port = await closedPort();
    const reading = await check(`http://127.0.0.1:${port}${secretPath}`).read(phase(0), never);
    expect(reading).toMatchObject({ outcome: 'fail', detail: 'webhook: request failed: ECONNREFUSED' });
  });

  it('GIVEN a webhook that fails WHEN watched THEN `failed` names the status and no reading names the URL', async () => {
    const { base } = await server(() => ({ status: 500, body: `error at ${secretPath}` }));
    const checks = await shiftChecksFrom(
      {
        interval: 50,
        inconclusiveLimit: 3,
        ignoreAlarmReadErrors: false,
        webhook: { url: base + secretPath, timeout: 1000 },
      },
      { target: {}, green: 'g', body },
    );
    const readings: CheckReading[] = [];
    const watch = startShiftWatch(checks, {
      clock: systemClock,
      inconclusiveLimit: 3,
      phase: phase(0),
      onReading: (r) => readings.push(r),
    });
    const failed = await watch.failed;
    await watch.stop();
    expect(failed).toMatchObject({
      check: 'webhook',
      outcome: 'fail',
      detail: expect.stringMatching(/^webhook answered 500/),
    });
    expect(JSON.stringify(readings)).not.toContain('s3cr3t');
  });
});

describe('probe check (real HTTP)', () => {
  /** Runs the probe's requests with a phase the test moves; stop() ends them. */
  function running(url: string, options: { maxFailures?: number; timeout?: number } = {}) {
    const check = probeCheck({
      url,
      path: new URL(url).pathname,
      every: 5,
      timeout: options.timeout ?? 1000,
      maxFailures: options.maxFailures ?? 0,
      interval: 10_000,
    });
    let current = phase(0);
    const stopping = new AbortController();
    const done = check.run?.({ clock: systemClock, signal: stopping.signal, phase: () => current });
    return {
      check,
      setPhase: (p: ShiftPhase) => (current = p),
      read: () => check.read(current, never),
      stop: async () => {
        stopping.abort();
        await done;
      },
    };
  }

  const until = async (condition: () => boolean) => {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it('GIVEN every GET answers 200 THEN it passes, counting the requests of the step', async () => {
    const { base, received } = await server(() => ({ status: 200, body: 'ok' }));
    const probe = running(`${base}/`);
    await until(() => received.length >= 10);
    const reading = await probe.read();
    await probe.stop();
    expect(reading.outcome).toBe('pass');
    expect(reading.detail).toMatch(/^probe: 0 of \d+ requests to \/ failed in step 0, ≤ 0 allowed$/);
    expect(received.every((r) => r.method === 'GET' && r.path === '/')).toBe(true);
  });

  it('GIVEN failed requests beyond maxFailures in the step THEN it fails, counting them, with the last failure', async () => {
    let failing = 0;
    const { base, received } = await server(() => (failing-- > 0 ? { status: 503 } : { status: 200 }));
    const probe = running(`${base}/catalog`, { maxFailures: 2 });
    await until(() => received.length >= 5);
    failing = 3;
    await until(() => received.length >= 15);
    const reading = await probe.read();
    await probe.stop();
    expect(reading).toMatchObject({ check: 'probe', outcome: 'fail', value: 3, threshold: 2 });
    expect(reading.detail).toMatch(
      /^probe: 3 of \d+ requests to \/catalog failed in step 0 > 2 allowed \(last: 503\)$/,
    );
  });

  it('GIVEN failures in one step WHEN the next step starts THEN the count starts again', async () => {
    let status = 500;
    const { base, received } = await server(() => ({ status }));
    const probe = running(`${base}/`);
    await until(() => received.length >= 3);
    expect((await probe.read()).outcome).toBe('fail');
    status = 200;
    await new Promise((resolve) => setTimeout(resolve, 30)); // Lets a request sent in step 0 finish there.
    probe.setPhase(phase(1, { weight: 50 }));
    const seen = received.length;
    await until(() => received.length >= seen + 5);
    const reading = await probe.read();
    await probe.stop();
    expect(reading.outcome).toBe('pass');
    expect(reading.detail).toMatch(/^probe: 0 of \d+ requests to \/ failed in step 1/);
  });

  it('GIVEN a step too short to be read WHEN the next step is read THEN the failures of the step before still fail it', async () => {
    let status = 502;
    const { base, received } = await server(() => ({ status }));
    const probe = running(`${base}/`);
    await until(() => received.length >= 3);
    status = 200;
    await new Promise((resolve) => setTimeout(resolve, 30));
    probe.setPhase(phase(1, { weight: 50 }));
    const seen = received.length;
    await until(() => received.length >= seen + 3);
    const first = await probe.read();
    const second = await probe.read();
    await probe.stop();
    expect(first).toMatchObject({
      outcome: 'fail',
      detail: expect.stringMatching(/failed in step 0 > 0 allowed \(last: 502\)$/),
    });
    expect(second.outcome).toBe('pass');
  });

  it('GIVEN no answer within the timeout or nothing listening THEN each request counts as failed with its code', async () => {
    const { base } = await server(() => 'hang');
    const slow = running(`${base}/`, { timeout: 30 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const timedOut = await slow.read();
    await slow.stop();
    expect(timedOut).toMatchObject({
      outcome: 'fail',
      detail: expect.stringMatching(/\(last: ETIMEDOUT\)$/),
    });

    const refused = running(`http://127.0.0.1:${await closedPort()}/`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const reading = await refused.read();
    await refused.stop();
    expect(reading).toMatchObject({
      outcome: 'fail',
      detail: expect.stringMatching(/\(last: ECONNREFUSED\)$/),
    });
  });

  it('GIVEN the bake THEN the reading says so', async () => {
    const { base, received } = await server(() => ({ status: 200 }));
    const probe = running(`${base}/`);
    probe.setPhase(phase(3, { phase: 'bake', weight: 100 }));
    await until(() => received.length >= 3);
    const reading = await probe.read();
    await probe.stop();
    expect(reading.detail).toMatch(/failed in the bake/);
  });

  it('GIVEN a watch with a probe WHEN stop() THEN no request is sent after it and no timer is left', async () => {
    const { base, received } = await server(() => ({ status: 200 }));
    const before = timers();
    const checks = await shiftChecksFrom(
      {
        interval: 20,
        inconclusiveLimit: 3,
        ignoreAlarmReadErrors: false,
        probe: { path: '/health', interval: 5, maxFailures: 0, timeout: 1000 },
      },
      { target: { publicUrl: async () => `${base}/` }, green: 'g', body },
    );
    const readings: CheckReading[] = [];
    const watch = startShiftWatch(checks, {
      clock: systemClock,
      inconclusiveLimit: 3,
      phase: phase(0),
      onReading: (r) => readings.push(r),
    });
    await until(() => readings.some((r) => r.outcome === 'pass'));
    await watch.stop();
    expect(timers()).toBeLessThanOrEqual(before);
    // A request sent just before stop() may still reach the server; after that, none (one every 5 ms before).
    await new Promise((resolve) => setTimeout(resolve, 50));
    const sent = received.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received.length).toBe(sent);
    expect(received.every((r) => r.path === '/health')).toBe(true);
    expect(watch.latest()).toEqual([readings.at(-1)]);
  });
});
