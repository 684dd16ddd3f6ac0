import type {
  AutoScalingGroup,
  CreateAutoScalingGroupCommandInput,
  LifecycleHookSpecification,
  PutScalingPolicyCommandInput,
  ScalingPolicy,
} from '@aws-sdk/client-auto-scaling';
import type { Clock } from '../../clock.js';
import { formatDuration } from '../../duration.js';
import type { AwsEnvironmentConfig } from '../../config/schema.js';
import { defaults } from '../../config/defaults.js';
import { parseDuration } from '../../duration.js';
import { DeploymentFailed, LockHeld, UserInputError } from '../../errors.js';
import type { Measurement } from '../../../healthchecks/types.js';
import type {
  DeploymentNotes,
  Fleet,
  FleetInfo,
  FleetRole,
  LaunchSpec,
  Progress,
  RoleChange,
  Target,
  TargetPlan,
  TrafficRouter,
  Weights,
  TargetRecord,
} from '../types.js';
import type { AwsPorts } from './clients.js';
import type { ForwardState } from './elb.js';
import { generationOf, tagKeys, tagOf } from './tags.js';
import { describeLaunch, launchOf } from './launch-description.js';
import { patterns } from './patterns.js';
import { cloudWatchAlarms, cloudWatchMetrics, type FleetTraffic } from './watch.js';

/**
 * The aws target: a fleet is an Auto Scaling group launched from a pinned launch-template version and
 * attached to one of the environment's two target groups; traffic is the listener's weighted forward
 * action. Nothing is kept on the runner: fleets are found by their tags, the live one by the weights.
 */

export interface AwsTargetOptions {
  env: AwsEnvironmentConfig;
  artifact: string;
  environment: string;
  clock: Clock;
  ports: AwsPorts;
  /** Told what the target does that a person should know (a base group scaled to zero). */
  note?: (message: string) => void;
}

const maxTargetGroupsPerAction = 5;

