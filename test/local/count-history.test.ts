import { afterEach, describe, expect, it, vi } from 'vitest';
import { CountHistory } from '../../src/providers/local/count-history.js';
import type { RequestCountsReply } from '../../src/providers/local/protocol.js';
import { sumWholeSeconds } from '../../src/providers/local/request-counts.js';
import { ResponseTally } from '../../src/providers/local/response-tally.js';
import { routerUrl } from '../../src/providers/local/target.js';

/** The bookkeeping behind the local target's request counts, on a clock the test moves. */

const t0 = Date.UTC(2026, 10, 27, 9, 0, 0);

function clock(start = t0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("the agent's count history", () => {
  it('GIVEN two hours of traffic on two fleets WHEN counted THEN only the last 15 minutes are kept, and they add up', () => {
    const c = clock();
    const history = new CountHistory(['blue', 'green'], { now: c.now });
    for (let s = 0; s < 2 * 3600; s++) {
      const second = Math.floor(c.now() / 1000);
      history.add('blue', second, 3, 1);
      history.add('green', second, 1, 0);
      c.advance(1000);
    }
    expect(history.size()).toBeLessThanOrEqual(2 * 900);
    const reply = history.read(['blue', 'green'], c.now() - 60_000, c.now());
    expect(reply.countedSince).toBe(c.now() - 899_000);
    expect(sumWholeSeconds(reply, ['blue', 'green'], c.now() - 60_000, c.now())).toEqual({
      blue: { requests: 180, errors: 60 },
      green: { requests: 60, errors: 0 },
    });
  });

  it('GIVEN a fleet is forgotten WHEN a router still hands over counts for it THEN they are dropped, and it reads as unknown', () => {
    const c = clock();
    const history = new CountHistory(['blue'], { now: c.now });
    history.add('blue', t0 / 1000, 5, 0);
    history.forget('blue');
    history.add('blue', t0 / 1000, 5, 0);
    history.add('never-here', t0 / 1000, 5, 0);
    expect(history.size()).toBe(0);
    c.advance(3000);
    expect(history.read(['blue', 'never-here'], t0, c.now()).fleets).toEqual({});
  });

  it('GIVEN counts were lost WHEN read THEN nothing before the loss is vouched for, and what follows is', () => {
    const c = clock(t0 + 200);
    const history = new CountHistory(['blue'], { now: c.now });
    c.advance(10_000);
    history.lost(c.now());
    const lostAt = c.now();
    c.advance(5000);
    const reply = history.read(['blue'], t0, c.now());
    expect(reply.countedSince).toBe(lostAt);
    expect(sumWholeSeconds(reply, ['blue'], t0 + 1000, c.now())).toEqual({ blue: undefined });
    expect(sumWholeSeconds(reply, ['blue'], lostAt, c.now())).toEqual({ blue: { requests: 0, errors: 0 } });
  });
});

describe('summing whole seconds', () => {
  const reply: RequestCountsReply = {
    countedSince: t0 + 300,
    countedUntil: t0 + 10_500,
    fleets: {
      blue: [
        [t0 / 1000, 10, 0],
        [t0 / 1000 + 1, 10, 1],
        [t0 / 1000 + 9, 10, 2],
        [t0 / 1000 + 10, 10, 3],
      ],
      idle: [],
    },
  };

  it('sums the seconds wholly inside the span, up to what was collected; an idle fleet is zero, an unknown one undefined', () => {
    expect(sumWholeSeconds(reply, ['blue', 'idle', 'gone'], t0 + 1000, t0 + 60_000)).toEqual({
      blue: { requests: 20, errors: 3 },
      idle: { requests: 0, errors: 0 },
      gone: undefined,
    });
    expect(sumWholeSeconds(reply, ['blue'], t0 + 1000, t0 + 9999)).toEqual({
      blue: { requests: 10, errors: 1 },
    });
  });

  it('is undefined for a span with no whole second over, or one that starts before counting did', () => {
    expect(sumWholeSeconds(reply, ['blue'], t0 + 1200, t0 + 1900)).toEqual({ blue: undefined });
    expect(sumWholeSeconds(reply, ['blue'], t0 + 10_000, t0 + 60_000)).toEqual({ blue: undefined });
    expect(sumWholeSeconds(reply, ['blue', 'idle'], t0, t0 + 5000)).toEqual({
      blue: undefined,
      idle: undefined,
    });
  });
});

describe("a router worker's tally", () => {
  afterEach(() => vi.useRealTimers());

  it('counts per fleet and second, 5xx as errors, and is empty once taken', () => {
    vi.useFakeTimers({ now: t0 + 900, toFake: ['Date'] });
    const tally = new ResponseTally();
    tally.count('blue', 200);
    tally.count('blue', 503);
    vi.setSystemTime(t0 + 1100);
    tally.count('blue', 404);
    tally.count('green', 500);
    expect(tally.take()).toEqual([
      { fleetId: 'blue', second: t0 / 1000, requests: 2, errors: 1 },
      { fleetId: 'blue', second: t0 / 1000 + 1, requests: 1, errors: 0 },
      { fleetId: 'green', second: t0 / 1000 + 1, requests: 1, errors: 1 },
    ]);
    expect(tally.take()).toEqual([]);
  });
});

describe("the local target's public URL", () => {
  it('is the router address, an IPv6 host in brackets, a wildcard reached on loopback', () => {
    expect(routerUrl('127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(routerUrl('[::1]:8080')).toBe('http://[::1]:8080');
    expect(routerUrl('localhost:80')).toBe('http://localhost:80');
    expect(routerUrl('0.0.0.0:8080')).toBe('http://127.0.0.1:8080');
    expect(routerUrl('[::]:8080')).toBe('http://[::1]:8080');
  });
});
