import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
  DescribePoliciesCommand,
  DescribeScalingActivitiesCommand,
  PutScalingPolicyCommand,
  SetInstanceProtectionCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateLaunchTemplateVersionCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { AutoScalingPort } from '../../src/providers/aws/autoscaling.js';
import type { AwsPorts } from '../../src/providers/aws/clients.js';
import { CloudWatchPort } from '../../src/providers/aws/cloudwatch.js';
import { Ec2Port } from '../../src/providers/aws/ec2.js';
import { ElbPort } from '../../src/providers/aws/elb.js';
import type { RetryOptions } from '../../src/providers/aws/retry.js';
import * as fx from '../aws/fixtures.js';
import { awsError, FakeAwsAccount, type FakeOptions } from './account.js';

/**
 * Puts the fake account behind the real SDK clients with aws-sdk-client-mock: the code under test builds
 * real commands and gets what AWS would answer. Returns ports built on those clients, and `restore`.
 */
export function installFakeAccount(account: FakeAwsAccount, retry: RetryOptions) {
  const elb = routed(mockClient(ElasticLoadBalancingV2Client));
  const asg = routed(mockClient(AutoScalingClient));
  const ec2 = routed(mockClient(EC2Client));
  const cloudwatch = routed(mockClient(CloudWatchClient));
  const run =
    <I, O>(
      service: 'elb' | 'autoscaling' | 'ec2' | 'cloudwatch',
      operation: string,
      handler: (input: I) => O,
    ) =>
    async (input: I): Promise<O> => {
      account.enter(service, operation);
      const out = handler(input);
      // The call took effect in the account; only its answer never reaches the client.
      if (account.loseResponse(operation)) throw lostResponseError();
      return out;
    };

  ec2.on(DescribeImagesCommand).callsFake(
    run('ec2', 'DescribeImages', (i: { ImageIds?: string[] }) => ({
      Images: (i.ImageIds ?? []).map((id) => account.describeImage(id)),
    })),
  );
  ec2
    .on(CreateLaunchTemplateVersionCommand)
    .callsFake(run('ec2', 'CreateLaunchTemplateVersion', (i) => account.createTemplateVersion(i)));
  ec2
    .on(DescribeLaunchTemplateVersionsCommand)
    .callsFake(run('ec2', 'DescribeLaunchTemplateVersions', (i) => account.describeTemplateVersions(i)));

  asg
    .on(DescribeAutoScalingGroupsCommand)
    .callsFake(run('autoscaling', 'DescribeAutoScalingGroups', (i) => account.describeGroups(i)));
  asg
    .on(CreateAutoScalingGroupCommand)
    .callsFake(run('autoscaling', 'CreateAutoScalingGroup', (i) => (account.createGroup(i), {})));
  asg
    .on(UpdateAutoScalingGroupCommand)
    .callsFake(run('autoscaling', 'UpdateAutoScalingGroup', (i) => (account.updateGroup(i), {})));
  asg
    .on(DeleteAutoScalingGroupCommand)
    .callsFake(run('autoscaling', 'DeleteAutoScalingGroup', (i) => (account.deleteGroup(i), {})));
  asg
    .on(SetInstanceProtectionCommand)
    .callsFake(run('autoscaling', 'SetInstanceProtection', (i) => (account.protect(i), {})));
  asg
    .on(CreateOrUpdateTagsCommand)
    .callsFake(run('autoscaling', 'CreateOrUpdateTags', (i) => (account.tag(i), {})));
  asg
    .on(PutScalingPolicyCommand)
    .callsFake(run('autoscaling', 'PutScalingPolicy', (i) => account.putScalingPolicy(i)));
  asg
    .on(DescribePoliciesCommand)
    .callsFake(run('autoscaling', 'DescribePolicies', (i) => account.describePolicies(i)));
  asg
    .on(DescribeLifecycleHooksCommand)
    .callsFake(
      run('autoscaling', 'DescribeLifecycleHooks', (i: { AutoScalingGroupName?: string }) =>
        account.describeLifecycleHooks(i.AutoScalingGroupName),
      ),
    );
  asg.on(DescribeScalingActivitiesCommand).callsFake(
    run('autoscaling', 'DescribeScalingActivities', (i: { AutoScalingGroupName?: string }) => ({
      Activities: account.activities(i.AutoScalingGroupName),
    })),
  );

  elb
    .on(DescribeListenersCommand)
    .callsFake(
      run('elb', 'DescribeListeners', (i: { ListenerArns?: string[] }) =>
        account.describeListener(i.ListenerArns?.[0]),
      ),
    );
  elb
    .on(ModifyListenerCommand)
    .callsFake(
      run('elb', 'ModifyListener', (i) => (account.modifyListener(i.ListenerArn, i.DefaultActions), {})),
    );
  elb.on(DescribeRulesCommand).callsFake(
    run('elb', 'DescribeRules', () => {
      throw awsError('RuleNotFoundException', 'One or more rules not found');
    }),
  );
  elb.on(ModifyRuleCommand).callsFake(
    run('elb', 'ModifyRule', () => {
      throw awsError('RuleNotFoundException', 'One or more rules not found');
    }),
  );
  elb
    .on(DescribeTargetHealthCommand)
    .callsFake(
      run('elb', 'DescribeTargetHealth', (i: { TargetGroupArn?: string }) =>
        account.targetHealth(i.TargetGroupArn),
      ),
    );
  elb
    .on(DescribeLoadBalancersCommand)
    .callsFake(
      run('elb', 'DescribeLoadBalancers', (i: { LoadBalancerArns?: string[] }) =>
        account.describeLoadBalancers(i.LoadBalancerArns),
      ),
    );
  elb
    .on(DescribeTargetGroupsCommand)
    .callsFake(run('elb', 'DescribeTargetGroups', (i) => account.describeTargetGroups(i)));

  cloudwatch
    .on(GetMetricDataCommand)
    .callsFake(run('cloudwatch', 'GetMetricData', (i) => account.cloudwatch.getMetricData(i)));
  cloudwatch
    .on(DescribeAlarmsCommand)
    .callsFake(run('cloudwatch', 'DescribeAlarms', (i) => account.cloudwatch.describeAlarms(i)));

  // aws-sdk-client-mock stubs every instance of a client class, so ports built later reach the fake too.
  const portsWith = (options: RetryOptions): AwsPorts => ({
    elb: new ElbPort(new ElasticLoadBalancingV2Client({ region: fx.region }), options),
    autoscaling: new AutoScalingPort(new AutoScalingClient({ region: fx.region }), options),
    ec2: new Ec2Port(new EC2Client({ region: fx.region }), options),
    cloudwatch: new CloudWatchPort(new CloudWatchClient({ region: fx.region }), options),
  });
  return {
    ports: portsWith(retry),
    /** Ports with their own retry options (a runner's retry listener and abort signal). */
    portsWith,
    restore() {
      elb.restore();
      asg.restore();
      ec2.restore();
      cloudwatch.restore();
    },
  };
}

