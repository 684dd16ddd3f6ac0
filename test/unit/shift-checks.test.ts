import { afterEach, describe, expect, it } from 'vitest';
import { awsChecks } from '../../src/config/checks.js';
import { deploy } from '../../src/controller/deploy.js';
import type { RequestCounts } from '../../src/providers/types.js';
import { controllerHarness } from '../helpers/controller.js';

/**
 * The checks of `checks:` watching a canary on the in-memory target, in virtual time: the controller
 * starts them when green first takes traffic, and a failing or long-inconclusive one sends traffic back.
 */

let harness: ReturnType<typeof controllerHarness>;
afterEach(() => harness.cleanup());

const minute = 60_000;

/** Each fleet's responses per minute, by version: `rate` requests of which `errors` fail. */
function traffic(per: Record<string, { rate: number; errorRatio: number }>) {
  harness.target.metrics = {
    requestCounts: (ids, from, to) => {
      const minutes = (to - from) / minute;
      const counts: Record<string, RequestCounts | undefined> = {};
      for (const id of ids) {
        const version = harness.target.fleets.find((f) => f.id === id)?.version ?? '';
        const share = (harness.target.weights[id] ?? 0) / 100;
        const model = per[version];
        const requests = Math.floor((model?.rate ?? 0) * share * minutes);
        counts[id] = { requests, errors: Math.floor(requests * (model?.errorRatio ?? 0)) };
      }
      return Promise.resolve(counts);
    },
  };
}

function setup(checks: object) {
  harness = controllerHarness({ strategy: { name: 'canary', steps: [10, 50, 100], stepBake: 5 * minute } });
  harness.ctx.checks = { config: awsChecks.parse(checks), artifact: 'catalog', environment: 'test' };
}

async function v1Live(): Promise<void> {
  const withoutChecks = { ...harness.ctx };
  delete withoutChecks.checks;
  await deploy(
    { ...withoutChecks, strategy: { name: 'all-at-once' } },
    { deployment: 'd-v1', version: 'v1' },
  );
  harness.target.calls = [];
  harness.events.length = 0;
}

const shifts = () => harness.target.calls.filter((c) => c.startsWith('weights'));

describe('checks watching the shift', () => {
  it('GIVEN an error-rate check WHEN green answers 5xx to 8% at 10% THEN traffic goes back to blue, and the failure says what was measured against what', async () => {
    setup({ interval: '10s', errorRate: { max: '1%', window: '1m', minRequests: 50 } });
    traffic({ v1: { rate: 6000, errorRatio: 0 }, v2: { rate: 6000, errorRatio: 0.08 } });
    await v1Live();
    const error = await deploy(harness.ctx, { deployment: 'd-v2', version: 'v2' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CHECK_FAILED' });
    expect((error as Error).message).toMatch(
      /check `errorRate` failed with `v2` at 10% of traffic: green 5xx rate \d+(\.\d)?% over \d+ requests > 1%/,
    );
    expect(shifts()).toEqual(['weights v2=10,v1=90', 'weights v1=100']);
    expect(harness.target.liveVersion()).toBe('v1');
    expect(harness.codes()).toContain('check.failed');
    expect(harness.journal.latest()).toMatchObject({ phase: 'failed' });
  });

  it('GIVEN an error-rate check WHEN green stays under it THEN the canary goes through every step to live, and the journal holds the readings', async () => {
    setup({ interval: '10s', errorRate: { max: '1%', window: '1m', minRequests: 50 } });
    traffic({ v1: { rate: 6000, errorRatio: 0.001 }, v2: { rate: 6000, errorRatio: 0.002 } });
    await v1Live();
    await deploy(harness.ctx, { deployment: 'd-v2', version: 'v2' });
    expect(shifts()).toEqual(['weights v2=10,v1=90', 'weights v2=50,v1=50', 'weights v2=100']);
    expect(harness.target.liveVersion()).toBe('v2');
    const recorded = harness.journal.deployments().find((d) => d.deployment === 'd-v2');
    expect(recorded?.checks?.errorRate).toMatchObject({ outcome: 'pass' });
  });

  it('GIVEN too little traffic to judge WHEN the step ends THEN green is held there, and after three windows still inconclusive it goes back to blue', async () => {
    setup({ interval: '10s', inconclusiveLimit: 3, errorRate: { max: '1%', window: '1m', minRequests: 50 } });
    // 10% of 100 a minute: 10 requests a window, never the 50 needed.
    traffic({ v1: { rate: 100, errorRatio: 0 }, v2: { rate: 100, errorRatio: 0 } });
    await v1Live();
    const error = await deploy(harness.ctx, { deployment: 'd-v2', version: 'v2' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CHECK_FAILED' });
    expect((error as Error).message).toMatch(/inconclusive for 3 windows of 1m/);
    expect(shifts()).toEqual(['weights v2=10,v1=90', 'weights v1=100']);
    expect(harness.codes()).toContain('check.reading');
  });

  it('GIVEN a slow start of traffic WHEN the step time is up while the check is inconclusive THEN the step is extended until it can decide, then goes on', async () => {
    setup({
      interval: '10s',
      inconclusiveLimit: 10,
      errorRate: { max: '1%', window: '1m', minRequests: 50 },
    });
    await v1Live();
    // Traffic reaches green only 8 minutes after its first share: a 5-minute step cannot decide by then.
    let first: number | undefined;
    harness.target.metrics = {
      requestCounts: (ids, _from, to) => {
        first ??= to;
        const counts: Record<string, RequestCounts | undefined> = {};
        for (const id of ids) counts[id] = { requests: to - first > 8 * minute ? 500 : 0, errors: 0 };
        return Promise.resolve(counts);
      },
    };
    await deploy(harness.ctx, { deployment: 'd-v2', version: 'v2' });
    const holding = harness.events.find(
      (e) => e.code === 'shift.watching' && e.message.includes('until errorRate can decide'),
    );
    expect(holding).toBeDefined();
    expect(harness.target.liveVersion()).toBe('v2');
  });

  it('GIVEN an error-rate check and no traffic anywhere WHEN the first deploy runs THEN it goes live: it shifts nothing, so only its health checks watch it', async () => {
    setup({ interval: '10s', errorRate: { max: '1%', window: '1m', minRequests: 50 } });
    traffic({});
    await deploy(harness.ctx, { deployment: 'd-v1', version: 'v1' });
    expect(harness.target.liveVersion()).toBe('v1');
    expect(harness.codes()).not.toContain('check.reading');
  });

  it('GIVEN an error-rate check on a target that counts no responses WHEN deploy starts THEN it exits 2 naming the key before anything changes', async () => {
    setup({ errorRate: { max: '1%' } });
    harness.target.metrics = undefined;
    await expect(deploy(harness.ctx, { deployment: 'd-v1', version: 'v1' })).rejects.toMatchObject({
      code: 'CHECK_UNSUPPORTED',
      message: expect.stringContaining('environments.test.checks.errorRate'),
    });
    expect(harness.target.calls).toEqual([]);
  });
});
