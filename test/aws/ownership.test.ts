import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { DeploymentFailed } from '../../src/errors.js';
import { awsHarness } from './harness.js';
import { baseGroup, goodAmi, goodAmi2, launchTemplateId, tgA, tgB } from './fixtures.js';

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

/** A group cutover did not create, with these tags, on the idle target group. */
function seedForeign(name: string, tags: Record<string, string>): void {
  h.account.seedGroup(name, launchTemplateId, tgB, 1);
  const group = h.account.groups.get(name);
  for (const [key, value] of Object.entries(tags)) group?.tags.set(key, value);
}

describe('cutover deletes or scales only what it created', () => {
  it('GIVEN an idle group carrying our tags but not named <baseGroup>-g<N> WHEN deploying THEN it is refused, named, and left running', async () => {
    h = awsHarness();
    seedForeign(`${baseGroup}-manual`, { 'cutover:artifact': 'catalog', 'cutover:environment': 'prod' });
    const failure = deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await expect(failure).rejects.toBeInstanceOf(DeploymentFailed);
    await expect(failure).rejects.toMatchObject({
      code: 'GROUP_NOT_CREATED_BY_CUTOVER',
      message: expect.stringContaining(`\`${baseGroup}-manual\``),
    });
    expect(h.account.groups.get(`${baseGroup}-manual`)?.instances).toHaveLength(1);
    expect(h.account.calls.get('DeleteAutoScalingGroup')).toBeUndefined();
    expect(h.account.calls.get('CreateAutoScalingGroup')).toBeUndefined();
    expect(h.account.weights(h.env.listener)).toEqual({ [tgA]: 1 });
  });

  it('GIVEN a group named like a generation but tagged for another environment WHEN asked to retire it THEN it is refused and not deleted', async () => {
    h = awsHarness();
    seedForeign(`${baseGroup}-g7`, { 'cutover:artifact': 'catalog', 'cutover:environment': 'staging' });
    await expect(h.ctx.target.fleet.retire(`${baseGroup}-g7`)).rejects.toMatchObject({
      code: 'GROUP_NOT_CREATED_BY_CUTOVER',
    });
    expect(h.account.groups.get(`${baseGroup}-g7`)?.instances).toHaveLength(1);
    expect(h.account.calls.get('DeleteAutoScalingGroup')).toBeUndefined();
    expect(h.account.calls.get('UpdateAutoScalingGroup')).toBeUndefined();
  });

  it('GIVEN the groups cutover made and the base group WHEN later deploys retire them THEN the base group is scaled to zero and generations are deleted', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    await deploy(h.ctx, { deployment: 'd-3', version: goodAmi2 });
    expect(h.account.groups.get(baseGroup)?.desired).toBe(0);
    expect(h.account.groups.get(`${baseGroup}-g1`)?.instances ?? []).toHaveLength(0);
    expect(h.live()).toEqual({ [`${baseGroup}-g3`]: 100 });
  });
});

describe('plan and groups cutover did not create', () => {
  it('GIVEN an idle group carrying our tags but not named <baseGroup>-g<N> WHEN planning THEN the plan refuses as the deploy would', async () => {
    h = awsHarness();
    seedForeign(`${baseGroup}-manual`, { 'cutover:artifact': 'catalog', 'cutover:environment': 'prod' });
    await expect(h.ctx.target.plan(goodAmi2)).rejects.toMatchObject({ code: 'GROUP_NOT_CREATED_BY_CUTOVER' });
  });
});
