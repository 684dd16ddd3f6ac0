import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import type {
  AutoScalingGroup,
  Activity,
  Instance,
  LifecycleHook,
  LifecycleHookSpecification,
  MixedInstancesPolicy,
  PutScalingPolicyCommandInput,
  ScalingPolicy,
  TagDescription,
} from '@aws-sdk/client-auto-scaling';
import { FakeCloudWatch } from './cloudwatch.js';

/** See BEHAVIOUR.md beside this file for what this models and why. */

export function awsError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });
}

interface FakeTargetGroup {
  arn: string;
  loadBalancerArn: string;
  intervalMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  deregistrationDelayMs: number;
  /** Instances that left the group, draining until `until`. */
  draining: Map<string, number>;
}

export interface FakeInstance {
  id: string;
  ami: string;
  launchedAt: number;
  protectedFromScaleIn: boolean;
}

interface FakeGroup {
  name: string;
  createdAt: number;
  templateId: string;
  templateVersion: string;
  min: number;
  max: number;
  desired: number;
  subnets: string;
  healthCheckType: string;
  grace: number;
  targetGroups: string[];
  tags: Map<string, string>;
  /** Keys of the tags that propagate to instances at launch. */
  propagated: Set<string>;
  /** Set when the group launches from a mixed instances policy instead of `LaunchTemplate`. */
  mixed?: MixedInstancesPolicy;
  hooks: LifecycleHook[];
  policies: ScalingPolicy[];
  instances: FakeInstance[];
  activities: Activity[];
  /** Set by a force delete: the instances terminating, each until when; the group goes with the last. */
  deleting?: { terminating: { id: string; until: number }[]; goneAt: number };
}

interface FakeTemplate {
  id: string;
  name: string;
  versions: { number: number; imageId: string; description?: string; createdAt?: number }[];
  defaultVersion: number;
}

export interface FakeOptions {
  now: () => number;
  launchDelayMs?: number;
  describeLagMs?: number;
  pageSize?: number;
  throttleRate?: number;
  seed?: number;
  terminateDelayMs?: number;
}

export class FakeAwsAccount {
  readonly now: () => number;
  launchDelayMs: number;
  describeLagMs: number;
  pageSize: number;
  throttleRate: number;
  /** How long an instance takes to shut down once its targets have drained. */
  terminateDelayMs: number;
  private seed: number;
  readonly calls = new Map<string, number>();
  /** Every call that got through, in order. */
  readonly log: string[] = [];
  /**
   * `healthy`: passes the target group's health check; `deepHealthy`: passes the app's own HTTP check;
   * `errorRatio`: the share of requests it answers with a 5xx in the traffic model (default 0 while it
   * passes the target group's check, 1 once it fails it). Change a ratio with `cloudwatch.setErrorRatio`.
   */
  readonly images = new Map<
    string,
    { healthy: boolean; launches: boolean; deepHealthy?: boolean; failsAfterMs?: number; errorRatio?: number }
  >();
  readonly templates = new Map<string, FakeTemplate>();
  readonly targetGroups = new Map<string, FakeTargetGroup>();
  readonly listeners = new Map<
    string,
    { loadBalancerArn: string; actions: Action[]; port: number; protocol: string }
  >();
  /** Load balancer ARN → DNS name; tests point it at 127.0.0.1 to send real HTTP through a "listener". */
  readonly loadBalancers = new Map<string, string>();
  readonly groups = new Map<string, FakeGroup>();
  /** EC2 ClientToken → the request it came with and what was answered. */
  private readonly clientTokens = new Map<
    string,
    {
      request: string;
      response: { LaunchTemplateVersion: { LaunchTemplateId: string; VersionNumber: number } };
    }
  >();
  private nextInstance = 1;
  /** CloudWatch: the ALB's metrics from a traffic model, and alarms (cloudwatch.ts). */
  readonly cloudwatch: FakeCloudWatch;
  /** Operations this caller is not allowed to call: they fail with `AccessDenied`, as IAM answers. */
  readonly denied = new Set<string>();

  constructor(options: FakeOptions) {
    this.now = options.now;
    this.launchDelayMs = options.launchDelayMs ?? 60_000;
    this.describeLagMs = options.describeLagMs ?? 5_000;
    this.pageSize = options.pageSize ?? 2;
    this.throttleRate = options.throttleRate ?? 0;
    this.terminateDelayMs = options.terminateDelayMs ?? 30_000;
    this.seed = options.seed ?? 42;
    this.cloudwatch = new FakeCloudWatch(this);
  }

