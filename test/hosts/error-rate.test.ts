import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versionedLoad } from '../helpers/load.js';
import { hostsProject, type HostsProject } from './hosts-lab.js';

/**
 * The error-rate check on the hosts target, on real hosts: HAProxy's per-server counters, read over SSH
 * by the runner while the canary takes traffic, judge `flaky` (which answers a fifth of its requests with
 * 500) and send it back.
 */
let p: HostsProject;
beforeAll(async () => {
  p = await hostsProject(['v1', 'flaky']);
  appendFileSync(
    join(p.dir, 'cutover.config.yaml'),
    [
      '    strategy: { name: canary, steps: [10, 100], stepBake: 20s }',
      '    checks:',
      '      interval: 500ms',
      '      errorRate: { max: 1%, window: 2s, minRequests: 20 }',
      '',
    ].join('\n'),
  );
}, 60_000);
afterAll(async () => {
  await p?.stop();
});

const words = ['artifact=catalog', 'environment=lab'];

describe('hosts: the error-rate check from HAProxy counters', { timeout: 120_000 }, () => {
  it('GIVEN an error-rate check and steady traffic through HAProxy WHEN a canary of flaky takes 10% THEN its counts fail the check, traffic goes back to v1, and only flaky’s own 500s failed', async () => {
    const v1 = await p.cli(['deploy', ...words, 'version=v1']);
    expect(v1.code, v1.stderr).toBe(0);
    const traffic = versionedLoad(p.endpoint);
    const result = await p.cli(['deploy', ...words, 'version=flaky']);
    await traffic.stop();
    expect(result.code, result.stderr).toBe(1);
    const failed = result.events.find((e) => e.code === 'check.failed');
    expect(String(failed?.message)).toMatch(
      /errorRate failed with green at 10%: green 5xx rate \d+(\.\d+)?% over \d+ requests > 1%/,
    );
    expect(result.events.at(-1)).toMatchObject({ code: 'CHECK_FAILED' });
    // Judged within the step's 20 s bake, from the counts of green's first seconds of traffic.
    const shifted = result.events.find((e) => e.code === 'traffic.shifted');
    const judged = Date.parse(String(failed?.timestamp)) - Date.parse(String(shifted?.timestamp));
    expect(judged).toBeGreaterThan(0);
    expect(judged).toBeLessThan(15_000);
    // Readings before the window was sampled were inconclusive, never a pass.
    const readings = result.events.filter((e) => e.code === 'check.reading');
    expect(readings[0]).toMatchObject({ outcome: 'inconclusive', detail: 'no request counts for green yet' });
    expect(readings.some((e) => e.outcome === 'pass')).toBe(false);
    expect(traffic.failures.length).toBeGreaterThan(0);
    expect(traffic.failures.every((f) => f.startsWith('500 ') && f.includes('"flaky"'))).toBe(true);
    expect(new Set(traffic.seen)).toEqual(new Set(['v1', 'flaky']));
    for (let i = 0; i < 10; i++) expect(await p.served()).toBe('v1');
  });
});
