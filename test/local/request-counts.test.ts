import { afterEach, describe, expect, it } from 'vitest';
import { Client, request } from 'undici';
import { isAlive } from '../../src/providers/local/processes.js';
import type { AgentInfo, ServiceStatus } from '../../src/providers/local/protocol.js';
import { connectionsHeld } from '../helpers/connections.js';
import { killDataPlane, localTarget } from '../helpers/local.js';

/**
 * The local target counts the responses its router returns per fleet, over real HTTP through real router
 * workers, and says "no data" only where it cannot vouch for a span. Each test compares the router's
 * counts with what its own client saw.
 */

let local: Awaited<ReturnType<typeof localTarget>>;
const workersBefore = process.env.CUTOVER_ROUTER_WORKERS;
afterEach(async () => {
  await local.cleanup();
  if (workersBefore === undefined) delete process.env.CUTOVER_ROUTER_WORKERS;
  else process.env.CUTOVER_ROUTER_WORKERS = workersBefore;
});

/** A local target whose agent runs `workers` router workers (0: it routes itself), if given. */
async function started(options: { workers?: string; capacity?: number } = {}) {
  if (options.workers !== undefined) process.env.CUTOVER_ROUTER_WORKERS = options.workers;
  local = await localTarget(undefined, options.capacity ? { capacity: options.capacity } : {});
  await local.target.router.ensure();
}

async function launched(id: string, version: string): Promise<void> {
  await local.target.fleet.launch({ id, version, deployment: id });
  await local.target.fleet.waitReady(id, Date.now() + 10_000, () => {});
}

/** Waits for the next whole second and returns it (epoch ms): spans start and end there. */
async function nextSecond(): Promise<number> {
  const next = Math.ceil((Date.now() + 1) / 1000) * 1000;
  await new Promise((r) => setTimeout(r, next - Date.now()));
  while (Date.now() < next) await new Promise((r) => setTimeout(r, 1));
  return next;
}

/** Sends `n` GETs one after the other and tallies what came back: by version, and the 5xx. */
async function traffic(url: string, n: number) {
  const seen = { byVersion: {} as Record<string, number>, errors: 0, statuses: [] as number[] };
  for (let i = 0; i < n; i++) {
    const response = await request(url);
    const text = await response.body.text();
    seen.statuses.push(response.statusCode);
    if (response.statusCode >= 500) seen.errors++;
    const version = text.startsWith('{') ? (JSON.parse(text) as { version?: string }).version : undefined;
    if (version) seen.byVersion[version] = (seen.byVersion[version] ?? 0) + 1;
  }
  return seen;
}

const counts = (fleetIds: string[], from: number, to: number) =>
  (local.target.metrics as NonNullable<typeof local.target.metrics>).requestCounts(fleetIds, from, to);

