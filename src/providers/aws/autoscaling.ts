import {
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
  type Activity,
  type AutoScalingClient,
  type AutoScalingGroup,
  type CreateAutoScalingGroupCommandInput,
  type LifecycleHook,
  type PutScalingPolicyCommandInput,
  type ScalingPolicy,
} from '@aws-sdk/client-auto-scaling';
import { allPages } from './pages.js';
import { call, type RetryOptions } from './retry.js';

/** The Auto Scaling calls cutover makes. */
export class AutoScalingPort {
  constructor(
    private readonly client: AutoScalingClient,
    private readonly retry: RetryOptions,
  ) {}

  /** Every group carrying these tags, following NextToken through every page. */
  async groupsTagged(tags: Record<string, string>): Promise<AutoScalingGroup[]> {
    const filters = Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] }));
    return this.describe({ Filters: filters });
  }

  async group(name: string): Promise<AutoScalingGroup | undefined> {
    return (await this.describe({ AutoScalingGroupNames: [name] }))[0];
  }

  /** Fails with AlreadyExistsFault when the name is taken: cutover's claim on a generation. */
  async create(input: CreateAutoScalingGroupCommandInput): Promise<void> {
    await call(
      'CreateAutoScalingGroup',
      () => this.client.send(new CreateAutoScalingGroupCommand(input)),
      this.retry,
    );
  }

  /** Gone already counts as done: a retry after a lost response finds a group with no instances gone. */
  async delete(name: string): Promise<void> {
    try {
      await call(
        'DeleteAutoScalingGroup',
        () =>
          this.client.send(
            new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }),
          ),
        this.retry,
      );
    } catch (error) {
      const { name: kind, message } = error as { name?: string; message?: string };
      if (kind === 'ValidationError' && /not found/i.test(message ?? '')) return;
      throw error;
    }
  }

  async resize(name: string, capacity: { min: number; max: number; desired: number }): Promise<void> {
    await call(
      'UpdateAutoScalingGroup',
      () =>
        this.client.send(
          new UpdateAutoScalingGroupCommand({
            AutoScalingGroupName: name,
            MinSize: capacity.min,
            MaxSize: capacity.max,
            DesiredCapacity: capacity.desired,
          }),
        ),
      this.retry,
    );
  }

  /** Guards a standby's instances from scale-in, at most 50 instances a call as the API allows. */
  async protect(name: string, instanceIds: string[], protect: boolean): Promise<void> {
    for (let i = 0; i < instanceIds.length; i += 50) {
      const batch = instanceIds.slice(i, i + 50);
      await call(
        'SetInstanceProtection',
        () =>
          this.client.send(
            new SetInstanceProtectionCommand({
              AutoScalingGroupName: name,
              InstanceIds: batch,
              ProtectedFromScaleIn: protect,
            }),
          ),
        this.retry,
      );
    }
  }

  async tag(name: string, tags: Record<string, string>): Promise<void> {
    await call(
      'CreateOrUpdateTags',
      () =>
        this.client.send(
          new CreateOrUpdateTagsCommand({
            Tags: Object.entries(tags).map(([Key, Value]) => ({
              ResourceId: name,
              ResourceType: 'auto-scaling-group',
              Key,
              Value,
              PropagateAtLaunch: false,
            })),
          }),
        ),
      this.retry,
    );
  }

  /** The group's scaling policies, every page. */
  async policies(name: string): Promise<ScalingPolicy[]> {
    return allPages(async (token) => {
      const page = await call(
        'DescribePolicies',
        () =>
          this.client.send(
            new DescribePoliciesCommand({ AutoScalingGroupName: name, NextToken: token, MaxRecords: 100 }),
          ),
        this.retry,
      );
      return { items: page.ScalingPolicies, next: page.NextToken };
    });
  }

  /** Creates or replaces a policy by name: a retry after a lost response changes nothing. */
  async putPolicy(input: PutScalingPolicyCommandInput): Promise<void> {
    await call('PutScalingPolicy', () => this.client.send(new PutScalingPolicyCommand(input)), this.retry);
  }

  async lifecycleHooks(name: string): Promise<LifecycleHook[]> {
    const out = await call(
      'DescribeLifecycleHooks',
      () => this.client.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: name })),
      this.retry,
    );
    return out.LifecycleHooks ?? [];
  }

  /** The group's most recent scaling activities that failed, newest first. */
  async failedActivities(name: string): Promise<Activity[]> {
    const out = await call(
      'DescribeScalingActivities',
      () =>
        this.client.send(
          new DescribeScalingActivitiesCommand({ AutoScalingGroupName: name, MaxRecords: 20 }),
        ),
      this.retry,
    );
    return (out.Activities ?? []).filter((a) => a.StatusCode === 'Failed' || a.StatusCode === 'Cancelled');
  }

  private async describe(input: {
    AutoScalingGroupNames?: string[];
    Filters?: { Name: string; Values: string[] }[];
  }): Promise<AutoScalingGroup[]> {
    return allPages(async (token) => {
      const page = await call(
        'DescribeAutoScalingGroups',
        () =>
          this.client.send(
            new DescribeAutoScalingGroupsCommand({ ...input, NextToken: token, MaxRecords: 100 }),
          ),
        this.retry,
      );
      return { items: page.AutoScalingGroups, next: page.NextToken };
    });
  }
}
