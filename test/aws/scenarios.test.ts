import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { rollback } from '../../src/controller/rollback.js';
import { DeploymentFailed, LockHeld, UserInputError } from '../../src/errors.js';
import { awsHarness } from './harness.js';
import { badAmi, baseGroup, decayAmi, goodAmi, goodAmi2, launchFailAmi, tgA, tgB } from './fixtures.js';

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

const tags = (name: string) => Object.fromEntries(h.account.groups.get(name)?.tags ?? []);

describe('aws target against the fake account', () => {
  it('GIVEN only the base group WHEN the first deploy runs THEN green takes traffic on the idle target group and the base group is standby', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    const green = h.account.groups.get(`${baseGroup}-g1`);
    expect(green?.targetGroups).toEqual([tgB]);
    expect(green?.templateVersion).toBe('2');
    expect(tags(`${baseGroup}-g1`)).toMatchObject({
      'cutover:version': goodAmi2,
      'cutover:deployment': 'd-1',
      'cutover:generation': '1',
    });
    expect(h.account.weights(h.env.listener)).toEqual({ [tgA]: 0, [tgB]: 100 });
    expect(h.account.groups.get(baseGroup)?.instances.every((i) => i.protectedFromScaleIn)).toBe(true);
    expect(tags(baseGroup)).toMatchObject({ 'cutover:role': 'standby' });
  });

  it('GIVEN a deploy went live WHEN the next deploy runs THEN the old standby gives way, never more than two fleets', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    expect(h.live()).toEqual({ [`${baseGroup}-g2`]: 100 });
    expect(h.account.groups.get(`${baseGroup}-g2`)?.targetGroups).toEqual([tgA]);
    // The base group was not created by cutover: scaled to zero, never deleted.
    expect(h.account.groups.get(baseGroup)?.desired).toBe(0);
    expect(h.codes()).toContain('target.note');
    await deploy(h.ctx, { deployment: 'd-3', version: goodAmi2 });
    expect(
      [...h.account.groups.keys()].filter((n) => n !== baseGroup && !h.account.deletedOrDeleting(n)).sort(),
    ).toEqual([`${baseGroup}-g2`, `${baseGroup}-g3`]);
    expect(h.live()).toEqual({ [`${baseGroup}-g3`]: 100 });
  });

  it('GIVEN a bad AMI WHEN its targets turn unhealthy THEN traffic never moves and green is deleted', async () => {
    h = awsHarness();
    const failure = deploy(h.ctx, { deployment: 'd-1', version: badAmi });
    await expect(failure).rejects.toMatchObject({ code: 'GREEN_UNHEALTHY' });
    expect(h.account.weights(h.env.listener)).toEqual({ [tgA]: 1 });
    expect(h.account.calls.get('ModifyListener')).toBeUndefined();
    expect(h.account.deletedOrDeleting(`${baseGroup}-g1`)).toBe(true);
  });

  it('GIVEN green turns unhealthy in its target group during the bake THEN traffic goes back and green is deleted', async () => {
    h = awsHarness();
    await expect(deploy(h.ctx, { deployment: 'd-1', version: decayAmi })).rejects.toMatchObject({
      code: 'GREEN_UNHEALTHY',
      message: expect.stringContaining('turned unhealthy while taking traffic'),
    });
    expect(h.codes()).toEqual(
      expect.arrayContaining(['traffic.shifted', 'bake.started', 'health.failed', 'traffic.restoring']),
    );
    expect(h.account.weights(h.env.listener)).toEqual({ [tgA]: 100, [tgB]: 0 });
    expect(h.account.deletedOrDeleting(`${baseGroup}-g1`)).toBe(true);
  });

  it('GIVEN instances that cannot launch WHEN waiting THEN the scaling activity is the reason and green is deleted', async () => {
    h = awsHarness();
    await expect(deploy(h.ctx, { deployment: 'd-1', version: launchFailAmi })).rejects.toMatchObject({
      code: 'INSTANCE_LAUNCH_FAILED',
      message: expect.stringContaining('could not be launched'),
    });
    expect(h.account.deletedOrDeleting(`${baseGroup}-g1`)).toBe(true);
    expect(h.account.weights(h.env.listener)).toEqual({ [tgA]: 1 });
  });

  it('GIVEN an AMI that does not exist WHEN deploying THEN preflight refuses before anything changes', async () => {
    h = awsHarness();
    const failure = deploy(h.ctx, { deployment: 'd-1', version: 'ami-0000000000000dead' });
    await expect(failure).rejects.toBeInstanceOf(UserInputError);
    await expect(failure).rejects.toMatchObject({ code: 'AMI_NOT_FOUND' });
    const changing = [
      'CreateLaunchTemplateVersion',
      'CreateAutoScalingGroup',
      'ModifyListener',
      'UpdateAutoScalingGroup',
    ];
    expect(changing.filter((op) => h.account.calls.has(op))).toEqual([]);
  });

  it('GIVEN half of all calls are throttled WHEN deploying THEN retries with backoff carry it through', async () => {
    h = awsHarness({ throttleRate: 0.5 });
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    expect(h.live()).toEqual({ [`${baseGroup}-g1`]: 100 });
    expect(h.account.calls.get('(throttled)')).toBeGreaterThan(10);
  });

  it('GIVEN v2 live and v1 standby WHEN rolling back THEN one ModifyListener moves traffic and nothing launches', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    const before = new Map(h.account.calls);
    const result = await rollback(h.ctx, 'r-1', () => 'redeploy');
    expect(result).toMatchObject({ from: goodAmi, to: goodAmi2 });
    const delta = (op: string) => (h.account.calls.get(op) ?? 0) - (before.get(op) ?? 0);
    expect(delta('ModifyListener')).toBe(1);
    expect(delta('CreateAutoScalingGroup')).toBe(0);
    expect(delta('CreateLaunchTemplateVersion')).toBe(0);
    expect(h.live()).toEqual({ [`${baseGroup}-g1`]: 100 });
  });

  it('GIVEN one standby instance is unhealthy in its target group WHEN rolling back THEN traffic stays', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    const standby = h.account.groups.get(`${baseGroup}-g1`);
    const sick = standby?.instances[0];
    if (!sick) throw new Error('no standby instance');
    h.account.images.set('ami-0510c0510c0510c05', { healthy: false, launches: true });
    sick.ami = 'ami-0510c0510c0510c05';
    await expect(rollback(h.ctx, 'r-1', () => '')).rejects.toMatchObject({
      code: 'STANDBY_UNHEALTHY',
      message: expect.stringContaining(`${sick.id}: target unhealthy`),
    });
    expect(h.live()).toEqual({ [`${baseGroup}-g2`]: 100 });
  });

  it('GIVEN the standby is gone WHEN rolling back THEN it says so and traffic stays', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    h.account.deleteGroup({ AutoScalingGroupName: `${baseGroup}-g1`, ForceDelete: true });
    h.account.updateGroup({ AutoScalingGroupName: baseGroup, DesiredCapacity: 0 });
    await expect(rollback(h.ctx, 'r-1', () => `cutover deploy … version=${goodAmi2}`)).rejects.toMatchObject({
      code: 'NO_STANDBY',
      hint: expect.stringContaining(goodAmi2),
    });
    expect(h.live()).toEqual({ [`${baseGroup}-g2`]: 100 });
  });

  it('GIVEN two CI runners deploy at once WHEN both claim the next generation THEN exactly one deploys and the other exits locked', async () => {
    h = awsHarness();
    const second = h.runner('ci-2');
    const results = await Promise.allSettled([
      deploy(h.ctx, { deployment: 'd-a', version: goodAmi2 }),
      deploy(second.ctx, { deployment: 'd-b', version: goodAmi }),
    ]);
    second.cleanup();
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toBeInstanceOf(LockHeld);
    expect(String(rejected[0]?.reason.message)).toMatch(
      /generation 1: Auto Scaling group `catalog-prod-g1` exists \(deployment d-[ab]/,
    );
    expect(h.live()).toEqual({ [`${baseGroup}-g1`]: 100 });
  });

  it('GIVEN a deploy is waiting for its green WHEN another runner starts a deploy THEN that one exits locked and the first finishes', async () => {
    h = awsHarness();
    const second = h.runner('ci-2');
    const first = deploy(h.ctx, { deployment: 'd-a', version: goodAmi2 });
    // Until describe calls show g1, a second deploy loses the race for its name instead (also exit 3).
    const visible = () => {
      const g1 = h.account.groups.get(`${baseGroup}-g1`);
      return g1 !== undefined && h.clock.now() - g1.createdAt >= h.account.describeLagMs;
    };
    while (!visible()) await new Promise((r) => setImmediate(r));
    await expect(deploy(second.ctx, { deployment: 'd-b', version: goodAmi })).rejects.toMatchObject({
      code: 'DEPLOY_IN_PROGRESS',
      message: expect.stringContaining('deployment d-a'),
    });
    second.cleanup();
    await first;
    expect(h.live()).toEqual({ [`${baseGroup}-g1`]: 100 });
    expect(tags(`${baseGroup}-g1`)).toMatchObject({ 'cutover:role': 'live' });
  });

  it('GIVEN a runner that never saw the deploys WHEN it runs status and rollback THEN it finds everything in AWS', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    const fresh = h.runner('fresh');
    // What to redeploy if the standby were gone is in AWS too, for a runner with no journal.
    const live = (await fresh.ctx.target.fleet.list()).find((f) => f.id === `${baseGroup}-g2`);
    expect(live?.previousVersion).toBe(goodAmi2);
    expect(await fresh.ctx.target.router.readWeights()).toEqual({ [`${baseGroup}-g2`]: 100 });
    await rollback(fresh.ctx, 'r-1', () => '');
    fresh.cleanup();
    expect(h.live()).toEqual({ [`${baseGroup}-g1`]: 100 });
  });

  it('refuses to send traffic to a target group with no healthy target, even when asked directly', async () => {
    h = awsHarness();
    await h.ctx.target.fleet.launch({ id: 'x', version: badAmi, deployment: 'd-x' });
    h.clock.advance(3_600_000);
    await expect(h.ctx.target.router.setWeights({ [`${baseGroup}-g1`]: 100 })).rejects.toMatchObject({
      code: 'NO_HEALTHY_TARGETS',
    });
    await expect(h.ctx.target.router.setWeights({ [`${baseGroup}-g1`]: 100 })).rejects.toBeInstanceOf(
      DeploymentFailed,
    );
    expect(h.account.weights(h.env.listener)).toEqual({ [tgA]: 1 });
  });
});