describe('local request counts', { timeout: 30_000 }, () => {
  it('GIVEN v1 at 70 and v2 at 30 on a router in the agent itself WHEN 200 requests come through its public URL THEN each fleet counts exactly the responses it returned', async () => {
    await started({ workers: '0' });
    expect((await local.client.request<AgentInfo>('GET', '/v1/agent')).workers).toEqual([]);
    await launched('d-1', 'v1');
    await launched('d-2', 'v2');
    await local.target.router.setWeights({ 'd-1': 70, 'd-2': 30 });
    const url = await local.target.publicUrl?.();
    expect(url).toBe(local.endpoint);

    const from = await nextSecond();
    const seen = await traffic(`${url}/`, 200);
    const to = await nextSecond();

    expect(seen.byVersion.v1).toBeGreaterThan(110);
    expect(seen.byVersion.v2).toBeGreaterThan(30);
    expect(await counts(['d-1', 'd-2'], from, to)).toEqual({
      'd-1': { requests: seen.byVersion.v1, errors: 0 },
      'd-2': { requests: seen.byVersion.v2, errors: 0 },
    });
  });

  it('GIVEN three router workers that each accepted some of many clients WHEN they all send until just before the span ends THEN the counts are the sum over every worker, the last moments included', async () => {
    await started({ workers: '3' });
    const info = await local.client.request<AgentInfo>('GET', '/v1/agent');
    expect(info.workers).toHaveLength(3);
    await launched('d-1', 'v1');
    await launched('d-2', 'v2');
    await local.target.router.setWeights({ 'd-1': 50, 'd-2': 50 });

    const from = await nextSecond();
    const to = from + 2000;
    // One connection per client, all open at once, so the workers' accepts share them out.
    const clients = Array.from({ length: 24 }, () => new Client(local.endpoint));
    const seen = { v1: 0, v2: 0 };
    const send = async (client: Client) => {
      const response = await client.request({ path: '/', method: 'GET' });
      const { version } = (await response.body.json()) as { version: 'v1' | 'v2' };
      seen[version]++;
    };
    await Promise.all(clients.map(send));
    const held = connectionsHeld(info.workers, Number(new URL(local.endpoint).port));
    // Rounds of all clients at once for most of the span; then single requests, a millisecond or two
    // each, up to shortly before its end (none may end after it: the client would count a response the
    // router counts in the next second). Asked at once then, the workers have not handed over the last
    // ones by themselves yet (they do every 250 ms): the answer must have them too.
    while (Date.now() < from + 800) await Promise.all(clients.map(send));
    for (let i = 0; Date.now() < to - 25; i++) await send(clients[i % clients.length] as Client);
    await Promise.all(clients.map((c) => c.close()));
    while (Date.now() < to) await new Promise((r) => setTimeout(r, 1));

    const serving = [...held.values()].filter((n) => n > 0);
    expect(serving.length, `connections per worker: ${[...held.values()].join(', ')}`).toBeGreaterThan(1);
    expect(await counts(['d-1', 'd-2'], from, to)).toEqual({
      'd-1': { requests: seen.v1, errors: 0 },
      'd-2': { requests: seen.v2, errors: 0 },
    });
  });

  it('GIVEN a router worker dies WHEN a span starts before its replacement THEN it is undefined, since what it had not handed over died with it; a span after is counted', async () => {
    await started({ workers: '2' });
    await launched('d-1', 'v1');
    await local.target.router.setWeights({ 'd-1': 100 });
    const before = await local.client.request<AgentInfo>('GET', '/v1/agent');
    const firstSpan = await nextSecond();
    await traffic(`${local.endpoint}/`, 3);
    const victim = before.workers[0] as number;
    process.kill(victim, 'SIGKILL');
    for (;;) {
      const now = await local.client.request<AgentInfo>('GET', '/v1/agent');
      if (now.workers.length === 2 && !now.workers.includes(victim)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const from = await nextSecond();
    const seen = await traffic(`${local.endpoint}/`, 6);
    const to = await nextSecond();

    expect(seen.byVersion.v1).toBe(6);
    expect(await counts(['d-1'], firstSpan, to)).toEqual({ 'd-1': undefined });
    expect(await counts(['d-1'], from, to)).toEqual({ 'd-1': { requests: 6, errors: 0 } });
  });

  it('GIVEN the flaky demo version takes all traffic WHEN 100 requests come THEN its every-5th-per-instance 500s are its errors, about 20%', async () => {
    await started();
    await launched('d-1', 'flaky');
    await local.target.router.setWeights({ 'd-1': 100 });

    const from = await nextSecond();
    const seen = await traffic(`${local.endpoint}/`, 100);
    const to = await nextSecond();

    // Two instances, each failing every 5th of its own requests: 19 or 20, however the router split them.
    expect(seen.errors).toBeGreaterThanOrEqual(19);
    expect(seen.errors).toBeLessThanOrEqual(20);
    expect(seen.statuses.filter((s) => s !== 200 && s !== 500)).toEqual([]);
    expect(await counts(['d-1'], from, to)).toEqual({ 'd-1': { requests: 100, errors: seen.errors } });
  });

  it("GIVEN a fleet's only instance is killed WHEN requests come before it is back THEN the router's own 502s count as that fleet's errors", async () => {
    await started({ capacity: 1 });
    await launched('d-1', 'v1');
    await local.target.router.setWeights({ 'd-1': 100 });
    const status = await local.client.request<ServiceStatus>('GET', '/v1/services/test/catalog');
    const pid = status.fleets[0]?.instances[0]?.pid as number;

    const from = await nextSecond();
    const before = await traffic(`${local.endpoint}/`, 5);
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 5));
    // The agent starts it again after half a second: these come in before.
    const during = await traffic(`${local.endpoint}/`, 5);
    const to = await nextSecond();

    expect(before.errors).toBe(0);
    expect(during.statuses).toEqual([502, 502, 502, 502, 502]);
    expect(await counts(['d-1'], from, to)).toEqual({ 'd-1': { requests: 10, errors: 5 } });
  });

  it('GIVEN the agent restarts WHEN a span starts before it counted THEN it is undefined; one after is counted, zero for an idle fleet, undefined for a retired or unknown one', async () => {
    await started();
    await launched('d-1', 'v1');
    await launched('d-2', 'v2');
    await local.target.router.setWeights({ 'd-1': 100 });
    const { startedAt } = await local.client.request<AgentInfo>('GET', '/v1/agent');
    const beforeAgent = Math.floor(startedAt / 1000) * 1000 - 5000;
    const firstSpan = await nextSecond();
    await traffic(`${local.endpoint}/`, 3);
    const firstEnd = await nextSecond();
    expect(await counts(['d-1'], beforeAgent, firstEnd)).toEqual({ 'd-1': undefined });
    expect(await counts(['d-1'], firstSpan, firstEnd)).toEqual({ 'd-1': { requests: 3, errors: 0 } });
    // No whole second in the span.
    expect(await counts(['d-1'], firstSpan + 100, firstSpan + 900)).toEqual({ 'd-1': undefined });

    await killDataPlane(local.stateDir);
    await local.target.router.ensure();
    const from = await nextSecond();
    await traffic(`${local.endpoint}/`, 4);
    const to = await nextSecond();
    expect(await counts(['d-1'], firstSpan, to)).toEqual({ 'd-1': undefined });
    expect(await counts(['d-1', 'd-2', 'nowhere'], from, to)).toEqual({
      'd-1': { requests: 4, errors: 0 },
      'd-2': { requests: 0, errors: 0 },
      nowhere: undefined,
    });

    await local.target.fleet.retire('d-2');
    expect(await counts(['d-2'], from, to)).toEqual({ 'd-2': undefined });
  });
});