  /**
   * Operation → how many of its next calls lose their response: the call takes effect, the client sees
   * a dropped connection (see `lostResponseError` in install.ts).
   */
  readonly lostResponses = new Map<string, number>();

  /** Whether this call's response is lost; counts one off. */
  loseResponse(operation: string): boolean {
    const left = this.lostResponses.get(operation) ?? 0;
    if (left <= 0) return false;
    this.lostResponses.set(operation, left - 1);
    this.calls.set('(response lost)', (this.calls.get('(response lost)') ?? 0) + 1);
    return true;
  }

  /** After this many calls the caller is "dead": every later call fails, as if its process was killed. */
  dieAfterCalls: number | undefined;

  /**
   * Counts the call and, at the configured rate, throttles it as that service does. First of all, the
   * traffic up to now is counted, with the state that held until this call.
   */
  enter(service: 'elb' | 'autoscaling' | 'ec2' | 'cloudwatch', operation: string): void {
    this.cloudwatch.advance();
    if (this.dieAfterCalls !== undefined && this.log.length >= this.dieAfterCalls) {
      throw Object.assign(new Error('the controller process died here'), { name: 'ProcessDied' });
    }
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
    if (this.denied.has(operation)) {
      const action = `${service === 'elb' ? 'elasticloadbalancing' : service}:${operation}`;
      // IAM's message names the caller's role and session: callers must not repeat it.
      throw awsError(
        'AccessDenied',
        `User: arn:aws:sts::123456789012:assumed-role/ci-deployer/session-7f3a is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`,
        403,
      );
    }
    if (this.throttleRate > 0 && this.random() < this.throttleRate) {
      this.calls.set('(throttled)', (this.calls.get('(throttled)') ?? 0) + 1);
      const name = {
        elb: 'ThrottlingException',
        autoscaling: 'Throttling',
        ec2: 'RequestLimitExceeded',
        cloudwatch: 'Throttling',
      }[service];
      throw awsError(name, 'Rate exceeded');
    }
    this.log.push(operation);
  }

  // ---------- EC2 ----------

  describeImage(ami: string) {
    if (!this.images.has(ami))
      throw awsError('InvalidAMIID.NotFound', `The image id '[${ami}]' does not exist`);
    return { ImageId: ami, State: 'available' };
  }

  createTemplateVersion(input: {
    LaunchTemplateId?: string;
    LaunchTemplateName?: string;
    SourceVersion?: string;
    ClientToken?: string;
    LaunchTemplateData?: { ImageId?: string };
    VersionDescription?: string;
  }): { LaunchTemplateVersion: { LaunchTemplateId: string; VersionNumber: number } } {
    // EC2 idempotency: the same token with the same request answers what the first call did.
    if (input.ClientToken) {
      const { ClientToken: token, ...request } = input;
      const seen = this.clientTokens.get(token);
      const key = JSON.stringify(request);
      if (seen && seen.request !== key)
        throw awsError(
          'IdempotentParameterMismatch',
          `Client token ${token} was already used with different request parameters`,
        );
      if (seen) return structuredClone(seen.response);
      const response = this.createTemplateVersion(request);
      this.clientTokens.set(token, { request: key, response });
      return structuredClone(response);
    }
    const template = [...this.templates.values()].find(
      (t) => t.id === input.LaunchTemplateId || t.name === input.LaunchTemplateName,
    );
    if (!template) throw awsError('InvalidLaunchTemplateId.NotFound', 'launch template not found');
    const latest = template.versions.at(-1)?.number ?? 0;
    const source =
      input.SourceVersion === '$Latest'
        ? latest
        : input.SourceVersion === '$Default' || !input.SourceVersion
          ? template.defaultVersion
          : Number(input.SourceVersion);
    const from = template.versions.find((v) => v.number === source);
    if (!from)
      throw awsError('InvalidLaunchTemplateVersion.NotFound', `version ${input.SourceVersion} not found`);
    const version = {
      number: latest + 1,
      imageId: input.LaunchTemplateData?.ImageId ?? from.imageId,
      createdAt: this.now(),
      ...(input.VersionDescription !== undefined ? { description: input.VersionDescription } : {}),
    };
    template.versions.push(version);
    return { LaunchTemplateVersion: { LaunchTemplateId: template.id, VersionNumber: version.number } };
  }

