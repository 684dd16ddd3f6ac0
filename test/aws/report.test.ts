import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { timelineFor } from '../../src/controller/report.js';
import { reportHtml } from '../../src/report/html.js';
import { awsHarness } from './harness.js';
import { goodAmi, goodAmi2 } from './fixtures.js';

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

const about = { artifact: 'catalog', environment: 'prod' };
const first = 'd-20261127T100000-aaaa';
const second = 'd-20261127T101000-bbbb';

describe('aws: cutover report on a runner with no journal', () => {
  it('GIVEN ci-1 deployed THEN ci-2 reports it from what AWS holds (who, what, when, live at 100% now) and says what only ci-1 can draw; ci-1 draws all of it', async () => {
    h = awsHarness();
    await deploy({ ...h.ctx, actor: 'alice' }, { deployment: first, version: goodAmi2 });

    const ci2 = h.runner('ci-2');
    const seen = await timelineFor(ci2.ctx, about);
    expect(seen).toMatchObject({
      source: 'target',
      deployment: first,
      version: goodAmi2,
      by: 'alice',
      result: 'succeeded',
      now: { role: 'live', share: 100 },
      weights: [],
      checks: [],
    });
    const page = reportHtml(seen, about);
    expect(page).toContain('data-source="target"');
    expect(page).toContain('data-role="live" data-share="100"');
    expect(page).toContain('This runner has no journal of this deployment');
    ci2.cleanup();

    const own = await timelineFor(h.ctx, about);
    expect(own.source).toBe('journal');
    expect(own.weights.at(-1)?.shares).toEqual({ [`green ${goodAmi2}`]: 100 });
    expect(reportHtml(own, about)).not.toContain('This runner has no journal');
  });

  it('GIVEN another runner deployed after this one THEN the default report is of the newest deploy, not this runner’s last', async () => {
    h = awsHarness();
    const ci2 = h.runner('ci-2');
    await deploy({ ...ci2.ctx, actor: 'bob' }, { deployment: first, version: goodAmi2 });
    h.clock.advance(60_000);
    await deploy({ ...h.ctx, actor: 'alice' }, { deployment: second, version: goodAmi });
    const seen = await timelineFor(ci2.ctx, about);
    expect([seen.deployment, seen.source, seen.by]).toEqual([second, 'target', 'alice']);
    // Its own deploy it still draws from its journal, now the standby.
    const own = await timelineFor(ci2.ctx, about, first);
    expect([own.source, own.result]).toEqual(['journal', 'succeeded']);
    ci2.cleanup();
  });

  it('GIVEN a deploy whose group is gone THEN ci-2 reports it with result unknown; a deployment nobody knows is DEPLOYMENT_UNKNOWN', async () => {
    h = awsHarness();
    await deploy({ ...h.ctx, actor: 'alice' }, { deployment: first, version: goodAmi2 });
    await deploy({ ...h.ctx, actor: 'alice' }, { deployment: second, version: goodAmi });
    await deploy({ ...h.ctx, actor: 'alice' }, { deployment: 'd-20261127T102000-cccc', version: goodAmi2 });
    const ci2 = h.runner('ci-2');
    const gone = await timelineFor(ci2.ctx, about, first);
    expect(gone).toMatchObject({ source: 'target', result: 'unknown', now: null });
    expect(reportHtml(gone, about)).toContain('its fleet is gone, so how it ended is unknown');
    await expect(timelineFor(ci2.ctx, about, 'd-nope')).rejects.toMatchObject({
      code: 'DEPLOYMENT_UNKNOWN',
    });
    ci2.cleanup();
  });
});
