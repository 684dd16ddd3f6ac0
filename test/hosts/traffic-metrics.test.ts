import { describe, expect, it } from 'vitest';
import { CounterSamples, type CounterReading } from '../../src/providers/haproxy/counter-samples.js';
import { processIdentity } from '../../src/providers/haproxy/info.js';
import { counted, parseStat, serverRows, type ServerCounts } from '../../src/providers/haproxy/stat.js';
import { hostsMetrics } from '../../src/providers/hosts/traffic-metrics.js';
import { infoAnswer, statAnswer } from '../helpers/haproxy-stat.js';
import { ManualClock } from '../helpers/manual-clock.js';

/**
 * The hosts target's request counts: HAProxy's cumulative per-server counters, sampled, subtracted over
 * whole intervals between readings. Green is a fleet in slot 8002 on two hosts, blue in 8001.
 */
const green = ['a-8002', 'b-8002'];
const blue = ['a-8001', 'b-8001'];
const t0 = Date.UTC(2026, 10, 26, 12, 0, 0);

/** Counters: server → [requests, errors], cumulative. */
function reading(at: number, servers: Record<string, [number, number]>, process = 'p1'): CounterReading {
  return {
    at,
    process,
    servers: new Map(
      Object.entries(servers).map(([n, [requests, errors]]): [string, ServerCounts] => [
        n,
        { requests, errors },
      ]),
    ),
  };
}

/** Every server at `k` times a steady rate: green 10 requests a second each, 2 of them errors. */
const steady = (second: number, process = 'p1', base = 0) =>
  reading(
    t0 + second * 1000,
    {
      'a-8002': [base + 10 * second, base / 5 + 2 * second],
      'b-8002': [base + 10 * second, base / 5 + 2 * second],
      'a-8001': [base + 90 * second, 0],
      'b-8001': [base + 90 * second, 0],
    },
    process,
  );

describe('hosts: request counts from sampled HAProxy counters', () => {
  it('GIVEN a reading each second THEN a span counts the whole intervals within it, summed over the fleet’s servers, and a partial interval at either end is left out', () => {
    const samples = new CounterSamples();
    for (let s = 0; s <= 10; s++) samples.add(steady(s));
    // Seconds 2 to 7 exactly: 5 intervals, 2 servers.
    expect(samples.read(green, t0 + 2000, t0 + 7000)).toEqual({ requests: 100, errors: 20 });
    expect(samples.read(blue, t0 + 2000, t0 + 7000)).toEqual({ requests: 900, errors: 0 });
    // 2.5 s to 7.5 s: the intervals 3..7 only (4 of them), never a guess at part of one.
    expect(samples.read(green, t0 + 2500, t0 + 7500)).toEqual({ requests: 80, errors: 16 });
    // A span reaching past the last reading counts up to it.
    expect(samples.read(green, t0 + 8000, t0 + 60_000)).toEqual({ requests: 40, errors: 8 });
  });

  it('GIVEN no reading, one reading, or a span before the first reading or within one interval THEN there is no data (undefined), never a zero', () => {
    const samples = new CounterSamples();
    expect(samples.read(green, t0, t0 + 5000)).toBeUndefined();
    samples.add(steady(0));
    expect(samples.read(green, t0, t0 + 5000)).toBeUndefined();
    for (let s = 1; s <= 5; s++) samples.add(steady(s));
    // Sampling began at t0: a span from before it is not vouched for, however much of it was sampled.
    expect(samples.read(green, t0 - 1, t0 + 5000)).toBeUndefined();
    expect(samples.read(green, t0 + 2100, t0 + 2900)).toBeUndefined();
    // A server the readings do not have (not in the backend) is no data, not zero.
    expect(samples.read(['a-8002', 'c-8002'], t0, t0 + 5000)).toBeUndefined();
    // An idle fleet is data: zero requests.
    const idle = new CounterSamples();
    idle.add(reading(t0, { 'a-8002': [7, 1] }));
    idle.add(reading(t0 + 1000, { 'a-8002': [7, 1] }));
    expect(idle.read(['a-8002'], t0, t0 + 1000)).toEqual({ requests: 0, errors: 0 });
  });

  it('GIVEN HAProxy reloads (counters from zero) WHEN a span starts before the reload THEN it is undefined, never negative; a span after it counts from the new process alone', () => {
    const samples = new CounterSamples();
    for (let s = 0; s <= 5; s++) samples.add(steady(s));
    // Reloaded between 5 and 6: green's counters restart lower than they were.
    for (let s = 6; s <= 10; s++)
      samples.add(
        reading(t0 + s * 1000, {
          'a-8002': [10 * (s - 6), 2 * (s - 6)],
          'b-8002': [10 * (s - 6), 2 * (s - 6)],
          'a-8001': [90 * (s - 6), 0],
          'b-8001': [90 * (s - 6), 0],
        }),
      );
    expect(samples.read(green, t0 + 2000, t0 + 9000)).toBeUndefined();
    expect(samples.read(green, t0 + 5000, t0 + 7000)).toBeUndefined();
    expect(samples.read(green, t0 + 6000, t0 + 9000)).toEqual({ requests: 60, errors: 12 });
  });

  it('GIVEN a reload whose new counters outgrew the old ones within one interval THEN the other process still ends the run: no fake-good count from mixed counters', () => {
    const samples = new CounterSamples();
    // Before: green had failed 200 of 1000 a server.
    samples.add(reading(t0, { 'a-8002': [1000, 200] }, 'p1'));
    samples.add(reading(t0 + 1000, { 'a-8002': [1010, 202] }, 'p1'));
    // The new process served 1500 clean requests at once: higher than before, but not comparable.
    samples.add(reading(t0 + 2000, { 'a-8002': [1500, 250] }, 'p2'));
    samples.add(reading(t0 + 3000, { 'a-8002': [1600, 270] }, 'p2'));
    expect(samples.read(['a-8002'], t0, t0 + 3000)).toBeUndefined();
    expect(samples.read(['a-8002'], t0 + 1000, t0 + 3000)).toBeUndefined();
    expect(samples.read(['a-8002'], t0 + 2000, t0 + 3000)).toEqual({ requests: 100, errors: 20 });
  });

  it('GIVEN hours of readings THEN only the last 15 minutes are held, and a span older than that is undefined', () => {
    const samples = new CounterSamples();
    for (let s = 0; s <= 7200; s++) samples.add(steady(s));
    expect(samples.size()).toBe(901);
    expect(samples.read(green, t0, t0 + 7200_000)).toBeUndefined();
    expect(samples.read(green, t0 + 7000_000, t0 + 7060_000)).toEqual({ requests: 1200, errors: 240 });
  });

  it("GIVEN HAProxy's own answer to `show info; show stat <backend> 4 -1` THEN the process and each server's counters come out of it", () => {
    const answer = `${infoAnswer(4242, 1795800241)}${statAnswer([
      { pxname: 'catalog', svname: 'a-8002', hrsp_2xx: 8, hrsp_5xx: 2 },
      { pxname: 'catalog', svname: 'BACKEND', hrsp_2xx: 8, hrsp_5xx: 2 },
    ])}`;
    expect(processIdentity(answer)).toBe('4242@1795800241');
    expect(processIdentity('Name: HAProxy\n')).toBeUndefined();
    expect(serverRows(parseStat(answer), 'catalog').map(counted)).toEqual([{ requests: 10, errors: 2 }]);
  });
});

