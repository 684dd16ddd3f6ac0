import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { rollback } from '../../src/controller/rollback.js';
import { awsHarness } from './harness.js';
import { badAmi, baseGroup, goodAmi, goodAmi2 } from './fixtures.js';

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

/** DeleteAutoScalingGroup with ForceDelete returns at once; the group stays listed while it empties. */
describe('a group being deleted', () => {
  it('GIVEN the last deploy failed and its green is still being deleted WHEN rolling back THEN the deleted groups are no fleets and there is no standby', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    // d-3 retires the standby g1, then its own green g3 fails and is deleted too.
    await expect(deploy(h.ctx, { deployment: 'd-3', version: badAmi })).rejects.toMatchObject({
      code: 'GREEN_UNHEALTHY',
    });
    expect(h.account.groups.get(`${baseGroup}-g3`)?.deleting).toBeDefined();
    expect((await h.ctx.target.fleet.list()).map((f) => f.id)).toEqual([`${baseGroup}-g2`]);
    await expect(rollback(h.ctx, 'r-1', () => 'redeploy')).rejects.toMatchObject({ code: 'NO_STANDBY' });
    expect(h.live()).toEqual({ [`${baseGroup}-g2`]: 100 });
  });

  it('GIVEN deploy, deploy, rollback WHEN the next deploy retires the group that was live THEN its green takes a new generation, not the name still being deleted', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    await rollback(h.ctx, 'r-1', () => '');
    // g2 is still being deleted when d-3 names its green; it is gone by the end of the bake.
    await deploy(h.ctx, { deployment: 'd-3', version: goodAmi });
    expect(h.live()).toEqual({ [`${baseGroup}-g3`]: 100 });
    expect((await h.ctx.target.fleet.list()).map((f) => f.id).sort()).toEqual([
      `${baseGroup}-g1`,
      `${baseGroup}-g3`,
    ]);
  });
});
