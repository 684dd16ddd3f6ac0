import { describe, expect, it } from 'vitest';
import { exampleAccount } from '../fake-aws/install.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { baseGroup, goodAmi, launchTemplateId, listenerArn, tgA, tgB } from './fixtures.js';

/** The fake must behave as AWS documents, or the aws target's tests prove nothing. See BEHAVIOUR.md. */
function account(options: { throttleRate?: number } = {}) {
  const clock = new FakeClock();
  return { clock, fake: exampleAccount({ now: () => clock.now(), ...options }) };
}

const forward = (tuples: { TargetGroupArn: string; Weight?: number }[]) => [
  { Type: 'forward' as const, ForwardConfig: { TargetGroups: tuples } },
];

describe('fake account', () => {
  it('validates forward actions as ELB does', () => {
    const { fake } = account();
    expect(() =>
      fake.modifyListener(listenerArn, forward([{ TargetGroupArn: tgA, Weight: 1000 }])),
    ).toThrowError(/between 0 and 999/);
    expect(() =>
      fake.modifyListener(
        listenerArn,
        forward([{ TargetGroupArn: tgA }, { TargetGroupArn: tgB, Weight: 1 }]),
      ),
    ).toThrowError(/weight must be specified/);
    const six = Array.from({ length: 6 }, () => ({ TargetGroupArn: tgA, Weight: 1 }));
    expect(() => fake.modifyListener(listenerArn, forward(six))).toThrowError(
      expect.objectContaining({ name: 'TooManyTargetGroups' }),
    );
    expect(() =>
      fake.modifyListener(
        listenerArn,
        forward([{ TargetGroupArn: tgA.replace('catalog-a', 'other'), Weight: 1 }]),
      ),
    ).toThrowError(expect.objectContaining({ name: 'TargetGroupNotFoundException' }));
    fake.modifyListener(
      listenerArn,
      forward([
        { TargetGroupArn: tgA, Weight: 10 },
        { TargetGroupArn: tgB, Weight: 90 },
      ]),
    );
    expect(fake.weights(listenerArn)).toEqual({ [tgA]: 10, [tgB]: 90 });
  });

  it('takes instances Pending → InService, and targets initial → healthy after threshold × interval', () => {
    const { clock, fake } = account();
    fake.createGroup({
      AutoScalingGroupName: 'g',
      LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '1' },
      MinSize: 1,
      MaxSize: 1,
      DesiredCapacity: 1,
      TargetGroupARNs: [tgB],
    });
    clock.advance(5_000);
    expect(
      fake.describeGroups({ AutoScalingGroupNames: ['g'] }).AutoScalingGroups[0]?.Instances?.[0]
        ?.LifecycleState,
    ).toBe('Pending');
    clock.advance(60_000);
    expect(fake.targetHealth(tgB).TargetHealthDescriptions[0]?.TargetHealth.State).toBe('initial');
    clock.advance(5 * 30_000);
    expect(fake.targetHealth(tgB).TargetHealthDescriptions[0]?.TargetHealth.State).toBe('healthy');
  });

  it('misses a just-created group in describe calls for a few seconds', () => {
    const { clock, fake } = account();
    fake.createGroup({
      AutoScalingGroupName: 'g',
      LaunchTemplate: { LaunchTemplateId: launchTemplateId },
      MinSize: 0,
      MaxSize: 1,
      DesiredCapacity: 0,
    });
    expect(fake.describeGroups({ AutoScalingGroupNames: ['g'] }).AutoScalingGroups).toEqual([]);
    clock.advance(fake.describeLagMs);
    expect(fake.describeGroups({ AutoScalingGroupNames: ['g'] }).AutoScalingGroups).toHaveLength(1);
  });

  it('pages DescribeAutoScalingGroups with NextToken', () => {
    const { clock, fake } = account();
    for (const name of ['g1', 'g2', 'g3']) {
      fake.createGroup({
        AutoScalingGroupName: name,
        LaunchTemplate: { LaunchTemplateId: launchTemplateId },
        MinSize: 0,
        MaxSize: 1,
        DesiredCapacity: 0,
      });
    }
    clock.advance(10_000);
    const first = fake.describeGroups({});
    expect(first.AutoScalingGroups).toHaveLength(2);
    const second = fake.describeGroups({ NextToken: first.NextToken });
    expect(
      [...first.AutoScalingGroups, ...second.AutoScalingGroups].map((g) => g.AutoScalingGroupName),
    ).toEqual([baseGroup, 'g1', 'g2', 'g3']);
    expect(second.NextToken).toBeUndefined();
  });

  it('scales in unprotected instances only, and drains the targets it terminates', () => {
    const { fake } = account();
    const [first] =
      fake.describeGroups({ AutoScalingGroupNames: [baseGroup] }).AutoScalingGroups[0]?.Instances ?? [];
    fake.protect({
      AutoScalingGroupName: baseGroup,
      InstanceIds: [first?.InstanceId ?? ''],
      ProtectedFromScaleIn: true,
    });
    fake.updateGroup({ AutoScalingGroupName: baseGroup, DesiredCapacity: 0 });
    const left =
      fake.describeGroups({ AutoScalingGroupNames: [baseGroup] }).AutoScalingGroups[0]?.Instances ?? [];
    expect(left.map((i) => i.InstanceId)).toEqual([first?.InstanceId]);
    expect(
      fake
        .targetHealth(tgA)
        .TargetHealthDescriptions.map((d) => d.TargetHealth.State)
        .sort(),
    ).toEqual(['draining', 'healthy']);
  });

  it('refuses a taken group name with AlreadyExistsFault', () => {
    const { fake } = account();
    expect(() =>
      fake.createGroup({
        AutoScalingGroupName: baseGroup,
        LaunchTemplate: { LaunchTemplateId: launchTemplateId },
      }),
    ).toThrowError(expect.objectContaining({ name: 'AlreadyExistsFault' }));
  });

  it('throttles each service with its own error code, repeatably', () => {
    const { fake } = account({ throttleRate: 1 });
    expect(() => fake.enter('elb', 'DescribeListeners')).toThrowError(
      expect.objectContaining({ name: 'ThrottlingException' }),
    );
    expect(() => fake.enter('autoscaling', 'DescribeAutoScalingGroups')).toThrowError(
      expect.objectContaining({ name: 'Throttling' }),
    );
    expect(() => fake.enter('ec2', 'DescribeImages')).toThrowError(
      expect.objectContaining({ name: 'RequestLimitExceeded' }),
    );
    expect(fake.describeImage(goodAmi)).toEqual({ ImageId: goodAmi, State: 'available' });
  });
});