  /**
   * DescribeLaunchTemplateVersions of one template, all its versions, newest first as EC2 lists them;
   * pages of `MaxResults` (EC2 allows 1 to 200) with a NextToken.
   */
  describeTemplateVersions(input: {
    LaunchTemplateId?: string;
    LaunchTemplateName?: string;
    MaxResults?: number;
    NextToken?: string;
  }): {
    LaunchTemplateVersions: {
      VersionNumber: number;
      VersionDescription?: string;
      CreateTime: Date;
      LaunchTemplateData: { ImageId: string };
    }[];
    NextToken?: string;
  } {
    const template = [...this.templates.values()].find(
      (t) => t.id === input.LaunchTemplateId || t.name === input.LaunchTemplateName,
    );
    if (!template) throw awsError('InvalidLaunchTemplateId.NotFound', 'launch template not found');
    const all = [...template.versions].reverse();
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const size = Math.min(input.MaxResults ?? 200, 200);
    const page = all.slice(start, start + size);
    return {
      LaunchTemplateVersions: page.map((v) => ({
        VersionNumber: v.number,
        ...(v.description !== undefined ? { VersionDescription: v.description } : {}),
        CreateTime: new Date(v.createdAt ?? 0),
        LaunchTemplateData: { ImageId: v.imageId },
      })),
      ...(start + size < all.length ? { NextToken: String(start + size) } : {}),
    };
  }

  // ---------- Auto Scaling ----------

