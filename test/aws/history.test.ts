import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { historyOf } from '../../src/controller/history.js';
import type { ControllerContext } from '../../src/controller/context.js';
import { awsHarness } from './harness.js';
import { goodAmi, goodAmi2 } from './fixtures.js';

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

async function historyFrom(ctx: ControllerContext) {
  const { target } = ctx;
  if (!target.deployments) throw new Error('the aws target lists its deployments');
  return historyOf(ctx.journal, 20, {
    records: await target.deployments(),
    fleets: await target.fleet.list(),
  });
}

describe('aws: cutover history on a runner with no journal', () => {
  it('GIVEN ci-1 deployed twice THEN ci-2 lists both from the launch template versions: deployment, AMI, who, when, and the result while its group exists', async () => {
    h = awsHarness();
    await deploy({ ...h.ctx, actor: 'alice' }, { deployment: 'd-20261127T100000-aaaa', version: goodAmi2 });
    h.clock.advance(60_000);
    await deploy(
      { ...h.ctx, actor: 'bob smith' },
      { deployment: 'd-20261127T101000-bbbb', version: goodAmi },
    );

    const ci2 = h.runner('ci-2');
    const seen = await historyFrom(ci2.ctx);
    expect(seen.map((e) => [e.deployment, e.version, e.by, e.result, e.source])).toEqual([
      ['d-20261127T101000-bbbb', goodAmi, 'bob smith', 'succeeded', 'target'],
      ['d-20261127T100000-aaaa', goodAmi2, 'alice', 'succeeded', 'target'],
    ]);
    expect(Date.parse(seen[0]?.startedAt ?? '')).toBeGreaterThan(Date.parse(seen[1]?.startedAt ?? ''));

    // The runner that ran them tells more, from its journal: the strategy, the duration.
    const own = await historyFrom(h.ctx);
    expect(own.map((e) => [e.deployment, e.source, e.result])).toEqual([
      ['d-20261127T101000-bbbb', 'journal', 'succeeded'],
      ['d-20261127T100000-aaaa', 'journal', 'succeeded'],
    ]);
    expect(own[0]?.strategy).toBe('all-at-once');
    expect(own[0]?.durationMs).toBeGreaterThan(0);
  });

  it('GIVEN a deploy whose group is gone since (the standby gave way) THEN a fresh runner lists it with result unknown, not a guess', async () => {
    h = awsHarness();
    await deploy({ ...h.ctx, actor: 'alice' }, { deployment: 'd-20261127T100000-aaaa', version: goodAmi2 });
    await deploy({ ...h.ctx, actor: 'alice' }, { deployment: 'd-20261127T101000-bbbb', version: goodAmi });
    await deploy({ ...h.ctx, actor: 'alice' }, { deployment: 'd-20261127T102000-cccc', version: goodAmi2 });
    const seen = await historyFrom(h.runner('ci-2').ctx);
    expect(seen.map((e) => [e.deployment, e.result])).toEqual([
      ['d-20261127T102000-cccc', 'succeeded'],
      ['d-20261127T101000-bbbb', 'succeeded'],
      ['d-20261127T100000-aaaa', 'unknown'],
    ]);
  });
});
