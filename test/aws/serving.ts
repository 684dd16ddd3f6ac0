import type { FakeAwsAccount } from '../fake-aws/account.js';
import { baseGroup, launchTemplateId, lb, tgA } from './fixtures.js';

/** The ALB request-count label of a target group: `app/<lb>/<id>/targetgroup/<name>/<id>`. */
export const requestCountLabel = (tg: string) => `${lb}/${tg.split(':').at(-1)}`;

/**
 * Gives the base group what a real one that serves has beyond subnets and capacity: scaling policies
 * (one on request count per target of its own target group), a launch lifecycle hook, a mixed
 * instances policy, and tags of its owner's and of AWS's.
 */
export function giveBaseGroupServingSettings(account: FakeAwsAccount): void {
  const group = account.groups.get(baseGroup);
  if (!group) throw new Error('no base group');
  group.policies = [
    {
      AutoScalingGroupName: baseGroup,
      PolicyName: 'requests-per-target',
      PolicyType: 'TargetTrackingScaling',
      EstimatedInstanceWarmup: 120,
      TargetTrackingConfiguration: {
        PredefinedMetricSpecification: {
          PredefinedMetricType: 'ALBRequestCountPerTarget',
          ResourceLabel: requestCountLabel(tgA),
        },
        TargetValue: 500,
      },
      Enabled: true,
    },
    {
      AutoScalingGroupName: baseGroup,
      PolicyName: 'cpu-steps',
      PolicyType: 'StepScaling',
      AdjustmentType: 'ChangeInCapacity',
      StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
      Alarms: [
        {
          AlarmName: 'catalog-cpu-high',
          AlarmARN: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:catalog-cpu-high',
        },
      ],
      Enabled: true,
    },
  ];
  group.hooks = [
    {
      AutoScalingGroupName: baseGroup,
      LifecycleHookName: 'warm-cache',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      HeartbeatTimeout: 300,
      GlobalTimeout: 30_000,
      DefaultResult: 'CONTINUE',
      NotificationMetadata: '{"cache":"catalog"}',
    },
  ];
  group.mixed = {
    LaunchTemplate: {
      LaunchTemplateSpecification: { LaunchTemplateId: launchTemplateId, Version: '1' },
      Overrides: [{ InstanceType: 'm7g.large' }, { InstanceType: 'm6g.large' }],
    },
    InstancesDistribution: { OnDemandBaseCapacity: 1, SpotAllocationStrategy: 'price-capacity-optimized' },
  };
  for (const [key, value, propagate] of [
    ['team', 'catalog', true],
    ['cost-centre', '4711', false],
    ['aws:cloudformation:stack-name', 'catalog-infra', true],
  ] as const) {
    group.tags.set(key, value);
    if (propagate) group.propagated.add(key);
  }
}
