import { planDeploy } from '../../src/controller/plan.js';
import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { awsHarness } from './harness.js';
import { announced, changingOperations } from './changing.js';
import { baseGroup, goodAmi, goodAmi2, launchTemplateId, tgA, tgB } from './fixtures.js';
import { giveBaseGroupServingSettings, requestCountLabel } from './serving.js';

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

/** What a fleet needs to serve as the base group does, beyond subnets, health checks and capacity. */
function servingSettings(name: string) {
  const group = h.account.groups.get(name);
  const described = h.account.describeGroups({ AutoScalingGroupNames: [name] }).AutoScalingGroups[0];
  return {
    policies: group?.policies.map((p) => ({
      name: p.PolicyName,
      type: p.PolicyType,
      label: p.TargetTrackingConfiguration?.PredefinedMetricSpecification?.ResourceLabel,
    })),
    hooks: group?.hooks.map((x) => [x.LifecycleHookName, x.LifecycleTransition, x.DefaultResult]),
    mixed: described?.MixedInstancesPolicy,
    launchTemplate: described?.LaunchTemplate,
    tags: Object.fromEntries(
      (described?.Tags ?? [])
        .filter((t) => !t.Key?.startsWith('cutover:'))
        .map((t) => [t.Key, `${t.Value}${t.PropagateAtLaunch ? ' (propagated)' : ''}`]),
    ),
  };
}

describe('a new group copies what serving needs', () => {
  it('GIVEN a base group with scaling policies, a lifecycle hook, a mixed instances policy and its own tags WHEN deploying THEN green has them, on its own target group and the new template version', async () => {
    h = awsHarness();
    giveBaseGroupServingSettings(h.account);
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    const green = servingSettings(`${baseGroup}-g1`);
    expect(green.policies).toEqual([
      { name: 'requests-per-target', type: 'TargetTrackingScaling', label: requestCountLabel(tgB) },
      { name: 'cpu-steps', type: 'StepScaling', label: undefined },
    ]);
    expect(green.hooks).toEqual([['warm-cache', 'autoscaling:EC2_INSTANCE_LAUNCHING', 'CONTINUE']]);
    expect(green.launchTemplate).toBeUndefined();
    expect(green.mixed).toEqual({
      LaunchTemplate: {
        LaunchTemplateSpecification: { LaunchTemplateId: launchTemplateId, Version: '2' },
        Overrides: [{ InstanceType: 'm7g.large' }, { InstanceType: 'm6g.large' }],
      },
      InstancesDistribution: { OnDemandBaseCapacity: 1, SpotAllocationStrategy: 'price-capacity-optimized' },
    });
    expect(green.tags).toEqual({ team: 'catalog (propagated)', 'cost-centre': '4711' });
    // The step policy's alarms live in CloudWatch and are not copied: a person is told.
    expect(h.events.some((e) => e.code === 'target.note' && e.message.includes('cpu-steps'))).toBe(true);
    expect(h.live()).toEqual({ [`${baseGroup}-g1`]: 100 });
  });

  it('GIVEN green went live WHEN the next deploy copies the live group THEN the settings carry over again, on the other target group', async () => {
    h = awsHarness();
    giveBaseGroupServingSettings(h.account);
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    const next = servingSettings(`${baseGroup}-g2`);
    expect(next.policies?.[0]?.label).toBe(requestCountLabel(tgA));
    expect(next.hooks).toHaveLength(1);
    expect(next.mixed?.LaunchTemplate?.LaunchTemplateSpecification?.Version).toBe('3');
    expect(next.tags).toEqual({ team: 'catalog (propagated)', 'cost-centre': '4711' });
  });

  it('GIVEN a base group with scaling policies WHEN planning THEN the plan announces each PutScalingPolicy the deploy then makes, in order', async () => {
    h = awsHarness();
    giveBaseGroupServingSettings(h.account);
    const lines = await planDeploy(h.ctx, goodAmi2);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^CreateAutoScalingGroup .*MixedInstancesPolicy.*LifecycleHooks=warm-cache/),
        `PutScalingPolicy ${baseGroup}-g1 requests-per-target TargetTrackingScaling`,
        `PutScalingPolicy ${baseGroup}-g1 cpu-steps StepScaling`,
      ]),
    );
    const from = h.account.log.length;
    await deploy(h.ctx, { deployment: 'd-planned', version: goodAmi2 });
    const made = h.account.log.slice(from).filter((op) => changingOperations.has(op));
    expect(made).toEqual(announced(lines));
  });
});