describe('fake account: idempotency and lost responses', () => {
  const request = (token: string, ami = goodAmi) => ({
    LaunchTemplateId: launchTemplateId,
    SourceVersion: '1',
    ClientToken: token,
    LaunchTemplateData: { ImageId: ami },
  });

  it('GIVEN a ClientToken already used with the same request WHEN CreateLaunchTemplateVersion is called again THEN it answers the same version and creates none', () => {
    const { fake } = account();
    const first = fake.createTemplateVersion(request('t-1'));
    const again = fake.createTemplateVersion(request('t-1'));
    expect(again).toEqual(first);
    expect(fake.templates.get(launchTemplateId)?.versions).toHaveLength(2);
    expect(fake.createTemplateVersion(request('t-2')).LaunchTemplateVersion.VersionNumber).toBe(3);
  });

  it('GIVEN a ClientToken used with other parameters THEN it fails with IdempotentParameterMismatch', () => {
    const { fake } = account();
    fake.createTemplateVersion(request('t-1'));
    expect(() => fake.createTemplateVersion(request('t-1', 'ami-0fedcba9876543210'))).toThrowError(
      expect.objectContaining({ name: 'IdempotentParameterMismatch' }),
    );
  });

  it('GIVEN a lost response is armed for an operation THEN that many calls lose it, then answers come back', () => {
    const { fake } = account();
    fake.lostResponses.set('CreateAutoScalingGroup', 1);
    expect(fake.loseResponse('CreateAutoScalingGroup')).toBe(true);
    expect(fake.loseResponse('CreateAutoScalingGroup')).toBe(false);
    expect(fake.loseResponse('DescribeListeners')).toBe(false);
  });
});

