import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { awsHarness } from './harness.js';
import { baseGroup, goodAmi2, launchTemplateId } from './fixtures.js';

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

/** A changing call that took effect but whose answer was lost is retried; the retry must not fail the deploy. */
describe('a lost response to a changing call', () => {
  it('GIVEN CreateAutoScalingGroup took effect but its response was lost WHEN it is retried THEN the group tagged with our deployment is ours and the deploy goes live', async () => {
    h = awsHarness();
    h.account.lostResponses.set('CreateAutoScalingGroup', 1);
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    expect(h.account.calls.get('(response lost)')).toBe(1);
    expect(h.account.calls.get('CreateAutoScalingGroup')).toBe(2);
    expect(h.live()).toEqual({ [`${baseGroup}-g1`]: 100 });
    expect(h.codes()).not.toContain('deploy.failed');
  });

  it('GIVEN CreateLaunchTemplateVersion took effect but its response was lost WHEN it is retried THEN its ClientToken gets the same version back, not a second one', async () => {
    h = awsHarness();
    h.account.lostResponses.set('CreateLaunchTemplateVersion', 1);
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    expect(h.account.calls.get('CreateLaunchTemplateVersion')).toBe(2);
    expect(h.account.templates.get(launchTemplateId)?.versions.map((v) => v.number)).toEqual([1, 2]);
    expect(h.account.groups.get(`${baseGroup}-g1`)?.templateVersion).toBe('2');
    expect(h.live()).toEqual({ [`${baseGroup}-g1`]: 100 });
  });
});
