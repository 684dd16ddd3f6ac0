import http from 'node:http';
import net, { type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Client, Agent as HttpAgent, request } from 'undici';
import { WeightedRouter } from '../../src/providers/local/router.js';
import { freePort } from '../../src/providers/local/processes.js';
import { backend } from '../helpers/backend.js';
import { dropping, probe, type Probe } from '../helpers/probe.js';

let router: WeightedRouter;
let base: string;
let closers: (() => Promise<void>)[];
/** Every response the router counted, as [fleet, status]. */
let counted: [string, number][];

beforeEach(async () => {
  counted = [];
  router = new WeightedRouter((fleetId, status) => counted.push([fleetId, status]));
  const { port } = await router.listen('127.0.0.1', 0);
  base = `http://127.0.0.1:${port}`;
  closers = [];
});
afterEach(async () => {
  await router.close();
  await Promise.all(closers.map((close) => close()));
});

async function fleet(id: string, ...names: string[]): Promise<void> {
  const servers = await Promise.all(names.map((n) => backend(n)));
  closers.push(...servers.map((s) => s.close));
  router.setFleet(
    id,
    servers.map((s) => s.url),
  );
}

async function get(path = '/', dispatcher?: HttpAgent): Promise<{ status: number; body: string }> {
  const response = await request(`${base}${path}`, dispatcher ? { dispatcher } : {});
  return { status: response.statusCode, body: await response.body.text() };
}

/** Fleet `blue`, all the traffic, on an address nobody listens on (first, returned) and on `alive`. */
async function blueWithOneRefusing(alive: { url: string; close: () => Promise<void> }): Promise<string> {
  closers.push(alive.close);
  const dead = `http://127.0.0.1:${await freePort()}`;
  router.setFleet('blue', [dead, alive.url]);
  router.setWeights({ blue: 100 });
  return dead;
}

/** Fleet `id` on one probe, which records what reaches it. */
async function probed(id: string): Promise<Probe> {
  const server = await probe(id);
  closers.push(server.close);
  router.setFleet(id, [server.url]);
  return server;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** node:http rather than undici, which refuses to send hop-by-hop headers and `Expect`. */
function send(options: http.RequestOptions, body?: Buffer): Promise<Reply> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent: false, ...options }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    if (body && req.getHeader('expect') === '100-continue') req.on('continue', () => req.end(body));
    else req.end(body);
  });
}

type Upgraded = { status: 101; socket: Socket } | { status: number; body: string };

/** An upgrade handshake as a WebSocket client starts it, without a WebSocket library. */
function upgrade(): Promise<Upgraded> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      agent: false,
      path: '/socket',
      headers: { connection: 'Upgrade', upgrade: 'echo', host: 'chat.example' },
    });
    req.on('upgrade', (res, socket) => resolve({ status: res.statusCode as 101, socket }));
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