export function createAwsTarget(options: AwsTargetOptions): Target {
  const { env, ports, clock, artifact, environment } = options;
  const { elb, autoscaling, ec2 } = ports;
  const pollFirst = parseDuration(defaults.aws.pollEvery) ?? 5000;
  const pollMax = parseDuration(defaults.aws.pollMax) ?? 30_000;
  /** When traffic last left each group: touching it before `settle` has passed risks 5xx. */
  const trafficLeftAt = new Map<string, number>();

  // A base group scaled to zero stays attached to its target group; it is retired, not a fleet.
  const retired = (group: AutoScalingGroup) => (group.DesiredCapacity ?? 0) === 0 && !group.Instances?.length;

  // ForceDelete is asynchronous: the group stays listed ("Delete in progress"), still attached to its
  // target group, until its instances are gone. It is no fleet, but its name is still taken.
  const deleting = (group: AutoScalingGroup) => group.Status !== undefined && group.Status !== '';

  /** Every group of this artifact and environment, and the base group; `fleets` are those that serve or may. */
  const scan = async (): Promise<{ all: AutoScalingGroup[]; fleets: AutoScalingGroup[] }> => {
    const tagged = await autoscaling.groupsTagged({
      [tagKeys.artifact]: artifact,
      [tagKeys.environment]: environment,
    });
    const hasBase = tagged.some((g) => g.AutoScalingGroupName === env.baseGroup);
    const base = hasBase ? undefined : await autoscaling.group(env.baseGroup);
    const all = base ? [base, ...tagged] : tagged;
    return { all, fleets: all.filter((g) => !retired(g) && !deleting(g)) };
  };

  const groups = async (): Promise<AutoScalingGroup[]> => (await scan()).fleets;

  const generationName = new RegExp(`^${env.baseGroup.replace(/[.]/g, '\\.')}-g\\d+$`);
  /** A group cutover launched here: named by generation and tagged for this artifact and environment. */
  const createdByUs = (group: AutoScalingGroup): boolean =>
    generationName.test(group.AutoScalingGroupName ?? '') &&
    tagOf(group, tagKeys.artifact) === artifact &&
    tagOf(group, tagKeys.environment) === environment;

  const refuseUnlessOurs = (group: AutoScalingGroup): void => {
    if (createdByUs(group)) return;
    throw new DeploymentFailed(
      'GROUP_NOT_CREATED_BY_CUTOVER',
      `Auto Scaling group \`${group.AutoScalingGroupName}\` was not created by cutover for ${artifact} in ${environment}: it is not named \`${env.baseGroup}-g<N>\` with tags ${tagKeys.artifact}=${artifact} and ${tagKeys.environment}=${environment}; cutover does not delete or scale it`,
      'delete it yourself if it is no longer needed, or remove its cutover:* tags so that cutover leaves it out',
    );
  };

  const instanceIds = (group: AutoScalingGroup): string[] =>
    (group.Instances ?? []).flatMap((i) => (i.InstanceId ? [i.InstanceId] : []));

  const roles: readonly FleetRole[] = ['green', 'live', 'standby', 'failed'];
  /** A group without cutover's role tag (the base group before the first deploy) counts as live. */
  const roleOf = (group: AutoScalingGroup): FleetRole => {
    const tagged = tagOf(group, tagKeys.role) as FleetRole | undefined;
    return tagged && roles.includes(tagged) ? tagged : 'live';
  };

  const ourTargetGroup = (group: AutoScalingGroup): string | undefined =>
    group.TargetGroupARNs?.find((arn) => env.targetGroups.includes(arn));

  const toFleet = (group: AutoScalingGroup): FleetInfo => {
    const role = roleOf(group);
    const until = tagOf(group, tagKeys.standbyUntil);
    return {
      id: group.AutoScalingGroupName ?? '',
      version: tagOf(group, tagKeys.version) ?? `${group.AutoScalingGroupName} (base group)`,
      deployment: tagOf(group, tagKeys.deployment) ?? '',
      createdAt: group.CreatedTime?.getTime() ?? 0,
      role,
      ...(role === 'standby' && until ? { standbyUntil: Date.parse(until) } : {}),
      ...(role === 'green' ? { inProgress: true } : {}),
      ...(tagOf(group, tagKeys.previousVersion)
        ? { previousVersion: tagOf(group, tagKeys.previousVersion) }
        : {}),
      instances: (group.Instances ?? []).map((i) => ({
        id: i.InstanceId ?? '',
        up: i.LifecycleState === 'InService',
      })),
    };
  };

  const weightsOf = async (list: AutoScalingGroup[]): Promise<Weights> =>
    weightsFrom(list, await elb.readForward(env.listener));

  /** Each group's share of the forward action, in percent, from its target group's weight. */
  const weightsFrom = (list: AutoScalingGroup[], forward: ForwardState): Weights => {
    const total = [...forward.weights.values()].reduce((a, b) => a + b, 0);
    const weights: Weights = {};
    if (total === 0) return weights;
    for (const group of list) {
      const tg = ourTargetGroup(group);
      const weight = tg ? (forward.weights.get(tg) ?? 0) : 0;
      if (weight > 0) weights[group.AutoScalingGroupName ?? ''] = Math.round((weight * 100) / total);
    }
    return weights;
  };

  const requireGroup = async (name: string): Promise<AutoScalingGroup> => {
    const group = await autoscaling.group(name);
    if (!group) throw new DeploymentFailed('FLEET_GONE', `Auto Scaling group \`${name}\` does not exist`);
    return group;
  };

  const templateRef = patterns.launchTemplateId.test(env.launchTemplate)
    ? { LaunchTemplateId: env.launchTemplate }
    : { LaunchTemplateName: env.launchTemplate };

  /** Everything a launch decides from the current state, so that `plan` and `launch` cannot drift apart. */
  const planLaunch = async (list: AutoScalingGroup[], weights: Weights, all: AutoScalingGroup[]) => {
    const live = list.find((g) => (weights[g.AutoScalingGroupName ?? ''] ?? 0) > 0);
    // The base group may be scaled to zero (retired): it still says which subnets and template to use.
    const source = live ?? (await autoscaling.group(env.baseGroup));
    if (!source) {
      throw new UserInputError(
        'BASE_GROUP_MISSING',
        `neither a live group nor the base group \`${env.baseGroup}\` exists to copy subnets and settings from`,
        'create the base Auto Scaling group, or fix `baseGroup`',
      );
    }
    const liveTg = live ? ourTargetGroup(live) : undefined;
    const idleTg = env.targetGroups.find((tg) => tg !== liveTg) as string;
    // Groups still being deleted hold their names: count them, or the next name may be refused.
    const generation = Math.max(0, ...all.map(generationOf)) + 1;
    const capacity = env.capacity ?? {
      min: source.MinSize ?? 1,
      max: source.MaxSize ?? 1,
      desired: source.DesiredCapacity ?? 1,
    };
    if (capacity.desired < 1) {
      throw new UserInputError(
        'CAPACITY_ZERO',
        `group \`${source.AutoScalingGroupName}\` to copy from has desired capacity 0`,
        'set `capacity: { min, max, desired }` in the environment',
      );
    }
    // Copy the live group's pinned version of the same template; otherwise start from the default.
    const sourceTemplate =
      source.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification ?? source.LaunchTemplate;
    const pinned = sourceTemplate?.Version;
    const sameTemplate =
      sourceTemplate?.LaunchTemplateId === env.launchTemplate ||
      sourceTemplate?.LaunchTemplateName === env.launchTemplate;
    const sourceVersion = sameTemplate && pinned && /^\d+$/.test(pinned) ? pinned : '$Default';
    const name = `${env.baseGroup}-g${generation}`;
    const sourceName = source.AutoScalingGroupName ?? '';
    const [policies, hooks] = await Promise.all([
      autoscaling.policies(sourceName),
      autoscaling.lifecycleHooks(sourceName),
    ]);
    return {
      live,
      source,
      idleTg,
      generation,
      name,
      capacity,
      sourceVersion,
      hooks: hooks.map((hook): LifecycleHookSpecification => ({
        LifecycleHookName: hook.LifecycleHookName,
        LifecycleTransition: hook.LifecycleTransition,
        NotificationMetadata: hook.NotificationMetadata,
        HeartbeatTimeout: hook.HeartbeatTimeout,
        DefaultResult: hook.DefaultResult,
        NotificationTargetARN: hook.NotificationTargetARN,
        RoleARN: hook.RoleARN,
      })),
      policies: policies.map((policy) => copyPolicy(policy, name, idleTg)),
      // The owner's tags (cost allocation, ownership) follow the fleet; cutover's own are set per group,
      // and aws:* ones are reserved for AWS to set.
      tags: (source.Tags ?? [])
        .filter((t) => t.Key && !t.Key.startsWith('cutover:') && !t.Key.startsWith('aws:'))
        .map((t) => ({ Key: t.Key, Value: t.Value ?? '', PropagateAtLaunch: t.PropagateAtLaunch ?? false })),
    };
  };

  /** What CreateAutoScalingGroup gets: the launch plan, launching the new template version. */
  const createInput = (
    plan: Awaited<ReturnType<typeof planLaunch>>,
    templateVersion: string,
    spec: LaunchSpec,
  ): CreateAutoScalingGroupCommandInput => {
    const template = { ...templateRef, Version: templateVersion };
    const mixed = plan.source.MixedInstancesPolicy;
    return {
      AutoScalingGroupName: plan.name,
      // With a mixed instances policy the template lives inside it, and LaunchTemplate must be absent.
      ...(mixed
        ? {
            MixedInstancesPolicy: {
              ...mixed,
              LaunchTemplate: { ...mixed.LaunchTemplate, LaunchTemplateSpecification: template },
            },
          }
        : { LaunchTemplate: template }),
      MinSize: plan.capacity.min,
      MaxSize: plan.capacity.max,
      DesiredCapacity: plan.capacity.desired,
      VPCZoneIdentifier: plan.source.VPCZoneIdentifier,
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: plan.source.HealthCheckGracePeriod ?? 300,
      TargetGroupARNs: [plan.idleTg],
      // In the create call, not PutLifecycleHook afterwards: a launch hook must see the first instances.
      ...(plan.hooks.length ? { LifecycleHookSpecificationList: plan.hooks } : {}),
      Tags: [
        ...plan.tags,
        ...Object.entries({
          [tagKeys.artifact]: artifact,
          [tagKeys.environment]: environment,
          [tagKeys.version]: spec.version,
          [tagKeys.deployment]: spec.deployment,
          [tagKeys.role]: 'green',
          [tagKeys.generation]: String(plan.generation),
        }).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true })),
      ],
    };
  };

  /**
   * Points the test listener at green's target group, so the configured HTTP checks reach green through
   * the load balancer before any production traffic does.
   */
  const throughTestListener = async (targetGroup: string): Promise<Pick<FleetInfo, 'checkEndpoints'>> => {
    if (!env.testListener) return {};
    const state = await elb.readForward(env.testListener);
    await elb.writeForward(env.testListener, state, new Map([[targetGroup, 1]]));
    const applied = await elb.readForward(env.testListener);
    if ([...applied.weights].some(([tg, w]) => w > 0 && tg !== targetGroup)) {
      throw new DeploymentFailed(
        'TEST_LISTENER_NOT_APPLIED',
        `test listener \`${env.testListener}\` still forwards elsewhere`,
      );
    }
    return { checkEndpoints: [{ id: 'test listener', url: await elb.listenerUrl(env.testListener) }] };
  };

  const fleet: Fleet = {
    async launch(spec: LaunchSpec): Promise<FleetInfo> {
      const { all, fleets: list } = await scan();
      const plan = await planLaunch(list, await weightsOf(list), all);
      const { name, generation } = plan;
      const templateVersion = await ec2.newTemplateVersion(
        env.launchTemplate,
        plan.sourceVersion,
        spec.version,
        describeLaunch(spec, artifact),
        `cutover-${spec.deployment}`,
      );
      const launched: FleetInfo = {
        id: name,
        version: spec.version,
        deployment: spec.deployment,
        createdAt: clock.now(),
        role: 'green',
        instances: [],
      };
      try {
        await autoscaling.create(createInput(plan, String(templateVersion), spec));
      } catch (error) {
        if ((error as { name?: string }).name !== 'AlreadyExistsFault') throw error;
        // The winner's group was just created: describe calls may miss it for a few seconds.
        let holder = await autoscaling.group(name);
        for (let tries = 0; !holder && tries < 10; tries++) {
          await clock.sleep(1000);
          holder = await autoscaling.group(name);
        }
        // A group tagged with our own deployment is our first attempt, which took effect though its
        // answer was lost; any other holder is another deploy's claim on this generation.
        if (!holder || tagOf(holder, tagKeys.deployment) !== spec.deployment) {
          throw new LockHeld(
            'LOCKED',
            `another deploy claimed generation ${generation}: Auto Scaling group \`${name}\` exists (deployment ${holder ? tagOf(holder, tagKeys.deployment) : 'unknown'}, version ${holder ? tagOf(holder, tagKeys.version) : 'unknown'})`,
            'wait for that deploy to finish, then run cutover status',
          );
        }
      }
      for (const policy of plan.policies) {
        await autoscaling.putPolicy(policy);
        if (policy.PolicyType === 'StepScaling' || policy.PolicyType === 'SimpleScaling') {
          options.note?.(
            `scaling policy \`${policy.PolicyName}\` of \`${name}\` was copied, but the CloudWatch alarms that trigger it were not: it does not act until an alarm names it`,
          );
        }
      }
      return launched;
    },

    async waitReady(
      fleetId: string,
      deadline: number,
      progress: Progress,
      signal?: AbortSignal,
    ): Promise<FleetInfo> {
      let wait = pollFirst;
      for (;;) {
        // Describe calls can miss a group created a moment ago; it counts as not ready yet.
        const group = await autoscaling.group(fleetId);
        if (group && deleting(group)) {
          throw new DeploymentFailed(
            'GREEN_TAKEN_AWAY',
            `\`${fleetId}\` is being deleted while it starts: another runner undid this deploy (cutover abort)`,
            'run cutover status to see what serves now',
          );
        }
        if (group) {
          const failed = (await autoscaling.failedActivities(fleetId))[0];
          if (failed) {
            throw new DeploymentFailed(
              'INSTANCE_LAUNCH_FAILED',
              `Auto Scaling could not launch instances into \`${fleetId}\`: ${failed.StatusMessage ?? failed.Description ?? failed.StatusCode}`,
              'check the AMI, the launch template, instance limits and subnets; the scaling activity history says more',
            );
          }
          const desired = group.DesiredCapacity ?? 0;
          const inService = (group.Instances ?? []).filter((i) => i.LifecycleState === 'InService');
          let healthy = 0;
          const tg = ourTargetGroup(group);
          if (tg && inService.length >= desired && desired > 0) {
            const ids = new Set(inService.map((i) => i.InstanceId));
            const rows = (await elb.targetHealth(tg)).filter((r) => ids.has(r.id));
            const bad = rows.find((r) => r.state === 'unhealthy');
            if (bad) {
              throw new DeploymentFailed(
                'GREEN_UNHEALTHY',
                `instance ${bad.id} of \`${fleetId}\` is unhealthy in its target group (${bad.reason ?? 'no reason given'})`,
                'check the AMI and the target group health check; traffic did not move',
              );
            }
            healthy = rows.filter((r) => r.state === 'healthy').length;
            if (healthy >= desired) return { ...toFleet(group), ...(await throughTestListener(tg)) };
          }
          progress(
            `${inService.length}/${desired} InService, ${healthy}/${desired} healthy in the target group`,
          );
        } else {
          progress(`waiting for Auto Scaling group \`${fleetId}\` to appear`);
        }
        if (clock.now() + wait > deadline) {
          throw new DeploymentFailed(
            'FLEET_START_TIMEOUT',
            `\`${fleetId}\` was not InService and healthy in time`,
            'raise healthCheck.readyTimeout, or check the scaling activities and target health',
          );
        }
        await clock.sleep(wait, signal);
        wait = Math.min(pollMax, Math.round(wait * 1.5));
      }
    },

    async list(): Promise<FleetInfo[]> {
      return (await groups()).map(toFleet);
    },

    /**
     * Roles are tags, so every runner sees them; the guard that goes with a standby is scale-in
     * protection, lifted again when the group serves (or a failed one is kept) so scaling works normally.
     */
    async setRole(fleetId: string, change: RoleChange): Promise<void> {
      const group = await requireGroup(fleetId);
      const ids = instanceIds(group);
      const guarded = (group.Instances ?? []).some((i) => i.ProtectedFromScaleIn);
      if (change.role === 'standby') {
        await autoscaling.protect(fleetId, ids, true);
        await autoscaling.tag(fleetId, {
          [tagKeys.role]: 'standby',
          [tagKeys.standbyUntil]: new Date(change.until).toISOString(),
        });
        return;
      }
      if (guarded) await autoscaling.protect(fleetId, ids, false);
      // An empty window reads as none: one tag call instead of a DeleteTags as well.
      await autoscaling.tag(fleetId, {
        [tagKeys.role]: change.role,
        [tagKeys.standbyUntil]: '',
        ...(change.role === 'live' && change.previousVersion
          ? { [tagKeys.previousVersion]: change.previousVersion }
          : {}),
      });
    },

    /** Target health of the group's instances: healthy passes, unhealthy fails, draining or gone is an error. */
    async health(fleetId: string): Promise<Measurement[]> {
      const group = await autoscaling.group(fleetId);
      const tg = group ? ourTargetGroup(group) : undefined;
      // A group deleted or emptied under a bake (another runner's `cutover abort`) has no target rows to
      // fail on: its absence is the failure.
      const gone = !group
        ? 'the group does not exist'
        : deleting(group)
          ? `the group is being deleted (${group.Status})`
          : !tg
            ? 'the group is attached to neither target group'
            : instanceIds(group).length === 0
              ? 'the group has no instance'
              : undefined;
      if (gone || !group || !tg) {
        return [{ instance: fleetId, outcome: 'error', detail: gone ?? 'no target group', at: clock.now() }];
      }
      const ids = new Set(instanceIds(group));
      return (await elb.targetHealth(tg))
        .filter((row) => ids.has(row.id) && row.state !== 'initial')
        .map((row) => ({
          instance: row.id,
          outcome: row.state === 'healthy' ? 'pass' : row.state === 'unhealthy' ? 'fail' : 'error',
          detail: `target ${row.state}${row.reason ? ` (${row.reason})` : ''}`,
          at: clock.now(),
        }));
    },

    async retire(fleetId: string): Promise<void> {
      const left = trafficLeftAt.get(fleetId);
      if (left !== undefined && clock.now() - left < env.settle)
        await clock.sleep(env.settle - (clock.now() - left));
      // Checked after the settle wait, right before the change: another runner may have rolled back
      // onto this group meanwhile.
      const weights = await weightsOf(await groups());
      if ((weights[fleetId] ?? 0) > 0) {
        throw new DeploymentFailed(
          'RETIRE_LIVE',
          `group \`${fleetId}\` takes traffic; move traffic off it before retiring it`,
        );
      }
      const group = await requireGroup(fleetId);
      if (fleetId === env.baseGroup) {
        // Scale-in skips protected instances, and a standby's are protected: lift that first.
        await autoscaling.protect(fleetId, instanceIds(group), false);
        await autoscaling.resize(fleetId, { min: 0, max: group.MaxSize ?? 0, desired: 0 });
        options.note?.(`base group \`${fleetId}\` was not created by cutover: scaled to zero, not deleted`);
        return;
      }
      refuseUnlessOurs(group);
      await autoscaling.delete(fleetId);
    },
  };

  const router: TrafficRouter = {
    async ensure(): Promise<void> {},

    async readWeights(): Promise<Weights> {
      return weightsOf(await groups());
    },

    async setWeights(weights: Weights): Promise<void> {
      const list = await groups();
      const forward = await elb.readForward(env.listener);
      const before = weightsFrom(list, forward);
      const next = new Map<string, number>(env.targetGroups.map((tg) => [tg, 0]));
      for (const [fleetId, weight] of Object.entries(weights)) {
        if (weight <= 0) continue;
        const group = list.find((g) => g.AutoScalingGroupName === fleetId);
        const tg = group ? ourTargetGroup(group) : undefined;
        if (!tg)
          throw new DeploymentFailed(
            'FLEET_NO_TARGET_GROUP',
            `group \`${fleetId}\` is not attached to a target group of this environment`,
          );
        // An ALB whose targets are all unhealthy sends traffic to all of them: never shift to such a group.
        const healthy = (await elb.targetHealth(tg)).filter((r) => r.state === 'healthy').length;
        if (healthy === 0) {
          throw new DeploymentFailed(
            'NO_HEALTHY_TARGETS',
            `target group of \`${fleetId}\` has no healthy target; traffic stays where it is`,
          );
        }
        next.set(tg, weight);
      }
      if (next.size > maxTargetGroupsPerAction)
        throw new Error(`a forward action takes at most ${maxTargetGroupsPerAction} target groups`);
      await elb.writeForward(env.listener, forward, next);
      for (const [fleetId, weight] of Object.entries(before)) {
        if (weight > 0 && !(weights[fleetId] ?? 0)) trafficLeftAt.set(fleetId, clock.now());
      }
    },
  };

  const describe = async () => {
    const forward = await elb.readForward(env.listener);
    const details = {
      region: env.region,
      listener: env.listener,
      targetGroups: env.targetGroups,
      stickySeconds: forward.stickySeconds ?? null,
    };
    if (!forward.stickySeconds) return { details };
    return {
      details,
      warning: `target group stickiness is on: clients holding the AWSALBTG cookie stay on their group for up to ${forward.stickySeconds}s after a cutover or rollback`,
    };
  };

  /**
   * The listener and both target groups can be read, and the forward action sends only to the two
   * `targetGroups`: a weight change rewrites the whole action, so it would drop anything else.
   */
  const checkRouting = async (): Promise<void> => {
    let forward;
    try {
      forward = await elb.readForward(env.listener);
    } catch (error) {
      throw new UserInputError(
        'LISTENER_NOT_FOUND',
        `listener \`${env.listener}\` cannot be read: ${(error as Error).message}`,
      );
    }
    try {
      await elb.targetGroups(env.targetGroups);
    } catch (error) {
      throw new UserInputError(
        'TARGET_GROUP_NOT_FOUND',
        `a target group of \`targetGroups\` cannot be read: ${(error as Error).message}`,
      );
    }
    const foreign = [...forward.weights.keys()].filter((tg) => !env.targetGroups.includes(tg));
    if (foreign.length > 0) {
      throw new UserInputError(
        'LISTENER_FOREIGN_TARGET_GROUPS',
        `the forward action of \`${env.listener}\` also sends to ${foreign.map((t) => `\`${t}\``).join(', ')}, which \`targetGroups\` does not name`,
        'list the two target groups the listener alternates between in `targetGroups`',
      );
    }
  };

  const preflight = async (version: string): Promise<void> => {
    const image = await ec2.image(version);
    if (!image || image.State !== 'available') {
      throw new UserInputError(
        'AMI_NOT_FOUND',
        `AMI \`${version}\` ${image ? `is ${image.State}` : 'does not exist'} in ${env.region}`,
      );
    }
    await checkRouting();
    if (!(await autoscaling.group(env.baseGroup)) && (await groups()).length === 0) {
      throw new UserInputError(
        'BASE_GROUP_MISSING',
        `Auto Scaling group \`${env.baseGroup}\` (\`baseGroup\`) does not exist`,
      );
    }
  };

  // Mirrors the controller's deploy order (retire idle, launch, wait, shift, bake, keep blue as standby);
  // a test compares it with the calls a real deploy makes against the fake account.
  const plan = async (version: string): Promise<TargetPlan> => {
    await preflight(version);
    const { all, fleets: list } = await scan();
    const weights = await weightsOf(list);
    const lines: string[] = [];
    for (const idle of list.filter((g) => !(weights[g.AutoScalingGroupName ?? ''] ?? 0))) {
      const name = idle.AutoScalingGroupName ?? '';
      const role = toFleet(idle).role;
      const why =
        role === 'standby'
          ? 'the standby gives way: green takes its target group, so no rollback to it after this'
          : `no rollback target: ${role}`;
      if (name === env.baseGroup) {
        lines.push(
          `SetInstanceProtection ${name} ProtectedFromScaleIn=false (${idle.Instances?.length ?? 0} instances)`,
        );
        lines.push(
          `UpdateAutoScalingGroup ${name} MinSize=0 DesiredCapacity=0 (base group: scaled to zero, not deleted; ${why})`,
        );
      } else {
        refuseUnlessOurs(idle);
        lines.push(`DeleteAutoScalingGroup ${name} ForceDelete=true (${why})`);
      }
    }
    const p = await planLaunch(
      list.filter((g) => (weights[g.AutoScalingGroupName ?? ''] ?? 0) > 0),
      weights,
      all,
    );
    lines.push(
      `CreateLaunchTemplateVersion ${env.launchTemplate} SourceVersion=${p.sourceVersion} ImageId=${version}`,
    );
    const overrides = p.source.MixedInstancesPolicy?.LaunchTemplate?.Overrides?.length ?? 0;
    const launchWith = p.source.MixedInstancesPolicy
      ? `MixedInstancesPolicy(LaunchTemplate=${env.launchTemplate}:<new version>, ${overrides} overrides)`
      : `LaunchTemplate=${env.launchTemplate}:<new version>`;
    const extras = [
      p.hooks.length ? ` LifecycleHooks=${p.hooks.map((h) => h.LifecycleHookName).join(',')}` : '',
      p.tags.length ? ` CopiedTags=${p.tags.map((t) => t.Key).join(',')}` : '',
    ].join('');
    lines.push(
      `CreateAutoScalingGroup ${p.name} ${launchWith} Min/Desired/Max=${p.capacity.min}/${p.capacity.desired}/${p.capacity.max} TargetGroupARNs=${p.idleTg} Subnets=${p.source.VPCZoneIdentifier ?? ''}${extras}`,
    );
    for (const policy of p.policies)
      lines.push(`PutScalingPolicy ${p.name} ${policy.PolicyName} ${policy.PolicyType}`);
    lines.push(
      `(wait up to ${formatDuration(env.healthCheck.readyTimeout)} for ${p.capacity.desired} instances InService and healthy in ${p.idleTg})`,
    );
    if (env.testListener) {
      lines.push(
        `ModifyListener ${env.testListener} forward ${p.idleTg}=1 (the test listener, for HTTP checks)`,
      );
      lines.push(
        `(HTTP checks: GET ${env.healthCheck.path} through the test listener, ${env.healthCheck.healthyThreshold} passes in a row)`,
      );
    }
    const liveTg = env.targetGroups.find((t) => t !== p.idleTg);
    const setWeight = (percent: number) =>
      `ModifyListener ${env.listener} forward ${p.idleTg}=${percent}${liveTg ? ` ${liveTg}=${100 - percent}` : ''}`;
    const launch = lines.splice(0);
    lines.push(
      `CreateOrUpdateTags ${p.name} cutover:role=live${p.live ? ` cutover:previous-version=${toFleet(p.live).version}` : ''}`,
    );
    if (p.live) {
      lines.push(
        `SetInstanceProtection ${p.live.AutoScalingGroupName} ProtectedFromScaleIn=true (${p.live.Instances?.length ?? 0} instances)`,
      );
      lines.push(
        `CreateOrUpdateTags ${p.live.AutoScalingGroupName} cutover:role=standby cutover:standby-until=<now + ${formatDuration(env.rollbackWindow)}>`,
      );
    }
    return {
      live: p.live !== undefined,
      launch,
      noteStep: (step: number) => `CreateOrUpdateTags ${p.name} cutover:note:step=${step}`,
      setWeight,
      promote: lines,
    };
  };

  // Green is attached to the idle target group, which the standby holds: the standby must go first.
  const noteTag = 'cutover:note:';
  const groupOf = async (deployment: string) =>
    (await groups()).find((g) => tagOf(g, tagKeys.deployment) === deployment);
  const notes: DeploymentNotes = {
    async read(deployment) {
      const group = await groupOf(deployment);
      if (!group) return undefined;
      return Object.fromEntries(
        (group.Tags ?? [])
          .filter((t) => t.Key?.startsWith(noteTag))
          .map((t) => [(t.Key ?? '').slice(noteTag.length), t.Value ?? '']),
      );
    },
    async write(deployment, values) {
      const group = await groupOf(deployment);
      if (!group?.AutoScalingGroupName) return false;
      await autoscaling.tag(
        group.AutoScalingGroupName,
        Object.fromEntries(Object.entries(values).map(([key, value]) => [`${noteTag}${key}`, value])),
      );
      return true;
    },
  };

  /** Each fleet asked for that is attached to one of the environment's target groups. */
  const fleetTraffic = async (fleetIds: string[]): Promise<Map<string, FleetTraffic>> => {
    const found = new Map<string, FleetTraffic>();
    for (const group of await groups()) {
      const id = group.AutoScalingGroupName ?? '';
      const targetGroupArn = ourTargetGroup(group);
      if (fleetIds.includes(id) && targetGroupArn)
        found.set(id, { targetGroupArn, createdAt: group.CreatedTime?.getTime() ?? 0 });
    }
    return found;
  };

  /**
   * The production listener's address. A listener rule's conditions (host, path) decide what reaches
   * it, which the load balancer's DNS name does not say: no address then.
   */
  /** This artifact's launch template versions that cutover made, read back from their descriptions. */
  const deployments = async (): Promise<TargetRecord[]> =>
    (await ec2.templateVersions(env.launchTemplate)).flatMap((v) => {
      const made = launchOf(v.description);
      return made && made.artifact === artifact
        ? [
            {
              deployment: made.deployment,
              version: v.ami || made.version,
              by: made.by,
              startedAt: v.createdAt,
            },
          ]
        : [];
    });

  const publicUrl = async (): Promise<string | undefined> =>
    env.listener.includes(':listener-rule/') ? undefined : elb.listenerUrl(env.listener);

  return {
    name: 'aws',
    standbyGivesWay: true,
    fleet,
    router,
    notes,
    metrics: cloudWatchMetrics(ports.cloudwatch, env.listener, fleetTraffic),
    alarms: cloudWatchAlarms(ports.cloudwatch),
    publicUrl,
    deployments,
    describe,
    preflight,
    checkRouting,
    plan,
  };
}

