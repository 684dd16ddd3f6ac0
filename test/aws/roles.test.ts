import { planDeploy } from '../../src/controller/plan.js';
import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { rollback } from '../../src/controller/rollback.js';
import { DeploymentFailed } from '../../src/errors.js';
import { awsHarness } from './harness.js';
import { baseGroup, goodAmi, goodAmi2 } from './fixtures.js';

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

const g1 = `${baseGroup}-g1`;
const g2 = `${baseGroup}-g2`;
const tags = (name: string) => Object.fromEntries(h.account.groups.get(name)?.tags ?? []);
const guarded = (name: string) =>
  h.account.groups.get(name)?.instances.map((i) => i.protectedFromScaleIn) ?? [];

describe('aws: roles, tags and scale-in protection follow the traffic', () => {
  it('GIVEN g2 live and g1 standby WHEN rolling back THEN g1 is live and unguarded, g2 the guarded standby', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    await rollback(h.ctx, 'r-1', () => '');
    expect(h.live()).toEqual({ [g1]: 100 });
    expect(tags(g1)).toMatchObject({ 'cutover:role': 'live', 'cutover:standby-until': '' });
    expect(guarded(g1).every((p) => !p)).toBe(true);
    expect(tags(g2)).toMatchObject({ 'cutover:role': 'standby' });
    expect(Date.parse(tags(g2)['cutover:standby-until'] ?? '')).toBeGreaterThan(h.clock.now());
    expect(guarded(g2).every((p) => p)).toBe(true);
    const listed = await h.ctx.target.fleet.list();
    expect(listed.map((f) => [f.id, f.role])).toEqual(
      expect.arrayContaining([
        [g1, 'live'],
        [g2, 'standby'],
      ]),
    );
  });

  it('GIVEN a deploy aborted in its bake with --keep-failed WHEN rolling back THEN the failed group is never the target', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    const abort = new AbortController();
    const ctx = { ...h.ctx, keepFailed: true, signal: abort.signal };
    h.ctx.events.subscribe((e) => {
      if (e.code === 'bake.started') abort.abort(new DeploymentFailed('ABORTED', 'aborted'));
    });
    await expect(deploy(ctx, { deployment: 'd-2', version: goodAmi })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(tags(g2)).toMatchObject({ 'cutover:role': 'failed' });
    expect(h.live()).toEqual({ [g1]: 100 });
    // The standby (the base group) gave way to g2, so there is nothing to go back to: say so, move nothing.
    await expect(rollback(h.ctx, 'r-1', () => 'deploy again')).rejects.toMatchObject({ code: 'NO_STANDBY' });
    expect(h.live()).toEqual({ [g1]: 100 });
  });

  it('GIVEN a standby WHEN the plan and the deploy start THEN both say that the standby gives way', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    const lines = await planDeploy(h.ctx, goodAmi);
    expect(lines.find((l) => l.startsWith('UpdateAutoScalingGroup') || l.startsWith('Delete'))).toMatch(
      /standby gives way/,
    );
    h.events.length = 0;
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    expect(h.events.find((e) => e.code === 'deploy.started')?.message).toMatch(/gives way/);
  });
});
