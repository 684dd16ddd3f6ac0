import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assess } from '../../healthchecks/assess.js';
import { httpProbe } from '../../healthchecks/http.js';
import { monitor } from '../../healthchecks/monitor.js';
import type { Measurement, Probe } from '../../healthchecks/types.js';
import { freePort } from '../../src/providers/local/processes.js';
import { FakeClock } from '../helpers/fake-clock.js';

const m = (outcome: Measurement['outcome']): Measurement => ({ instance: 'i', outcome, detail: '', at: 0 });
const thresholds = { healthyThreshold: 2, unhealthyThreshold: 3 };

describe('assess', () => {
  it.each([
    [[], 'pending'],
    [['pass'], 'pending'],
    [['pass', 'pass'], 'healthy'],
    [['fail', 'pass', 'pass'], 'healthy'],
    [['pass', 'pass', 'fail'], 'pending'],
    [['fail', 'fail'], 'pending'],
    [['fail', 'error', 'fail'], 'unhealthy'],
    [['pass', 'pass', 'fail', 'fail', 'fail'], 'unhealthy'],
    [['fail', 'fail', 'fail', 'pass'], 'pending'],
  ] as const)('%j is %s', (outcomes, verdict) => {
    expect(assess(outcomes.map(m), thresholds)).toBe(verdict);
  });
});

describe('assess while an instance warms up', () => {
  const notYet: Measurement = { instance: 'i', outcome: 'fail', notReady: true, detail: '503', at: 0 };
  const warming = { ...thresholds, warmingUp: true };
  it('GIVEN no pass yet WHEN it keeps saying not yet THEN it is pending, not unhealthy', () => {
    expect(assess([notYet, notYet, notYet, notYet], warming)).toBe('pending');
  });
  it('GIVEN no pass yet WHEN it answers 500s THEN they count as today', () => {
    expect(assess([notYet, m('fail'), notYet, m('fail'), m('fail')], warming)).toBe('unhealthy');
  });
  it('GIVEN it passed once WHEN it says not yet again THEN that counts as failure', () => {
    expect(assess([m('pass'), notYet, notYet, notYet], warming)).toBe('unhealthy');
  });
  it('GIVEN an instance being watched (no warm-up) WHEN it says not yet THEN that counts as failure', () => {
    expect(assess([notYet, notYet, notYet], thresholds)).toBe('unhealthy');
  });
});

describe('HTTP probe (real HTTP)', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/ok') return res.writeHead(200).end('ok');
      if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end('late'), 2000);
      if (req.url === '/redirect') return res.writeHead(302, { location: '/ok' }).end();
      if (req.url === '/warming') return res.writeHead(503).end('warming up');
      res.writeHead(500).end('no');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const probe = (path: string, timeout = 1000) =>
    httpProbe({ path, expectStatus: 200, timeout })({ id: 'i-1', url: base });

  it('passes on the expected status', async () => {
    expect(await probe('/ok')).toMatchObject({ instance: 'i-1', outcome: 'pass' });
  });

  it('fails on another status and says which', async () => {
    expect(await probe('/broken')).toMatchObject({
      outcome: 'fail',
      detail: 'GET /broken answered 500, expected 200',
    });
  });

  it('marks a 503 as not ready yet, and a 500 as plainly failed', async () => {
    expect(await probe('/warming')).toMatchObject({ outcome: 'fail', notReady: true });
    expect(await probe('/broken')).not.toHaveProperty('notReady');
  });

  it('does not follow redirects: a 302 is not a 200', async () => {
    expect(await probe('/redirect')).toMatchObject({ outcome: 'fail' });
  });

  it('turns a timeout into an error measurement instead of throwing', async () => {
    expect(await probe('/slow', 100)).toMatchObject({
      outcome: 'error',
      detail: expect.stringContaining('ETIMEDOUT'),
    });
  });

  it('turns a refused connection into an error measurement', async () => {
    const port = await freePort();
    const result = await httpProbe({ path: '/ok', expectStatus: 200, timeout: 500 })({
      id: 'i-2',
      url: `http://127.0.0.1:${port}`,
    });
    expect(result).toMatchObject({
      outcome: 'error',
      notReady: true,
      detail: expect.stringContaining('ECONNREFUSED'),
    });
  });
});

describe('monitor (virtual time)', () => {
  const targets = [
    { id: 'a', url: 'http://a.invalid' },
    { id: 'b', url: 'http://b.invalid' },
  ];

  /** Monitors targets a and b every 5 s (thresholds 2 and 2) with probes answered by `decide`. */
  async function run(
    mode: 'until-healthy' | 'watch',
    until: number,
    decide: (id: string, at: number) => Measurement['outcome'],
  ) {
    const clock = new FakeClock(0);
    const probe: Probe = async (t) => ({
      instance: t.id,
      outcome: decide(t.id, clock.now()),
      detail: 'scripted',
      at: clock.now(),
    });
    const result = await monitor(targets, mode, until, {
      interval: 5000,
      healthyThreshold: 2,
      unhealthyThreshold: 2,
      clock,
      probe,
    });
    return { result, clock };
  }

  it('waits until every instance has passed the healthy threshold', async () => {
    const { result, clock } = await run('until-healthy', 60_000, (id, at) =>
      id === 'b' && at < 5000 ? 'fail' : 'pass',
    );
    expect(result).toEqual({ kind: 'healthy' });
    expect(clock.now()).toBe(10_000);
  });

  it('stops at the first unhealthy instance', async () => {
    const { result } = await run('until-healthy', 60_000, (id) => (id === 'b' ? 'error' : 'pass'));
    expect(result).toMatchObject({ kind: 'unhealthy', instance: 'b' });
  });

  it('gives up at the deadline with what is still pending', async () => {
    const { result, clock } = await run('until-healthy', 20_000, (_id, at) =>
      (at / 5000) % 2 ? 'fail' : 'pass',
    );
    expect(result).toMatchObject({ kind: 'timed-out', pending: [{ instance: 'a' }, { instance: 'b' }] });
    expect(clock.now()).toBeLessThanOrEqual(20_000);
  });

  it('watches for the whole duration when all stays healthy', async () => {
    const { result, clock } = await run('watch', 600_000, () => 'pass');
    expect(result).toEqual({ kind: 'watched' });
    expect(clock.now()).toBe(600_000);
  });
});