/**
 * The PutScalingPolicy that recreates `policy` on group `name`. A target-tracking policy on ALB request
 * count per target names its target group in ResourceLabel (`app/<lb>/<id>/targetgroup/<name>/<id>`):
 * it is pointed at the new group's target group, which sits on the same load balancer.
 */
function copyPolicy(policy: ScalingPolicy, name: string, targetGroup: string): PutScalingPolicyCommandInput {
  const tracking = policy.TargetTrackingConfiguration;
  const predefined = tracking?.PredefinedMetricSpecification;
  const label =
    predefined?.PredefinedMetricType === 'ALBRequestCountPerTarget' && predefined.ResourceLabel
      ? predefined.ResourceLabel.replace(/targetgroup\/.*$/, targetGroup.split(':').at(-1) ?? '')
      : predefined?.ResourceLabel;
  return {
    AutoScalingGroupName: name,
    PolicyName: policy.PolicyName,
    PolicyType: policy.PolicyType,
    AdjustmentType: policy.AdjustmentType,
    MinAdjustmentMagnitude: policy.MinAdjustmentMagnitude,
    ScalingAdjustment: policy.ScalingAdjustment,
    Cooldown: policy.Cooldown,
    MetricAggregationType: policy.MetricAggregationType,
    StepAdjustments: policy.StepAdjustments,
    EstimatedInstanceWarmup: policy.EstimatedInstanceWarmup,
    TargetTrackingConfiguration:
      tracking && predefined
        ? { ...tracking, PredefinedMetricSpecification: { ...predefined, ResourceLabel: label } }
        : tracking,
    PredictiveScalingConfiguration: policy.PredictiveScalingConfiguration,
    Enabled: policy.Enabled,
  };
}