describe('hosts: the sampler behind requestCounts', () => {
  it('GIVEN a deploy that asks every 500 ms THEN sampling starts with the first question (undefined then), counts once its readings reach back over the window, goes on while asked, and stops once not asked or told to', async () => {
    const clock = new ManualClock(t0);
    let reads = 0;
    const metrics = hostsMetrics({
      clock,
      read: async () => {
        const second = (clock.now() - t0) / 1000;
        reads++;
        const { process, servers } = steady(second);
        return { process, servers };
      },
      serversOf: async (ids) => Object.fromEntries(ids.map((id) => [id, id === 'green' ? green : undefined])),
    });
    const ask = (window: number) =>
      metrics.requestCounts(['green', 'gone'], clock.now() - window, clock.now());
    expect(await ask(2000)).toEqual({ green: undefined, gone: undefined });
    expect(metrics.sampling()).toBe(true);
    for (let i = 0; i < 3; i++) {
      await clock.advance(500);
      expect((await ask(2000)).green).toBeUndefined();
    }
    // Two seconds in: the window starts where sampling did, and readings at 0, 1 and 2 s cover it.
    await clock.advance(500);
    expect(await ask(2000)).toEqual({ green: { requests: 40, errors: 8 }, gone: undefined });
    await clock.advance(500);
    expect((await ask(2000)).green).toEqual({ requests: 20, errors: 4 });
    // Nobody asks: it stops by itself after a few seconds (the process can end).
    const before = reads;
    await clock.advance(10_000);
    expect(metrics.sampling()).toBe(false);
    expect(reads - before).toBeLessThanOrEqual(6);
    expect(clock.pending()).toBe(0);
    // Asked again: it starts afresh, with no data until it has some.
    expect((await ask(2000)).green).toBeUndefined();
    expect(metrics.sampling()).toBe(true);
    metrics.stop();
    expect(metrics.sampling()).toBe(false);
    await clock.advance(0);
    expect(clock.pending()).toBe(0);
  });

  it('GIVEN readings that fail for a while THEN it says so once, and the next good reading subtracts from the last one, losing nothing', async () => {
    const clock = new ManualClock(t0);
    const notes: string[] = [];
    let broken = false;
    const metrics = hostsMetrics({
      clock,
      note: (m) => notes.push(m),
      read: async () => {
        if (broken) throw new Error('connection lost');
        const { process, servers } = steady((clock.now() - t0) / 1000);
        return { process, servers };
      },
      serversOf: async (ids) => Object.fromEntries(ids.map((id) => [id, green])),
    });
    const ask = async () => (await metrics.requestCounts(['green'], t0, clock.now())).green;
    await ask();
    await clock.advance(1000);
    await ask();
    broken = true;
    for (let i = 0; i < 3; i++) {
      await clock.advance(1000);
      await ask();
    }
    broken = false;
    await clock.advance(1000);
    expect(await ask()).toEqual({ requests: 100, errors: 20 });
    expect(notes).toEqual([
      "could not read HAProxy's counters for the error-rate check: connection lost",
      "reading HAProxy's counters works again",
    ]);
    metrics.stop();
  });
});
