import { afterEach, describe, expect, it } from 'vitest';
import { abandonUnfinished } from '../../src/controller/abandon.js';
import { deploy } from '../../src/controller/deploy.js';
import { recoverIfInterrupted } from '../../src/controller/recover.js';
import { rollback } from '../../src/controller/rollback.js';
import { DeploymentFailed } from '../../src/errors.js';
import { awsHarness } from './harness.js';
import { baseGroup, goodAmi, goodAmi2, launchFailAmi } from './fixtures.js';

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

const tags = (name: string) => Object.fromEntries(h.account.groups.get(name)?.tags ?? []);

/** Runner ci-1 dies once its deploy reaches the bake: its journal is left unfinished on its disk. */
async function killedInBake(version: string, deployment: string) {
  h.ctx.events.subscribe((e) => {
    if (e.code === 'bake.started' && h.account.dieAfterCalls === undefined)
      h.account.dieAfterCalls = h.account.log.length;
  });
  await expect(deploy(h.ctx, { deployment, version })).rejects.toThrow();
  h.account.dieAfterCalls = undefined;
}

describe('aws: an old journal on one runner never undoes what another runner did since', () => {
  it('GIVEN ci-1 died in a bake, ci-2 aborted it and deployed WHEN ci-1 runs its next command THEN ci-2 live version keeps the traffic', async () => {
    h = awsHarness();
    await killedInBake(goodAmi2, 'd-1');
    const ci2 = h.runner('ci-2');
    expect(await abandonUnfinished(ci2.ctx)).toBe('d-1');
    await deploy(ci2.ctx, { deployment: 'd-2', version: goodAmi });
    const live = Object.keys(h.live())[0] ?? '';
    const recovered = await recoverIfInterrupted(h.ctx);
    expect(recovered?.outcome).toBe('nothing-moved');
    expect(h.live()).toEqual({ [live]: 100 });
    expect(tags(live)).toMatchObject({ 'cutover:role': 'live' });
    expect(tags(baseGroup)).toMatchObject({ 'cutover:role': 'standby' });
  });
});

describe('aws: retiring a group', () => {
  it('GIVEN a standby waiting out its settle time WHEN another runner rolls back onto it meanwhile THEN it is not deleted', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    await rollback(h.ctx, 'r-0', () => ''); // traffic just left g2 on this runner: retiring it waits
    const g2 = `${baseGroup}-g2`;
    const ci2 = h.runner('ci-2');
    const sleep = h.clock.sleep.bind(h.clock);
    let first = true;
    h.clock.sleep = async (ms, signal) => {
      if (first) {
        first = false;
        await rollback(ci2.ctx, 'r-1', () => '');
      }
      return sleep(ms, signal);
    };
    await expect(h.ctx.target.fleet.retire(g2)).rejects.toMatchObject({ code: 'RETIRE_LIVE' });
    expect(h.live()).toEqual({ [g2]: 100 });
    expect(h.account.groups.get(g2)?.deleting).toBeUndefined();
  });

  it('GIVEN a kept failed group with no instance WHEN the response to its delete is lost THEN the retried delete counts as done', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await expect(
      deploy({ ...h.ctx, keepFailed: true }, { deployment: 'd-2', version: launchFailAmi }),
    ).rejects.toBeInstanceOf(DeploymentFailed);
    h.account.lostResponses.set('DeleteAutoScalingGroup', 1);
    await deploy(h.ctx, { deployment: 'd-3', version: goodAmi });
    const live = Object.keys(h.live())[0] ?? '';
    expect(tags(live)).toMatchObject({ 'cutover:version': goodAmi, 'cutover:role': 'live' });
  });
});

describe('aws: cutover abort from another runner while the deploy still runs', () => {
  const ticks = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
  };

  // Swept over when the abort lands: before launch, in the checks, in the bake, while roles are set.
  // The deploy used to promote a group being deleted and exit 0, traffic left on a group tagged standby.
  it('GIVEN ci-1 deploys d-3 WHEN ci-2 aborts at any point THEN traffic and the live tag are on one group, and a deploy undone under it fails', async () => {
    const undoneInFlight: number[] = [];
    for (let n = 0; n <= 40; n += 2) {
      h = awsHarness();
      await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
      await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
      await rollback(h.ctx, 'r-0', () => '');
      h.clock.advance(5 * 60_000);
      const ci1 = h.runner('ci-1b');
      const ci2 = h.runner('ci-2');
      const [deployed, aborted] = await Promise.allSettled([
        deploy(ci1.ctx, { deployment: 'd-3', version: goodAmi2 }),
        (async () => {
          await ticks(n);
          return abandonUnfinished(ci2.ctx);
        })(),
      ]);
      const live = Object.keys(h.live());
      expect(live, `abort after ${n} turns`).toHaveLength(1);
      expect(tags(live[0] ?? ''), `abort after ${n} turns`).toMatchObject({ 'cutover:role': 'live' });
      if (aborted.status === 'fulfilled' && aborted.value === 'd-3') {
        expect(deployed.status, `abort after ${n} turns`).toBe('rejected');
        // Said at once, not after polling a group being deleted until the ready timeout.
        expect(deployed, `abort after ${n} turns`).not.toMatchObject({
          reason: { code: 'FLEET_START_TIMEOUT' },
        });
        if (ci1.codes().includes('bake.started')) undoneInFlight.push(n);
      }
      ci1.cleanup();
      ci2.cleanup();
      h.cleanup();
    }
    expect(undoneInFlight.length).toBeGreaterThan(0);
    h = awsHarness(); // for afterEach
  });
});

describe('aws: a rollback killed between moving traffic and recording roles', () => {
  it('GIVEN ci-1 died right after its rollback moved traffic WHEN ci-2 rolls back THEN roles are put right first and ci-2 goes forward again', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    h.ctx.events.subscribe((e) => {
      if (e.code === 'traffic.shifted' && h.account.dieAfterCalls === undefined)
        h.account.dieAfterCalls = h.account.log.length;
    });
    await expect(rollback(h.ctx, 'r-1', () => '')).rejects.toThrow();
    h.account.dieAfterCalls = undefined;
    const [g1, g2] = [`${baseGroup}-g1`, `${baseGroup}-g2`];
    expect(h.live()).toEqual({ [g1]: 100 });
    expect(tags(g1)).toMatchObject({ 'cutover:role': 'standby' }); // what the killed rollback left

    const ci2 = h.runner('ci-2');
    await rollback(ci2.ctx, 'r-2', () => '');
    expect(ci2.codes()).toContain('roles.repaired');
    expect(h.live()).toEqual({ [g2]: 100 });
    expect(tags(g2)).toMatchObject({ 'cutover:role': 'live' });
    expect(tags(g1)).toMatchObject({ 'cutover:role': 'standby' });
    expect(h.account.groups.get(g1)?.instances.every((i) => i.protectedFromScaleIn)).toBe(true);
    ci2.cleanup();
  });
});