  createGroup(input: {
    AutoScalingGroupName?: string;
    LaunchTemplate?: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string };
    MixedInstancesPolicy?: MixedInstancesPolicy;
    MinSize?: number;
    MaxSize?: number;
    DesiredCapacity?: number;
    VPCZoneIdentifier?: string;
    HealthCheckType?: string;
    HealthCheckGracePeriod?: number;
    TargetGroupARNs?: string[];
    LifecycleHookSpecificationList?: LifecycleHookSpecification[];
    Tags?: { Key?: string; Value?: string; PropagateAtLaunch?: boolean }[];
  }): void {
    const name = input.AutoScalingGroupName ?? '';
    this.cloudwatch.advance();
    this.sweep();
    if (this.groups.has(name))
      throw awsError(
        'AlreadyExistsFault',
        `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`,
      );
    if (input.LaunchTemplate && input.MixedInstancesPolicy)
      throw awsError(
        'ValidationError',
        'Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.',
      );
    const spec =
      input.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification ?? input.LaunchTemplate;
    const template = [...this.templates.values()].find(
      (t) => t.id === spec?.LaunchTemplateId || t.name === spec?.LaunchTemplateName,
    );
    if (!template) throw awsError('ValidationError', 'The specified launch template does not exist');
    const hooks = (input.LifecycleHookSpecificationList ?? []).map((h) => this.validHook(name, h));
    for (const tg of input.TargetGroupARNs ?? []) {
      if (!this.targetGroups.has(tg))
        throw awsError('ValidationError', `Provided Target Groups may not be valid: ${tg}`);
    }
    const group: FakeGroup = {
      name,
      createdAt: this.now(),
      templateId: template.id,
      templateVersion: spec?.Version ?? '$Default',
      min: input.MinSize ?? 0,
      max: input.MaxSize ?? 0,
      desired: input.DesiredCapacity ?? input.MinSize ?? 0,
      subnets: input.VPCZoneIdentifier ?? '',
      healthCheckType: input.HealthCheckType ?? 'EC2',
      grace: input.HealthCheckGracePeriod ?? 0,
      targetGroups: input.TargetGroupARNs ?? [],
      tags: new Map((input.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
      propagated: new Set((input.Tags ?? []).filter((t) => t.PropagateAtLaunch).map((t) => t.Key ?? '')),
      ...(input.MixedInstancesPolicy ? { mixed: structuredClone(input.MixedInstancesPolicy) } : {}),
      hooks,
      policies: [],
      instances: [],
      activities: [],
    };
    this.groups.set(name, group);
    this.reconcile(group);
  }

  /** A group as it was launched long ago: instances InService, targets healthy. */
  seedGroup(name: string, templateId: string, targetGroup: string, instances: number): void {
    this.cloudwatch.advance();
    const at = this.now() - 3_600_000;
    const template = this.templates.get(templateId);
    const ami = template?.versions.find((v) => v.number === template.defaultVersion)?.imageId ?? '';
    this.groups.set(name, {
      name,
      createdAt: at,
      templateId,
      templateVersion: String(template?.defaultVersion ?? 1),
      min: instances,
      max: instances * 2,
      desired: instances,
      subnets: 'subnet-0aaa,subnet-0bbb',
      healthCheckType: 'ELB',
      grace: 300,
      targetGroups: [targetGroup],
      tags: new Map(),
      propagated: new Set(),
      hooks: [],
      policies: [],
      activities: [],
      instances: Array.from({ length: instances }, () => ({
        id: this.instanceId(),
        ami,
        launchedAt: at,
        protectedFromScaleIn: false,
      })),
    });
  }

  describeGroups(input: {
    AutoScalingGroupNames?: string[];
    Filters?: { Name?: string; Values?: string[] }[];
    NextToken?: string;
    MaxRecords?: number;
  }) {
    this.sweep();
    const visible = [...this.groups.values()].filter((g) => this.now() - g.createdAt >= this.describeLagMs);
    const matching = visible.filter((g) => {
      if (input.AutoScalingGroupNames && !input.AutoScalingGroupNames.includes(g.name)) return false;
      for (const filter of input.Filters ?? []) {
        const key = filter.Name?.replace(/^tag:/, '') ?? '';
        if (!filter.Values?.includes(g.tags.get(key) ?? '\u0000')) return false;
      }
      return true;
    });
    const start = Number(input.NextToken ?? 0);
    const size = Math.min(this.pageSize, input.MaxRecords ?? 100);
    const page = matching.slice(start, start + size);
    return {
      AutoScalingGroups: page.map((g) => this.groupView(g)),
      NextToken: start + size < matching.length ? String(start + size) : undefined,
    };
  }

  updateGroup(input: {
    AutoScalingGroupName?: string;
    MinSize?: number;
    MaxSize?: number;
    DesiredCapacity?: number;
  }): void {
    this.cloudwatch.advance();
    const group = this.requireChangeable(input.AutoScalingGroupName);
    group.min = input.MinSize ?? group.min;
    group.max = input.MaxSize ?? group.max;
    group.desired = input.DesiredCapacity ?? group.desired;
    this.reconcile(group);
  }

  deleteGroup(input: { AutoScalingGroupName?: string; ForceDelete?: boolean }): void {
    this.cloudwatch.advance();
    this.sweep();
    const group = this.groups.get(input.AutoScalingGroupName ?? '');
    // Asked again while it empties: the delete is already under way.
    if (group?.deleting) return;
    if (!group) this.requireGroup(input.AutoScalingGroupName);
    if (!group) return;
    if (group.instances.length > 0 && !input.ForceDelete) {
      throw awsError(
        'ResourceInUse',
        'You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.',
      );
    }
    if (group.instances.length === 0) {
      this.groups.delete(group.name);
      return;
    }
    // Asynchronous: each instance leaves its target groups (draining for the deregistration delay),
    // then shuts down; the group stays listed, its name taken, until the last one is gone.
    const terminating = group.instances.map((instance) => {
      const drained = this.terminate(group, instance);
      return { id: instance.id, until: Math.max(drained, this.now()) + this.terminateDelayMs };
    });
    group.desired = 0;
    group.min = 0;
    group.deleting = { terminating, goneAt: Math.max(...terminating.map((t) => t.until)) };
  }

  /** Absent, or being deleted: what a test means by "the group was deleted". */
  deletedOrDeleting(name: string): boolean {
    this.sweep();
    const group = this.groups.get(name);
    return !group || group.deleting !== undefined;
  }

  protect(input: {
    AutoScalingGroupName?: string;
    InstanceIds?: string[];
    ProtectedFromScaleIn?: boolean;
  }): void {
    const group = this.requireChangeable(input.AutoScalingGroupName);
    for (const id of input.InstanceIds ?? []) {
      const instance = group.instances.find((i) => i.id === id);
      if (!instance)
        throw awsError(
          'ValidationError',
          `The instance ${id} is not part of Auto Scaling group ${group.name}.`,
        );
      instance.protectedFromScaleIn = input.ProtectedFromScaleIn ?? false;
    }
  }

  tag(input: {
    Tags?: { ResourceId?: string; Key?: string; Value?: string; PropagateAtLaunch?: boolean }[];
  }): void {
    for (const tag of input.Tags ?? []) {
      // Auto Scaling's documented limits: keys up to 128 characters, values up to 256, 50 tags a group.
      if ((tag.Key ?? '').length > 128 || (tag.Value ?? '').length > 256)
        throw awsError('ValidationError', `Tag key or value too long: ${tag.Key}`);
      const group = this.requireChangeable(tag.ResourceId);
      if (!group.tags.has(tag.Key ?? '') && group.tags.size >= 50)
        throw awsError('ValidationError', `Group ${group.name} would have more than 50 tags`);
      group.tags.set(tag.Key ?? '', tag.Value ?? '');
      if (tag.PropagateAtLaunch) group.propagated.add(tag.Key ?? '');
      else group.propagated.delete(tag.Key ?? '');
    }
  }

  /** Creates or replaces the policy of that name; ALB request count must name an attached target group. */
  putScalingPolicy(input: PutScalingPolicyCommandInput): { PolicyARN: string } {
    const group = this.requireChangeable(input.AutoScalingGroupName);
    const type = input.PolicyType ?? 'SimpleScaling';
    if (!['SimpleScaling', 'StepScaling', 'TargetTrackingScaling', 'PredictiveScaling'].includes(type))
      throw awsError('ValidationError', `Invalid policy type ${type}`);
    const label =
      input.TargetTrackingConfiguration?.PredefinedMetricSpecification?.PredefinedMetricType ===
      'ALBRequestCountPerTarget'
        ? input.TargetTrackingConfiguration.PredefinedMetricSpecification.ResourceLabel
        : undefined;
    if (label !== undefined) {
      const attached = group.targetGroups.some((arn) => label.endsWith(`/${arn.split(':').at(-1)}`));
      if (!attached)
        throw awsError(
          'ValidationError',
          `The target group in ResourceLabel ${label} is not attached to Auto Scaling group ${group.name}`,
        );
    }
    const arn = `arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:0000:autoScalingGroupName/${group.name}:policyName/${input.PolicyName}`;
    const { AutoScalingGroupName, PolicyName, ...rest } = structuredClone(input);
    const policy: ScalingPolicy = {
      ...rest,
      AutoScalingGroupName,
      PolicyName,
      PolicyType: type,
      PolicyARN: arn,
    };
    group.policies = [...group.policies.filter((p) => p.PolicyName !== PolicyName), policy];
    return { PolicyARN: arn };
  }

  describePolicies(input: { AutoScalingGroupName?: string; NextToken?: string; MaxRecords?: number }) {
    const all = this.requireGroup(input.AutoScalingGroupName).policies;
    const start = Number(input.NextToken ?? 0);
    const size = Math.min(this.pageSize, input.MaxRecords ?? 50);
    return {
      ScalingPolicies: structuredClone(all.slice(start, start + size)),
      NextToken: start + size < all.length ? String(start + size) : undefined,
    };
  }

  describeLifecycleHooks(name: string | undefined) {
    return { LifecycleHooks: structuredClone(this.requireGroup(name).hooks) };
  }

  activities(name: string | undefined): Activity[] {
    return [...this.requireGroup(name).activities].reverse();
  }

  // ---------- ELBv2 ----------

  addTargetGroup(
    arn: string,
    loadBalancerArn: string,
    health: Partial<
      Pick<
        FakeTargetGroup,
        'intervalMs' | 'healthyThreshold' | 'unhealthyThreshold' | 'deregistrationDelayMs'
      >
    > = {},
  ): void {
    this.targetGroups.set(arn, {
      arn,
      loadBalancerArn,
      intervalMs: health.intervalMs ?? 30_000,
      healthyThreshold: health.healthyThreshold ?? 5,
      unhealthyThreshold: health.unhealthyThreshold ?? 2,
      deregistrationDelayMs: health.deregistrationDelayMs ?? 300_000,
      draining: new Map(),
    });
  }

  describeTargetGroups(input: { TargetGroupArns?: string[]; Marker?: string; PageSize?: number }) {
    for (const arn of input.TargetGroupArns ?? []) {
      if (!this.targetGroups.has(arn))
        throw awsError('TargetGroupNotFoundException', `Target groups '${arn}' not found`);
    }
    const all = (input.TargetGroupArns ?? [...this.targetGroups.keys()]).map(
      (arn) => this.targetGroups.get(arn) as FakeTargetGroup,
    );
    const start = Number(input.Marker ?? 0);
    const size = Math.min(this.pageSize, input.PageSize ?? 400);
    return {
      TargetGroups: all
        .slice(start, start + size)
        .map((tg) => ({ TargetGroupArn: tg.arn, LoadBalancerArns: [tg.loadBalancerArn] })),
      NextMarker: start + size < all.length ? String(start + size) : undefined,
    };
  }

  targetHealth(arn: string | undefined) {
    const tg = this.targetGroups.get(arn ?? '');
    if (!tg) throw awsError('TargetGroupNotFoundException', `One or more target groups not found`);
    const now = this.now();
    const rows: { Target: { Id: string; Port: number }; TargetHealth: { State: string; Reason?: string } }[] =
      [];
    for (const group of this.groups.values()) {
      if (!group.targetGroups.includes(tg.arn)) continue;
      for (const instance of group.instances) {
        const state = this.targetState(tg.arn, instance, now);
        if (state === 'unregistered') continue;
        const reason =
          state === 'initial'
            ? 'Elb.RegistrationInProgress'
            : state === 'unhealthy'
              ? 'Target.ResponseCodeMismatch'
              : undefined;
        rows.push({
          Target: { Id: instance.id, Port: 80 },
          TargetHealth: { State: state, ...(reason ? { Reason: reason } : {}) },
        });
      }
    }
    for (const [id, until] of tg.draining) {
      if (now < until)
        rows.push({
          Target: { Id: id, Port: 80 },
          TargetHealth: { State: 'draining', Reason: 'Target.DeregistrationInProgress' },
        });
      else tg.draining.delete(id);
    }
    return { TargetHealthDescriptions: rows };
  }

  /**
   * An instance's target in a target group at time `at` (the instance still in its group): registered
   * once InService, `initial` until it has passed (or failed) enough checks in a row.
   */
  targetState(
    targetGroupArn: string,
    instance: FakeInstance,
    at: number,
  ): 'unregistered' | 'initial' | 'healthy' | 'unhealthy' {
    const tg = this.targetGroups.get(targetGroupArn);
    const registered = instance.launchedAt + this.launchDelayMs;
    if (!tg || at < registered) return 'unregistered';
    const elapsed = at - registered;
    if (this.instanceWorks(instance, at))
      return elapsed >= tg.intervalMs * tg.healthyThreshold ? 'healthy' : 'initial';
    return elapsed >= tg.intervalMs * tg.unhealthyThreshold ? 'unhealthy' : 'initial';
  }

  /** Whether the instance passes the target group's health check at `at` (its AMI, and its decay). */
  instanceWorks(instance: FakeInstance, at: number): boolean {
    const image = this.images.get(instance.ami);
    const decayed = image?.failsAfterMs !== undefined && at - instance.launchedAt >= image.failsAfterMs;
    return (image?.healthy ?? true) && !decayed;
  }

  addListener(arn: string, loadBalancerArn: string, actions: Action[], port = 443, protocol = 'HTTPS'): void {
    this.listeners.set(arn, { loadBalancerArn, actions, port, protocol });
  }

  describeListener(arn: string | undefined) {
    const listener = this.listeners.get(arn ?? '');
    if (!listener) throw awsError('ListenerNotFoundException', 'One or more listeners not found');
    return {
      Listeners: [
        {
          ListenerArn: arn,
          LoadBalancerArn: listener.loadBalancerArn,
          Port: listener.port,
          Protocol: listener.protocol,
          DefaultActions: structuredClone(listener.actions),
        },
      ],
    };
  }

  describeLoadBalancers(arns: string[] | undefined) {
    return {
      LoadBalancers: (arns ?? []).map((arn) => {
        const dns = this.loadBalancers.get(arn);
        if (!dns) throw awsError('LoadBalancerNotFoundException', 'One or more load balancers not found');
        return { LoadBalancerArn: arn, DNSName: dns };
      }),
    };
  }

  /** Whether a request through this listener now would reach healthy instances (for a local stand-in server). */
  servesHealthy(arn: string): boolean {
    const tg = Object.entries(this.weights(arn)).find(([, w]) => w > 0)?.[0];
    const group = [...this.groups.values()].find(
      (g) => tg && g.targetGroups.includes(tg) && g.instances.length > 0,
    );
    return group
      ? group.instances.every((i) => {
          const image = this.images.get(i.ami);
          return image ? (image.deepHealthy ?? image.healthy) : true;
        })
      : false;
  }

  modifyListener(arn: string | undefined, actions: Action[] | undefined): void {
    const listener = this.listeners.get(arn ?? '');
    if (!listener) throw awsError('ListenerNotFoundException', 'One or more listeners not found');
    this.validateActions(listener.loadBalancerArn, actions ?? []);
    // Traffic up to now went by the weights that held until now.
    this.cloudwatch.advance();
    listener.actions = structuredClone(actions ?? []);
  }

  /** The listener's weight per target group, for tests to read what traffic does. */
  weights(arn: string): Record<string, number> {
    const forward = this.listeners.get(arn)?.actions.find((a) => a.Type === 'forward');
    if (forward?.ForwardConfig?.TargetGroups?.length) {
      return Object.fromEntries(
        forward.ForwardConfig.TargetGroups.map((t) => [t.TargetGroupArn ?? '', t.Weight ?? 0]),
      );
    }
    return forward?.TargetGroupArn ? { [forward.TargetGroupArn]: 1 } : {};
  }

  // ---------- internals ----------

  private validateActions(loadBalancerArn: string, actions: Action[]): void {
    for (const action of actions.filter((a) => a.Type === 'forward')) {
      const tuples = action.ForwardConfig?.TargetGroups ?? [];
      if (tuples.length > 5)
        throw awsError(
          'TooManyTargetGroups',
          'You have reached the limit on the number of target groups per forward action: 5',
        );
      for (const tuple of tuples) {
        if (tuples.length > 1 && tuple.Weight === undefined)
          throw awsError(
            'ValidationError',
            'A weight must be specified for every target group when there are several',
          );
        if ((tuple.Weight ?? 0) < 0 || (tuple.Weight ?? 0) > 999)
          throw awsError('ValidationError', 'Target group weight must be between 0 and 999');
        const tg = this.targetGroups.get(tuple.TargetGroupArn ?? '');
        if (!tg)
          throw awsError('TargetGroupNotFoundException', `Target group '${tuple.TargetGroupArn}' not found`);
        if (tg.loadBalancerArn !== loadBalancerArn)
          throw awsError('ValidationError', `Target group '${tg.arn}' belongs to another load balancer`);
      }
    }
  }

  private reconcile(group: FakeGroup): void {
    const template = this.templates.get(group.templateId);
    const version =
      template?.versions.find((v) => String(v.number) === group.templateVersion) ?? template?.versions.at(-1);
    const ami = version?.imageId ?? '';
    while (group.instances.length < group.desired) {
      if (this.images.get(ami)?.launches === false) {
        group.activities.push({
          ActivityId: `act-${group.activities.length + 1}`,
          AutoScalingGroupName: group.name,
          Cause: 'scaling to desired capacity',
          StartTime: new Date(this.now()),
          StatusCode: 'Failed',
          StatusMessage: `Instance failed to launch: AMI ${ami} could not be launched (Client.InternalError)`,
          Description: `Launching a new EC2 instance. Status Reason: Client.InternalError`,
          Progress: 100,
        });
        return;
      }
      group.instances.push({
        id: this.instanceId(),
        ami,
        launchedAt: this.now(),
        protectedFromScaleIn: false,
      });
    }
    while (group.instances.length > group.desired) {
      const victim = group.instances.find((i) => !i.protectedFromScaleIn);
      if (!victim) return;
      this.terminate(group, victim);
    }
  }

  /** Takes the instance out of the group and its target groups; returns when its targets have drained. */
  private terminate(group: FakeGroup, instance: FakeInstance): number {
    group.instances = group.instances.filter((i) => i !== instance);
    let drained = this.now();
    if (this.now() >= instance.launchedAt + this.launchDelayMs) {
      for (const arn of group.targetGroups) {
        const tg = this.targetGroups.get(arn);
        if (!tg) continue;
        tg.draining.set(instance.id, this.now() + tg.deregistrationDelayMs);
        drained = Math.max(drained, this.now() + tg.deregistrationDelayMs);
      }
    }
    return drained;
  }

  /** Forgets the groups whose delete has finished: state follows virtual time, read on every call. */
  private sweep(): void {
    for (const group of [...this.groups.values()]) {
      if (group.deleting && this.now() >= group.deleting.goneAt) this.groups.delete(group.name);
    }
  }

  private groupView(group: FakeGroup): AutoScalingGroup {
    const now = this.now();
    return {
      AutoScalingGroupName: group.name,
      AutoScalingGroupARN: `arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:0000:autoScalingGroupName/${group.name}`,
      ...(group.mixed
        ? { MixedInstancesPolicy: structuredClone(group.mixed) }
        : { LaunchTemplate: { LaunchTemplateId: group.templateId, Version: group.templateVersion } }),
      MinSize: group.min,
      MaxSize: group.max,
      DesiredCapacity: group.desired,
      DefaultCooldown: 300,
      AvailabilityZones: ['eu-west-1a', 'eu-west-1b'],
      VPCZoneIdentifier: group.subnets,
      HealthCheckType: group.healthCheckType,
      HealthCheckGracePeriod: group.grace,
      CreatedTime: new Date(group.createdAt),
      TargetGroupARNs: [...group.targetGroups],
      ...(group.deleting ? { Status: 'Delete in progress' } : {}),
      Tags: [...group.tags].map(([Key, Value]): TagDescription => ({
        Key,
        Value,
        ResourceId: group.name,
        ResourceType: 'auto-scaling-group',
        PropagateAtLaunch: group.propagated.has(Key),
      })),
      Instances: [
        ...group.instances.map((i): Instance => ({
          InstanceId: i.id,
          LifecycleState: now - i.launchedAt >= this.launchDelayMs ? 'InService' : 'Pending',
          HealthStatus: 'Healthy',
          ProtectedFromScaleIn: i.protectedFromScaleIn,
          AvailabilityZone: 'eu-west-1a',
        })),
        ...(group.deleting?.terminating ?? [])
          .filter((t) => now < t.until)
          .map((t): Instance => ({
            InstanceId: t.id,
            LifecycleState: 'Terminating',
            HealthStatus: 'Healthy',
            ProtectedFromScaleIn: false,
            AvailabilityZone: 'eu-west-1a',
          })),
      ],
    };
  }

  private requireGroup(name: string | undefined): FakeGroup {
    this.sweep();
    const group = this.groups.get(name ?? '');
    if (!group)
      throw awsError(
        'ValidationError',
        `AutoScalingGroup name not found - AutoScalingGroup ${name} not found`,
      );
    return group;
  }

  /** The limits the Auto Scaling API reference gives for a lifecycle hook. */
  private validHook(group: string, spec: LifecycleHookSpecification): LifecycleHook {
    if (
      !['autoscaling:EC2_INSTANCE_LAUNCHING', 'autoscaling:EC2_INSTANCE_TERMINATING'].includes(
        spec.LifecycleTransition ?? '',
      )
    )
      throw awsError('ValidationError', `Invalid lifecycle transition ${spec.LifecycleTransition}`);
    const heartbeat = spec.HeartbeatTimeout ?? 3600;
    if (heartbeat < 30 || heartbeat > 7200)
      throw awsError('ValidationError', 'HeartbeatTimeout must be between 30 and 7200 seconds');
    if (spec.DefaultResult && !['CONTINUE', 'ABANDON'].includes(spec.DefaultResult))
      throw awsError('ValidationError', `Invalid DefaultResult ${spec.DefaultResult}`);
    return {
      ...structuredClone(spec),
      AutoScalingGroupName: group,
      HeartbeatTimeout: heartbeat,
      DefaultResult: spec.DefaultResult ?? 'ABANDON',
      GlobalTimeout: Math.min(172_800, heartbeat * 100),
    };
  }

  /** A group being deleted can no longer be changed. */
  private requireChangeable(name: string | undefined): FakeGroup {
    const group = this.requireGroup(name);
    if (group.deleting)
      throw awsError('ValidationError', `AutoScalingGroup ${group.name} is pending delete.`);
    return group;
  }

  private instanceId(): string {
    return `i-${(this.nextInstance++).toString(16).padStart(17, '0')}`;
  }

  /** A small seeded generator (mulberry32), so throttled runs repeat exactly. */
  private random(): number {
    let t = (this.seed += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
