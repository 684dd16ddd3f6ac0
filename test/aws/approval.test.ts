import { afterEach, describe, expect, it } from 'vitest';
import { continueDeploy, deploy } from '../../src/controller/deploy.js';
import { claimParked, findParked, settleParked } from '../../src/controller/parked.js';
import { recoverIfInterrupted } from '../../src/controller/recover.js';
import { askRunningDeployToAbort } from '../../src/controller/abort-remote.js';
import { awsHarness } from './harness.js';
import { goodAmi, goodAmi2 } from './fixtures.js';

/** Gates and requests across runners: what one runner records on the green group, another acts on. */

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

const tick = () => new Promise((r) => setImmediate(r));
const gate = (atWeight: number) =>
  `{ name: canary, steps: [10, 100], stepBake: 5m, approval: { atWeight: ${atWeight}, timeout: 1h } }`;

async function v1Live(): Promise<void> {
  await deploy({ ...h.ctx, strategy: { name: 'all-at-once' } }, { deployment: 'd-1', version: goodAmi2 });
}

describe('aws: a deploy detached at its pre-traffic gate', () => {
  it('GIVEN deploy --detach on one runner WHEN a runner with no journal promotes it THEN that runner goes on with it to live, and the first runner journal learns how it ended', async () => {
    h = awsHarness({ env: { strategy: gate(0) } });
    await v1Live();
    const parkedAt = await deploy(h.ctx, { deployment: 'd-2', version: goodAmi, detach: true });
    expect(parkedAt).toMatchObject({ type: 'awaiting-approval', deployment: 'd-2' });
    const green = [...h.account.groups.values()].find((g) => g.tags.get('cutover:deployment') === 'd-2');
    expect(green?.tags.get('cutover:note:phase')).toBe('awaiting-approval');
    expect(Object.values(h.live())).toEqual([100]);

    const ci2 = h.runner('ci-2');
    const parked = await findParked(ci2.ctx);
    expect(parked).toMatchObject({ deployment: 'd-2', version: goodAmi, step: 0 });
    if (!parked) return;
    await claimParked(ci2.ctx, parked, 'claim-ci2');
    const result = await continueDeploy(ci2.ctx, parked, false);
    expect(result).toMatchObject({ type: 'deployed', previous: goodAmi2 });
    expect(ci2.codes()).toEqual(
      expect.arrayContaining(['traffic.shifted', 'shift.watching', 'deploy.succeeded']),
    );
    expect(green?.tags.get('cutover:role')).toBe('live');

    expect(await recoverIfInterrupted(h.ctx)).toBeUndefined();
    expect(h.ctx.journal.latest()).toMatchObject({ deployment: 'd-2', phase: 'succeeded' });
  });

  it('GIVEN a detached deploy WHEN another runner deploys THEN it exits 3 naming it, and once the gate has closed it undoes it first', async () => {
    h = awsHarness({ env: { strategy: gate(0) } });
    await v1Live();
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi, detach: true });
    const ci2 = h.runner('ci-2');
    await expect(settleParked(ci2.ctx)).rejects.toMatchObject({ code: 'DEPLOY_AWAITING_APPROVAL' });
    h.clock.advance(61 * 60_000);
    await settleParked(ci2.ctx);
    expect(ci2.codes()).toContain('recovery.finished');
    const green = [...h.account.groups.values()].find((g) => g.tags.get('cutover:deployment') === 'd-2');
    expect(green === undefined || green.deleting !== undefined || green.instances.length === 0).toBe(true);
    expect(await findParked(ci2.ctx)).toBeUndefined();
  });

  it('GIVEN two runners promote the same detached deploy at once THEN only one goes on with it', async () => {
    h = awsHarness({ env: { strategy: gate(0) } });
    await v1Live();
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi, detach: true });
    const [a, b] = [h.runner('ci-2'), h.runner('ci-3')];
    const [pa, pb] = await Promise.all([findParked(a.ctx), findParked(b.ctx)]);
    if (!pa || !pb) throw new Error('not parked');
    const claims = await Promise.allSettled([
      claimParked(a.ctx, pa, 'claim-a'),
      claimParked(b.ctx, pb, 'claim-b'),
    ]);
    expect(claims.filter((c) => c.status === 'fulfilled')).toHaveLength(1);
    expect(claims.find((c) => c.status === 'rejected')).toMatchObject({
      reason: { code: 'DEPLOY_IN_PROGRESS' },
    });
  });
});

describe('aws: requests from another runner to a running deploy', () => {
  it('GIVEN a canary waiting at its 10% gate on one runner WHEN another runner promotes it THEN the deploy goes on and answers on the green group', async () => {
    h = awsHarness({ env: { strategy: gate(10) } });
    await v1Live();
    const running = deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    while (!h.codes().includes('approval.waiting')) await tick();
    const ci2 = h.runner('ci-2');
    await ci2.ctx.intents?.send('d-2', { id: 'i-1', kind: 'promote', at: h.clock.now(), by: 'ops' });
    await expect(running).resolves.toMatchObject({ type: 'deployed' });
    expect(await ci2.ctx.intents?.read('d-2')).toMatchObject({ reply: { id: 'i-1', done: true } });
  });

  it('GIVEN a canary at 10% on one runner WHEN another runner asks it to abort THEN traffic goes back to blue within a check interval', async () => {
    h = awsHarness({ env: { strategy: gate(10) } });
    await v1Live();
    const before = h.live();
    const running = deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    while (!h.codes().includes('approval.waiting')) await tick();
    const asked = h.clock.now();
    await h.runner('ci-2').ctx.intents?.send('d-2', { id: 'i-1', kind: 'abort', at: asked, by: 'ops' });
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
    expect(h.live()).toEqual(before);
  });

  it('GIVEN cutover abort on another runner WHEN the deploy runs THEN it is asked to go back itself and abort waits until it has; with no deploy running, abort is told nobody answered', async () => {
    h = awsHarness({ env: { strategy: gate(10) } });
    await v1Live();
    const before = h.live();
    const running = deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    while (!h.codes().includes('approval.waiting')) await tick();
    const ci2 = h.runner('ci-2');
    const green = (await ci2.ctx.target.fleet.list()).find((f) => f.inProgress);
    if (!green) throw new Error('no green');
    const [asked] = await Promise.all([
      askRunningDeployToAbort(ci2.ctx, green, ci2.ctx.signal),
      expect(running).rejects.toMatchObject({ code: 'ABORTED' }),
    ]);
    expect(asked).toBe(true);
    expect(h.live()).toEqual(before);
  });

  it('GIVEN a green whose controller died mid-canary WHEN cutover abort asks it to stop THEN nobody answers and abort is told so, to undo it itself', async () => {
    h = awsHarness({ env: { strategy: gate(10) } });
    await v1Live();
    const calls = h.account.log.length;
    // The controller dies at its first wait's sleep at the gate (AWS calls after it fail).
    const running = deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    while (!h.codes().includes('approval.waiting')) await tick();
    h.account.dieAfterCalls = h.account.log.length;
    await expect(running).rejects.toThrow();
    h.account.dieAfterCalls = undefined;
    expect(h.account.log.length).toBeGreaterThan(calls);
    const ci2 = h.runner('ci-2');
    const green = (await ci2.ctx.target.fleet.list()).find((f) => f.inProgress);
    if (!green) throw new Error('no green left by the dead controller');
    expect(await askRunningDeployToAbort(ci2.ctx, green, ci2.ctx.signal)).toBe(false);
  });
});