describe('fake account: a force-deleted group lingers until its instances are gone', () => {
  it('GIVEN a group with registered instances WHEN force-deleted THEN it stays listed as "Delete in progress", its name taken, until drained and terminated', () => {
    const { clock, fake } = account();
    fake.deleteGroup({ AutoScalingGroupName: baseGroup, ForceDelete: true });
    const listed = fake.describeGroups({ AutoScalingGroupNames: [baseGroup] }).AutoScalingGroups[0];
    expect(listed?.Status).toBe('Delete in progress');
    expect(listed?.Instances?.map((i) => i.LifecycleState)).toEqual(['Terminating', 'Terminating']);
    expect(() =>
      fake.createGroup({
        AutoScalingGroupName: baseGroup,
        LaunchTemplate: { LaunchTemplateId: launchTemplateId },
      }),
    ).toThrowError(expect.objectContaining({ name: 'AlreadyExistsFault' }));
    // The targets drain for the deregistration delay (300 s), then the instances shut down.
    clock.advance(300_000);
    expect(fake.describeGroups({ AutoScalingGroupNames: [baseGroup] }).AutoScalingGroups).toHaveLength(1);
    clock.advance(fake.terminateDelayMs);
    expect(fake.describeGroups({ AutoScalingGroupNames: [baseGroup] }).AutoScalingGroups).toEqual([]);
    fake.createGroup({
      AutoScalingGroupName: baseGroup,
      LaunchTemplate: { LaunchTemplateId: launchTemplateId },
    });
  });

  it('GIVEN a group being deleted THEN changing it fails as AWS does, and deleting it again changes nothing', () => {
    const { fake } = account();
    fake.deleteGroup({ AutoScalingGroupName: baseGroup, ForceDelete: true });
    expect(() => fake.updateGroup({ AutoScalingGroupName: baseGroup, DesiredCapacity: 2 })).toThrowError(
      expect.objectContaining({ name: 'ValidationError' }),
    );
    fake.deleteGroup({ AutoScalingGroupName: baseGroup, ForceDelete: true });
    expect(fake.deletedOrDeleting(baseGroup)).toBe(true);
  });
});

describe('fake account: what a group carries beyond its capacity', () => {
  it('GIVEN a target-tracking policy on ALB request count WHEN its ResourceLabel names a target group the group is not attached to THEN it fails with ValidationError', () => {
    const { fake } = account();
    const policy = (tg: string) => ({
      AutoScalingGroupName: baseGroup,
      PolicyName: 'requests',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: {
        PredefinedMetricSpecification: {
          PredefinedMetricType: 'ALBRequestCountPerTarget' as const,
          ResourceLabel: `app/catalog-prod/50dc6c495c0c9188/${tg.split(':').at(-1)}`,
        },
        TargetValue: 100,
      },
    });
    expect(() => fake.putScalingPolicy(policy(tgB))).toThrowError(
      expect.objectContaining({ name: 'ValidationError' }),
    );
    fake.putScalingPolicy(policy(tgA));
    fake.putScalingPolicy(policy(tgA));
    expect(fake.describePolicies({ AutoScalingGroupName: baseGroup }).ScalingPolicies).toHaveLength(1);
  });

  it('GIVEN CreateAutoScalingGroup with both LaunchTemplate and MixedInstancesPolicy, or a hook out of range THEN it fails with ValidationError', () => {
    const { fake } = account();
    const template = { LaunchTemplateId: launchTemplateId, Version: '1' };
    expect(() =>
      fake.createGroup({
        AutoScalingGroupName: 'g',
        LaunchTemplate: template,
        MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: template } },
      }),
    ).toThrowError(expect.objectContaining({ name: 'ValidationError' }));
    expect(() =>
      fake.createGroup({
        AutoScalingGroupName: 'g',
        LaunchTemplate: template,
        LifecycleHookSpecificationList: [
          {
            LifecycleHookName: 'h',
            LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
            HeartbeatTimeout: 10,
          },
        ],
      }),
    ).toThrowError(/HeartbeatTimeout/);
    fake.createGroup({
      AutoScalingGroupName: 'g',
      MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: template } },
    });
    expect(fake.groups.get('g')?.mixed?.LaunchTemplate?.LaunchTemplateSpecification).toEqual(template);
  });
});