/**
 * A mocked client whose commands go to their handler by the command's class, in one lookup. The same
 * `.on(Command).callsFake(handler)` as aws-sdk-client-mock's own, whose `.on` registers a sinon
 * `withArgs` matcher a command: sinon then deep-compares every call against every matcher, which took
 * most of the CPU time of a fake deploy (crash.test.ts: ~40% in sinon's deepEqual).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any client's stub
function routed(stub: AwsStub<any, any, any>) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler takes its own command's input
  const handlers = new Map<unknown, (input: any) => Promise<unknown>>();
  stub.send.callsFake((command) => {
    const handler = handlers.get(command.constructor);
    if (!handler) return Promise.resolve(undefined); // as a mocked client answers a command nobody set up
    try {
      return handler(command.input);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  });
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler takes its own command's input
    on: (command: abstract new (...args: any[]) => unknown) => ({
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as aws-sdk-client-mock's callsFake
      callsFake: (handler: (input: any) => Promise<unknown>) => void handlers.set(command, handler),
    }),
    restore: () => stub.restore(),
  };
}

/** The account of the README's example: an ALB listener forwarding to target group A, where the base group runs. */
export function exampleAccount(options: FakeOptions & { baseInstances?: number }): FakeAwsAccount {
  const account = new FakeAwsAccount(options);
  const lbArn = `arn:aws:elasticloadbalancing:${fx.region}:${fx.account}:loadbalancer/${fx.lb}`;
  for (const ami of [fx.goodAmi, fx.goodAmi2]) account.images.set(ami, { healthy: true, launches: true });
  account.images.set(fx.badAmi, { healthy: false, launches: true });
  account.images.set(fx.launchFailAmi, { healthy: true, launches: false });
  account.images.set(fx.decayAmi, {
    healthy: true,
    launches: true,
    failsAfterMs: 60_000 + 150_000 + 120_000,
  });
  account.images.set(fx.shallowAmi, { healthy: true, launches: true, deepHealthy: false });
  account.images.set(fx.flakyAmi, { healthy: true, launches: true, errorRatio: 0.2 });
  account.templates.set(fx.launchTemplateId, {
    id: fx.launchTemplateId,
    name: 'catalog',
    versions: [{ number: 1, imageId: fx.goodAmi }],
    defaultVersion: 1,
  });
  account.addTargetGroup(fx.tgA, lbArn);
  account.addTargetGroup(fx.tgB, lbArn);
  account.loadBalancers.set(lbArn, 'catalog-prod-1234567890.eu-west-1.elb.amazonaws.com');
  account.addListener(fx.listenerArn, lbArn, [{ Type: 'forward', Order: 1, TargetGroupArn: fx.tgA }]);
  // The test listener forwards to the live group too until a deploy points it at green.
  account.addListener(
    fx.testListenerArn,
    lbArn,
    [{ Type: 'forward', Order: 1, TargetGroupArn: fx.tgA }],
    8443,
    'HTTP',
  );
  account.seedGroup(fx.baseGroup, fx.launchTemplateId, fx.tgA, options.baseInstances ?? 2);
  return account;
}

/**
 * What the SDK throws when the connection drops after the request was sent: the service may have
 * applied it. Shaped as Node's socket error, which the SDK classifies as transient.
 */
export function lostResponseError(): Error {
  return Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET', $metadata: {} });
}

/** Retries with no waiting: throttling scenarios exercise the retry path without real sleeps. */
export const instantRetry: RetryOptions = { retries: 10, minTimeout: 0, maxTimeout: 0 };