describe('weighted router', () => {
  it('GIVEN no fleet takes traffic WHEN a request comes THEN it answers 503', async () => {
    expect(await get()).toMatchObject({ status: 503, body: expect.stringContaining('no fleet') });
  });

  it('GIVEN blue at 100 WHEN requests come THEN every one reaches blue, round-robin over its instances', async () => {
    await fleet('blue', 'blue-0', 'blue-1');
    await fleet('green', 'green-0');
    router.setWeights({ blue: 100 });
    const bodies = await Promise.all(Array.from({ length: 10 }, () => get()));
    expect(new Set(bodies.map((b) => b.body))).toEqual(new Set(['blue-0', 'blue-1']));
  });

  it('GIVEN 50/50 weights WHEN 400 requests come THEN both fleets get a fair share', async () => {
    await fleet('blue', 'blue');
    await fleet('green', 'green');
    router.setWeights({ blue: 50, green: 50 });
    const bodies: string[] = [];
    for (let i = 0; i < 400; i++) bodies.push((await get()).body);
    const green = bodies.filter((b) => b === 'green').length;
    expect(green).toBeGreaterThan(120);
    expect(green).toBeLessThan(280);
  });

  it('GIVEN steady keep-alive load WHEN weights flip ten times THEN no request fails and the last flip wins at once', async () => {
    await fleet('blue', 'blue-0', 'blue-1');
    await fleet('green', 'green-0', 'green-1');
    router.setWeights({ blue: 100 });
    const dispatcher = new HttpAgent({ connections: 16 });
    let running = true;
    const results: { status: number; body: string }[] = [];
    const errors: unknown[] = [];
    const loops = Array.from({ length: 16 }, async () => {
      while (running) {
        try {
          results.push(await get('/', dispatcher));
        } catch (error) {
          errors.push(error);
        }
      }
    });
    // Paced by answers, not by time, so that every flip happens under load however slow the machine is.
    const answers = async (count: number) => {
      const until = results.length + errors.length + count;
      while (results.length + errors.length < until) await new Promise((r) => setTimeout(r, 2));
    };
    for (let i = 0; i < 10; i++) {
      await answers(20);
      router.setWeights(i % 2 === 0 ? { green: 100 } : { blue: 100 });
    }
    const switchedAt = results.length;
    await answers(60);
    running = false;
    await Promise.all(loops);
    await dispatcher.close();
    expect(errors).toEqual([]);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(results.length).toBeGreaterThan(200);
    // The last flip went to blue; requests sent after it (allowing the 16 in flight) all reached blue.
    expect(results.slice(switchedAt + 16).every((r) => r.body.startsWith('blue'))).toBe(true);
  });

  it('GIVEN a slow request in flight on blue WHEN traffic moves to green THEN it still finishes on blue', async () => {
    await fleet('blue', 'blue');
    await fleet('green', 'green');
    router.setWeights({ blue: 100 });
    const slow = get('/slow');
    await new Promise((r) => setTimeout(r, 50));
    expect(router.inFlight('blue')).toBe(1);
    router.setWeights({ green: 100 });
    expect((await get()).body).toBe('green');
    expect(await slow).toEqual({ status: 200, body: 'blue' });
    expect(router.inFlight('blue')).toBe(0);
  });

  it('GIVEN one instance refuses connections WHEN a GET reaches it THEN it is retried on another instance', async () => {
    await blueWithOneRefusing(await backend('alive'));
    const bodies = await Promise.all(Array.from({ length: 6 }, () => get()));
    expect(bodies).toEqual(Array.from({ length: 6 }, () => ({ status: 200, body: 'alive' })));
  });

  it('GIVEN one instance refuses connections WHEN a POST reaches it THEN it goes to another instance, since none of it was sent', async () => {
    await blueWithOneRefusing(await backend('alive'));
    const response = await request(`${base}/orders`, { method: 'POST', body: 'one order' });
    expect({ status: response.statusCode, body: await response.body.text() }).toEqual({
      status: 200,
      body: 'alive one order',
    });
  });

  it('GIVEN a POST WHEN proxied THEN its body reaches the backend', async () => {
    await fleet('blue', 'blue');
    router.setWeights({ blue: 100 });
    const response = await request(`${base}/items`, { method: 'POST', body: 'hello' });
    expect(await response.body.text()).toBe('blue hello');
  });

  it('refuses to forget a fleet that takes traffic, or to weight a fleet with no instances', async () => {
    await fleet('blue', 'blue');
    router.setWeights({ blue: 100 });
    expect(() => router.removeFleet('blue')).toThrowError(/still takes traffic/);
    expect(() => router.setWeights({ ghost: 100 })).toThrowError(/has no instances/);
    expect(() => router.setWeights({ blue: 101 })).toThrowError(/0 to 100/);
    expect(router.getWeights()).toEqual({ blue: 100 });
  });

  it("GIVEN a client behind other proxies WHEN its request is forwarded THEN Host is kept, X-Forwarded-* are the router's and hop-by-hop headers stay behind", async () => {
    const blue = await probed('blue');
    router.setWeights({ blue: 100 });
    const reply = await send({
      path: '/items?page=2',
      headers: {
        host: 'shop.example:8443',
        connection: 'keep-alive, X-Client-Hop',
        'x-client-hop': 'for the router only',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'proxy-authorization': 'Basic cm91dGVyOm9ubHk=',
        'x-forwarded-for': '203.0.113.7',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'spoofed.example',
        'x-request-id': 'r-1',
      },
    });
    expect(reply.status).toBe(200);
    const headers = blue.seen[0]?.headers;
    expect(blue.seen[0]?.url).toBe('/items?page=2');
    expect(headers).toMatchObject({
      host: 'shop.example:8443',
      'x-forwarded-for': '203.0.113.7, 127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'shop.example:8443',
      'x-request-id': 'r-1',
    });
    for (const hop of ['x-client-hop', 'keep-alive', 'te', 'proxy-authorization']) {
      expect(headers).not.toHaveProperty(hop);
    }
    // The backend's own hop-by-hop headers stay between it and the router too.
    expect(reply.headers['x-backend']).toBe('blue');
    expect(reply.headers).not.toHaveProperty('x-backend-hop');
    expect(reply.headers.connection).not.toMatch(/x-backend-hop/i);
  });

  it('GIVEN a router listening on IPv6 WHEN an IPv4 client calls THEN X-Forwarded-For names it without the ::ffff: prefix', async (ctx) => {
    const v6 = new WeightedRouter();
    closers.push(() => v6.close());
    let port: number;
    try {
      ({ port } = await v6.listen('::', await freePort('::')));
    } catch {
      return ctx.skip('no IPv6 on this machine');
    }
    const blue = await probe('blue');
    closers.push(blue.close);
    v6.setFleet('blue', [blue.url]);
    v6.setWeights({ blue: 100 });
    const response = await request(`http://127.0.0.1:${port}/`);
    await response.body.text();
    expect(blue.seen[0]?.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('GIVEN a 2 MB upload sent with Expect: 100-continue WHEN proxied THEN the backend receives every byte', async () => {
    const blue = await probed('blue');
    router.setWeights({ blue: 100 });
    const body = Buffer.alloc(2 * 1024 * 1024, 'x');
    const reply = await send(
      {
        method: 'PUT',
        path: '/upload',
        headers: {
          expect: '100-continue',
          'content-length': body.length,
          'content-type': 'application/octet-stream',
        },
      },
      body,
    );
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ name: 'blue', bytes: body.length });
    expect(blue.seen[0]?.headers).not.toHaveProperty('expect');
  });

  it('GIVEN the agent reports one of two instances not running WHEN requests come THEN the other one takes them all, until it is reported running again', async () => {
    const [blue0, blue1] = await Promise.all([backend('blue-0'), backend('blue-1')]);
    closers.push(blue0.close, blue1.close);
    // Reported before its fleet is known, as an agent that restarts finds it.
    router.setDown([blue0.url]);
    router.setFleet('blue', [blue0.url, blue1.url]);
    router.setWeights({ blue: 100 });
    const before = await Promise.all(Array.from({ length: 6 }, () => get()));
    expect(before).toEqual(Array.from({ length: 6 }, () => ({ status: 200, body: 'blue-1' })));
    router.setDown([]);
    const after = await Promise.all(Array.from({ length: 6 }, () => get()));
    expect(new Set(after.map((r) => r.body))).toEqual(new Set(['blue-0', 'blue-1']));
  });

  it('GIVEN the agent reports every instance of blue not running WHEN requests come THEN they are still tried, and answered', async () => {
    const servers = await Promise.all([backend('blue-0'), backend('blue-1')]);
    closers.push(...servers.map((b) => b.close));
    const urls = servers.map((b) => b.url);
    router.setFleet('blue', urls);
    router.setDown(urls);
    router.setWeights({ blue: 100 });
    const bodies = await Promise.all(Array.from({ length: 4 }, () => get()));
    expect(new Set(bodies.map((b) => b.body))).toEqual(new Set(['blue-0', 'blue-1']));
  });

  it('GIVEN an instance that drops connections mid-request WHEN a GET reaches it THEN the other instance answers, and the dropping one sits out about a second', async () => {
    const dropper = await dropping();
    const alive = await backend('alive');
    closers.push(dropper.close, alive.close);
    router.setFleet('blue', [dropper.url, alive.url]);
    router.setWeights({ blue: 100 });
    expect(await get()).toEqual({ status: 200, body: 'alive' });
    expect(dropper.connections()).toBe(1);
    for (let i = 0; i < 6; i++) expect(await get()).toEqual({ status: 200, body: 'alive' });
    expect(dropper.connections()).toBe(1);
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 0; i < 2; i++) expect(await get()).toEqual({ status: 200, body: 'alive' });
    expect(dropper.connections()).toBe(2);
  });

  it('GIVEN an instance that drops connections mid-request WHEN a POST reaches it THEN it answers 502 and the POST is not sent again', async () => {
    const dropper = await dropping();
    const other = await probe('other');
    closers.push(dropper.close, other.close);
    router.setFleet('blue', [dropper.url, other.url]);
    router.setWeights({ blue: 100 });
    const response = await request(`${base}/orders`, { method: 'POST', body: 'one order' });
    expect(response.statusCode).toBe(502);
    await response.body.text();
    expect(dropper.connections()).toBe(1);
    expect(other.seen).toEqual([]);
  });

  it('GIVEN steady keep-alive GET load from 20 clients on two instances WHEN one dies abruptly mid-load THEN no GET fails', async () => {
    const [blue0, blue1] = await Promise.all([
      probe('blue-0', { delayMs: 2 }),
      probe('blue-1', { delayMs: 2 }),
    ]);
    closers.push(blue0.close, blue1.close);
    router.setFleet('blue', [blue0.url, blue1.url]);
    router.setWeights({ blue: 100 });
    const clients = Array.from({ length: 20 }, () => new Client(base));
    const total = 600;
    let sent = 0;
    const names: string[] = [];
    const failures: unknown[] = [];
    let killedAfter = -1;
    let inFlightOnKilled = 0;
    await Promise.all(
      clients.map(async (client) => {
        while (sent < total) {
          sent++;
          try {
            const response = await client.request({ path: '/', method: 'GET' });
            const text = await response.body.text();
            if (response.statusCode === 200) names.push((JSON.parse(text) as { name: string }).name);
            else failures.push(`${response.statusCode} ${text}`);
          } catch (error) {
            failures.push(error);
          }
          if (killedAfter < 0 && names.length >= 150 && blue0.pending() > 0) {
            inFlightOnKilled = blue0.pending();
            killedAfter = names.length;
            blue0.kill();
          }
        }
      }),
    );
    await Promise.all(clients.map((c) => c.close()));
    expect(failures).toEqual([]);
    expect(names).toHaveLength(total);
    expect(killedAfter).toBeGreaterThan(0);
    // Requests were in flight on it when it died: those are the ones that had to be retried.
    expect(inFlightOnKilled).toBeGreaterThan(0);
    // Allowing for the 20 whose answers were on their way when it died, the survivor answered the rest.
    expect(names.slice(killedAfter + 20).every((n) => n === 'blue-1')).toBe(true);
    expect(router.inFlight('blue')).toBe(0);
  });

  it('GIVEN an Upgrade request WHEN proxied THEN the instance switches protocols, bytes flow both ways and it counts in flight until closed', async () => {
    const blue = await probed('blue');
    router.setWeights({ blue: 100 });
    const upgraded = await upgrade();
    expect(upgraded.status).toBe(101);
    if (!('socket' in upgraded)) return;
    const { socket } = upgraded;
    const echoed = new Promise<string>((resolve) =>
      socket.once('data', (chunk: Buffer) => resolve(chunk.toString())),
    );
    socket.write('ping');
    expect(await echoed).toBe('ping');
    expect(router.inFlight('blue')).toBe(1);
    expect(blue.seen[0]).toMatchObject({
      method: 'GET',
      url: '/socket',
      headers: {
        host: 'chat.example',
        connection: 'upgrade, close',
        upgrade: 'echo',
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'chat.example',
      },
    });
    socket.end();
    await until(() => router.inFlight('blue') === 0);
  });

  it('GIVEN an Upgrade request WHEN the instance refuses the connection THEN the next instance takes it, and with none left it answers 502', async () => {
    const alive = await probe('alive');
    const dead = await blueWithOneRefusing(alive);
    const upgraded = await upgrade();
    expect(upgraded.status).toBe(101);
    if ('socket' in upgraded) upgraded.socket.destroy();
    expect(alive.seen).toHaveLength(1);

    router.setFleet('green', [dead]);
    router.setWeights({ green: 100 });
    expect(await upgrade()).toMatchObject({ status: 502, body: expect.stringContaining('failed') });
    expect(router.inFlight('green')).toBe(0);
  });

  it('GIVEN an upgraded connection still open WHEN the router closes THEN the connection is closed and close() returns', async () => {
    await probed('blue');
    router.setWeights({ blue: 100 });
    const upgraded = await upgrade();
    if (!('socket' in upgraded)) throw new Error(`not upgraded: ${upgraded.status}`);
    const closed = new Promise((resolve) => upgraded.socket.once('close', resolve));
    await router.close();
    await closed;
  });

  it('GIVEN an instance that sends 103 Early Hints before its answer WHEN proxied THEN the client gets the answer', async () => {
    await probed('blue');
    router.setWeights({ blue: 100 });
    const reply = await send({ path: '/early-hints' });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ name: 'blue' });
  });

  it("GIVEN a POST its instance drops, a GET retried elsewhere, an upgrade and a 503 with no fleet WHEN counted THEN the 502 is blue's, the GET counts once, the 101 counts, and the 503 is no fleet's", async () => {
    const dropper = await dropping();
    const other = await probe('other');
    closers.push(dropper.close, other.close);
    router.setFleet('blue', [dropper.url, other.url]);
    router.setWeights({ blue: 100 });
    const post = await request(`${base}/orders`, { method: 'POST', body: 'one order' });
    await post.body.text();
    expect(post.statusCode).toBe(502);
    // Once the dropping instance has sat out its second, the GET meets it first, and is sent on.
    await new Promise((r) => setTimeout(r, 1100));
    router.setFleet('blue', [dropper.url, other.url]);
    expect((await get()).status).toBe(200);
    expect(dropper.connections()).toBe(2);
    const upgraded = await upgrade();
    expect(upgraded.status).toBe(101);
    if ('socket' in upgraded) upgraded.socket.destroy();
    router.setWeights({});
    expect((await get()).status).toBe(503);
    await until(() => counted.length >= 3);
    expect(counted).toEqual([
      ['blue', 502],
      ['blue', 200],
      ['blue', 101],
    ]);
    expect(other.seen.map((r) => r.method)).toEqual(['GET', 'GET']);
  });

  it('GIVEN a client that gives up before a slow instance answers WHEN the request ends THEN nothing is counted: no response was returned', async () => {
    const slow = await probe('slow', { delayMs: 300 });
    closers.push(slow.close);
    router.setFleet('blue', [slow.url]);
    router.setWeights({ blue: 100 });
    await expect(request(base, { signal: AbortSignal.timeout(50) })).rejects.toThrow();
    await until(() => slow.pending() === 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(counted).toEqual([]);
  });

  describe('an upgrade the instance does not take', () => {
    it('GIVEN an instance that answers an Upgrade request with a plain 200 WHEN a client asks to upgrade THEN it gets the 200 and the connection ends, rather than staying pinned to that instance', async () => {
      await fleet('blue', 'blue-0');
      router.setWeights({ blue: 100 });
      const { port } = new URL(base);
      const socket = net.connect(Number(port), '127.0.0.1');
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      const ended = new Promise<boolean>((resolve) => {
        socket.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 3000);
      });
      socket.write(
        'GET / HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      );
      expect(await ended).toBe(true);
      socket.destroy();
      expect(received).toMatch(/^HTTP\/1\.1 200/);
      expect(received).toContain('blue-0');
    });
  });
});
