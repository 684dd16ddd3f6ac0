import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { recoverIfInterrupted } from '../../src/controller/recover.js';
import { controllerHarness } from '../helpers/controller.js';

/** Canary and linear on the in-memory target, in virtual time: the controller runs the steps. */

let harness: ReturnType<typeof controllerHarness>;
afterEach(() => harness.cleanup());

const minute = 60_000;

async function v1Live(): Promise<void> {
  await deploy(harness.ctx, { deployment: 'd-v1', version: 'v1' });
  harness.target.calls = [];
  harness.events.length = 0;
}

describe('progressive strategies', () => {
  it('GIVEN a canary of 10, 50, 100 WHEN v2 stays healthy THEN traffic moves in those steps, each watched, and the journal records each step', async () => {
    harness = controllerHarness({ strategy: { name: 'canary', steps: [10, 50, 100], stepBake: 5 * minute } });
    await v1Live();
    const started = harness.clock.now();
    await deploy(harness.ctx, { deployment: 'd-v2', version: 'v2' });
    expect(harness.target.calls.filter((c) => c.startsWith('weights'))).toEqual([
      'weights v2=10,v1=90',
      'weights v2=50,v1=50',
      'weights v2=100',
    ]);
    const watching = harness.events.filter((e) => e.code === 'shift.watching');
    expect(watching.map((e) => [e.fields.weight, e.fields.ms])).toEqual([
      [10, 5 * minute],
      [50, 5 * minute],
    ]);
    // Two step bakes and the bake at 100%, in virtual time.
    expect(harness.clock.now() - started).toBeGreaterThanOrEqual(10 * minute + harness.ctx.bake);
    expect(harness.target.liveVersion()).toBe('v2');
  });

  it('GIVEN a canary WHEN v2 turns unhealthy at 10% THEN traffic goes back to v1 through the one rollback path and it never reached 50%', async () => {
    harness = controllerHarness({ strategy: { name: 'canary', steps: [10, 50, 100], stepBake: 5 * minute } });
    await v1Live();
    const launchedAt = harness.clock.now();
    harness.script((version, at) => (version === 'v2' && at > launchedAt + 2 * minute ? 'fail' : 'pass'));
    await expect(deploy(harness.ctx, { deployment: 'd-v2', version: 'v2' })).rejects.toMatchObject({
      code: 'GREEN_UNHEALTHY',
    });
    const shifts = harness.target.calls.filter((c) => c.startsWith('weights'));
    expect(shifts).toEqual(['weights v2=10,v1=90', 'weights v1=100']);
    expect(harness.target.liveVersion()).toBe('v1');
    expect(harness.journal.latest()).toMatchObject({ phase: 'failed', step: 0 });
  });

  it('GIVEN steps shorter than the checks need to decide WHEN green fails one check a step THEN the failures add up across steps and it goes back to blue', async () => {
    // interval 1 s and 2 failures to be unhealthy: a 500 ms step holds one check round.
    harness = controllerHarness({
      strategy: { name: 'linear', step: 10, interval: 500 },
      bake: 500,
    });
    await v1Live();
    let passed = 0;
    harness.script((version) => {
      if (version !== 'v2') return 'pass';
      passed += 1;
      return passed <= 4 ? 'pass' : 'fail'; // healthy at first (2 instances × 2 passes), then failing
    });
    await expect(deploy(harness.ctx, { deployment: 'd-v2', version: 'v2' })).rejects.toMatchObject({
      code: 'GREEN_UNHEALTHY',
    });
    expect(harness.target.liveVersion()).toBe('v1');
    expect(harness.target.calls.filter((c) => c.startsWith('weights')).at(-1)).toBe('weights v1=100');
  });

  it('GIVEN linear 25% a minute WHEN it runs THEN it moves 25, 50, 75, 100', async () => {
    harness = controllerHarness({ strategy: { name: 'linear', step: 25, interval: minute } });
    await v1Live();
    await deploy(harness.ctx, { deployment: 'd-v2', version: 'v2' });
    expect(harness.target.calls.filter((c) => c.startsWith('weights'))).toEqual([
      'weights v2=25,v1=75',
      'weights v2=50,v1=50',
      'weights v2=75,v1=25',
      'weights v2=100',
    ]);
  });

  it('GIVEN a canary whose controller dies at 50% WHEN the next command runs THEN all traffic goes back to v1 and green is retired', async () => {
    harness = controllerHarness({ strategy: { name: 'canary', steps: [10, 50, 100], stepBake: 5 * minute } });
    await v1Live();
    // The controller stops answering at the 50% step, as a killed process would: its probe never returns.
    let dead = false;
    harness.ctx.events.subscribe((e) => {
      if (e.code === 'shift.watching' && e.fields.weight === 50) dead = true;
    });
    const probe = harness.ctx.probe;
    const dying = {
      ...harness.ctx,
      probe: (t: Parameters<typeof probe>[0]) => (dead ? new Promise<never>(() => {}) : probe(t)),
    };
    void deploy(dying, { deployment: 'd-v2', version: 'v2' });
    for (let i = 0; !dead && i < 10_000; i += 1) await new Promise((r) => setImmediate(r));
    expect(harness.journal.latest()).toMatchObject({ deployment: 'd-v2', phase: 'shifting', step: 2 });

    await recoverIfInterrupted(harness.ctx);
    expect(harness.target.calls.filter((c) => c.startsWith('weights'))).toEqual([
      'weights v2=10,v1=90',
      'weights v2=50,v1=50',
      'weights v1=100',
    ]);
    expect(harness.target.calls).toContain('retire v2');
    expect(harness.target.liveVersion()).toBe('v1');
  });
});

describe('waits where reading requests is a round trip (hosts: SSH to the load balancer host)', () => {
  /** Requests that take `ms` of the clock to read, as a slow link would, or that cannot be read at all. */
  function slowIntents(ms: number, failing = false) {
    return {
      send: async () => {},
      reply: async () => {},
      read: async () => {
        harness.clock.advance(ms);
        if (failing) throw new Error('the SSH connection to 10.0.0.10:22 was lost');
        return {};
      },
    };
  }
  const timeOf = (code: string) => harness.events.find((e) => e.code === code)?.time ?? NaN;

  it('GIVEN a 10 s bake and 800 ms to read requests each round WHEN v2 deploys THEN the bake lasts 10 s of the clock, not 18', async () => {
    harness = controllerHarness({ bake: 10_000 });
    harness.ctx.intents = slowIntents(800);
    await deploy(harness.ctx, { deployment: 'd-v1', version: 'v1' });
    harness.events.length = 0;
    await deploy(harness.ctx, { deployment: 'd-v2', version: 'v2' });
    const baked = timeOf('bake.passed') - timeOf('bake.started');
    expect(baked).toBeGreaterThanOrEqual(10_000);
    expect(baked).toBeLessThan(10_000 + 1000 + 800 + 1);
  });

  it('GIVEN requests that cannot be read WHEN v2 bakes THEN that is said once, and the deploy goes on', async () => {
    harness = controllerHarness({ bake: 10_000 });
    harness.ctx.intents = slowIntents(0, true);
    await deploy(harness.ctx, { deployment: 'd-v1', version: 'v1' });
    harness.events.length = 0;
    await deploy(harness.ctx, { deployment: 'd-v2', version: 'v2' });
    const said = harness.events.filter((e) => e.message.startsWith('could not read requests'));
    expect(said).toHaveLength(1);
    expect(harness.target.liveVersion()).toBe('v2');
  });
});
