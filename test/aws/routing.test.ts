import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { rollback } from '../../src/controller/rollback.js';
import { UserInputError } from '../../src/errors.js';
import { awsHarness } from './harness.js';
import { account, baseGroup, goodAmi, goodAmi2, lb, region, tgA, tgB } from './fixtures.js';

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

const tgOther = `arn:aws:elasticloadbalancing:${region}:${account}:targetgroup/reports/0123456789abcdef`;

/** Someone added another service's target group to the listener's forward action, by hand. */
function forwardAlsoTo(foreign: string): void {
  h.account.addTargetGroup(foreign, `arn:aws:elasticloadbalancing:${region}:${account}:loadbalancer/${lb}`);
  const weights = h.account.weights(h.env.listener);
  h.account.modifyListener(h.env.listener, [
    {
      Type: 'forward',
      Order: 1,
      ForwardConfig: {
        TargetGroups: [
          ...Object.entries(weights).map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })),
          { TargetGroupArn: foreign, Weight: 10 },
        ],
      },
    },
  ]);
}

describe('routing checks', () => {
  it('GIVEN the listener also forwards to a target group not in targetGroups WHEN deploying THEN preflight refuses before anything changes', async () => {
    h = awsHarness();
    forwardAlsoTo(tgOther);
    await expect(deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 })).rejects.toMatchObject({
      code: 'LISTENER_FOREIGN_TARGET_GROUPS',
      message: expect.stringContaining(tgOther),
    });
    expect(h.account.calls.get('CreateLaunchTemplateVersion')).toBeUndefined();
  });

  it('GIVEN the listener also forwards to a target group not in targetGroups WHEN rolling back THEN it is refused and the foreign group keeps its share', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    forwardAlsoTo(tgOther);
    const before = h.account.weights(h.env.listener);
    const failure = rollback(h.ctx, 'r-1', () => '');
    await expect(failure).rejects.toBeInstanceOf(UserInputError);
    await expect(failure).rejects.toMatchObject({ code: 'LISTENER_FOREIGN_TARGET_GROUPS' });
    expect(h.account.weights(h.env.listener)).toEqual(before);
    expect(before).toMatchObject({ [tgA]: 100, [tgB]: 0, [tgOther]: 10 });
    expect(h.codes()).not.toContain('rollback.started');
  });

  it('GIVEN a configured target group was deleted WHEN rolling back THEN it is refused before traffic moves', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    h.account.targetGroups.delete(tgA);
    await expect(rollback(h.ctx, 'r-1', () => '')).rejects.toMatchObject({ code: 'TARGET_GROUP_NOT_FOUND' });
    expect(h.live()).toEqual({ [`${baseGroup}-g1`]: 100 });
  });
});
