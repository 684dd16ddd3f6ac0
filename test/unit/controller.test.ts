import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { recoverIfInterrupted } from '../../src/controller/recover.js';
import { rollback } from '../../src/controller/rollback.js';
import { shift } from '../../src/controller/shift.js';
import { DeploymentFailed } from '../../src/errors.js';
import { controllerHarness } from '../helpers/controller.js';

let harness: ReturnType<typeof controllerHarness>;
afterEach(() => harness.cleanup());

async function deployed(...versions: string[]) {
  for (const version of versions) await deploy(harness.ctx, { deployment: `d-${version}`, version });
  harness.target.calls = [];
  harness.events.length = 0;
}

describe('deploy', () => {
  it('GIVEN an empty environment WHEN v1 is deployed THEN v1 takes all traffic and nothing is standby', async () => {
    harness = controllerHarness();
    const result = await deploy(harness.ctx, { deployment: 'd-1', version: 'v1' });
    expect(result).toMatchObject({ type: 'deployed', previous: undefined });
    expect(harness.target.liveVersion()).toBe('v1');
    expect(harness.target.calls).toEqual(['launch v1', 'weights v1=100', 'live v1']);
    expect(harness.codes()).toContain('deploy.succeeded');
    expect(harness.journal.latest()?.phase).toBe('succeeded');
  });

  it('GIVEN v1 live WHEN v2 is deployed THEN traffic moves after health passes and v1 stays as standby', async () => {
    harness = controllerHarness();
    await deployed('v1');
    await deploy(harness.ctx, { deployment: 'd-v2', version: 'v2' });
    expect(harness.target.calls).toEqual(['launch v2', 'weights v2=100', 'live v2', 'standby v1']);
    expect(harness.target.liveVersion()).toBe('v2');
    const standby = harness.target.fleets.find((f) => f.version === 'v1');
    expect(standby?.standbyUntil).toBe(harness.clock.now() + harness.ctx.rollbackWindow);
    const codes = harness.codes();
    expect(codes.indexOf('health.passed')).toBeLessThan(codes.indexOf('traffic.shifted'));
    expect(codes.indexOf('bake.passed')).toBeLessThan(codes.indexOf('standby.kept'));
  });

  it('GIVEN a 10-minute bake WHEN deploying THEN the bake is waited in virtual time', async () => {
    harness = controllerHarness();
    const started = harness.clock.now();
    const realStart = Date.now();
    await deploy(harness.ctx, { deployment: 'd-1', version: 'v1' });
    expect(harness.clock.now() - started).toBeGreaterThanOrEqual(600_000);
    expect(Date.now() - realStart).toBeLessThan(5_000);
  });

  it('GIVEN v2 live and v1 standby WHEN v3 is deployed THEN v1 stays until v3 is live, then gives way to v2', async () => {
    harness = controllerHarness();
    await deployed('v1', 'v2');
    await deploy(harness.ctx, { deployment: 'd-v3', version: 'v3' });
    expect(harness.target.calls).toEqual([
      'launch v3',
      'weights v3=100',
      'live v3',
      'standby v2',
      'retire v1',
    ]);
    expect(harness.target.fleets.map((f) => f.version).sort()).toEqual(['v2', 'v3']);
  });

  it('GIVEN v2 live and v1 standby WHEN v3 fails THEN v1 is still the standby and v2 still live', async () => {
    harness = controllerHarness();
    await deployed('v1', 'v2');
    harness.script((version) => (version === 'v3' ? 'fail' : 'pass'));
    await expect(deploy(harness.ctx, { deployment: 'd-v3', version: 'v3' })).rejects.toBeInstanceOf(
      DeploymentFailed,
    );
    expect(harness.target.liveVersion()).toBe('v2');
    expect(harness.target.fleets.map((f) => [f.version, f.role])).toEqual([
      ['v1', 'standby'],
      ['v2', 'live'],
    ]);
  });

  it('GIVEN a target where green takes the place of the standby WHEN v3 is deployed THEN the standby goes first and the start says so', async () => {
    harness = controllerHarness();
    harness.target.standbyGivesWay = true;
    await deployed('v1', 'v2');
    await deploy(harness.ctx, { deployment: 'd-v3', version: 'v3' });
    expect(harness.target.calls).toEqual([
      'retire v1',
      'launch v3',
      'weights v3=100',
      'live v3',
      'standby v2',
    ]);
    const started = harness.events.find((e) => e.code === 'deploy.started');
    expect(started?.message).toMatch(/standby v1 gives way/);
  });

  it('GIVEN green fails its health check WHEN deploying THEN traffic never leaves blue and green is retired', async () => {
    harness = controllerHarness();
    await deployed('v1');
    harness.script((version) => (version === 'broken' ? 'fail' : 'pass'));
    const failure = deploy(harness.ctx, { deployment: 'd-b', version: 'broken' });
    await expect(failure).rejects.toBeInstanceOf(DeploymentFailed);
    await expect(failure).rejects.toMatchObject({ code: 'GREEN_UNHEALTHY' });
    expect(harness.target.calls).toEqual(['launch broken', 'retire broken']);
    expect(harness.target.liveVersion()).toBe('v1');
    expect(harness.codes()).toEqual(
      expect.arrayContaining(['health.failed', 'traffic.restoring', 'deploy.failed']),
    );
    expect(harness.journal.latest()?.phase).toBe('failed');
  });

  it('GIVEN a check that cannot run WHEN deploying THEN it counts as failed', async () => {
    harness = controllerHarness();
    await deployed('v1');
    harness.script((version) => (version === 'v2' ? 'error' : 'pass'));
    await expect(deploy(harness.ctx, { deployment: 'd-2', version: 'v2' })).rejects.toMatchObject({
      code: 'GREEN_UNHEALTHY',
    });
    expect(harness.target.liveVersion()).toBe('v1');
  });

  it('GIVEN green never settles WHEN its ready timeout passes THEN the deploy fails and blue keeps traffic', async () => {
    harness = controllerHarness();
    await deployed('v1');
    // Alternates every round (the interval is 1000 virtual ms): never two passes or two failures in a row.
    harness.script((version, at) =>
      version !== 'slow' || Math.floor(at / 1000) % 2 === 0 ? 'pass' : 'fail',
    );
    await expect(deploy(harness.ctx, { deployment: 'd-s', version: 'slow' })).rejects.toMatchObject({
      code: 'GREEN_NOT_READY',
    });
    expect(harness.target.liveVersion()).toBe('v1');
  });

  it('GIVEN green turns unhealthy during the bake WHEN watched THEN traffic goes back to blue', async () => {
    harness = controllerHarness();
    await deployed('v1');
    const launchedAt = harness.clock.now();
    harness.script((version, at) => (version === 'v2' && at > launchedAt + 120_000 ? 'fail' : 'pass'));
    await expect(deploy(harness.ctx, { deployment: 'd-2', version: 'v2' })).rejects.toMatchObject({
      code: 'GREEN_UNHEALTHY',
    });
    expect(harness.target.calls).toEqual(['launch v2', 'weights v2=100', 'weights v1=100', 'retire v2']);
    expect(harness.target.liveVersion()).toBe('v1');
  });

  it('GIVEN a first deploy fails WHEN rolling back THEN no traffic is sent anywhere', async () => {
    harness = controllerHarness();
    harness.script(() => 'fail');
    await expect(deploy(harness.ctx, { deployment: 'd-1', version: 'v1' })).rejects.toBeInstanceOf(
      DeploymentFailed,
    );
    expect(harness.target.weights).toEqual({});
    expect(harness.target.fleets).toEqual([]);
  });

  it('GIVEN --keep-failed WHEN green fails THEN green is left running and takes no traffic', async () => {
    harness = controllerHarness({ keepFailed: true });
    await deployed('v1');
    harness.script((version) => (version === 'v2' ? 'fail' : 'pass'));
    await expect(deploy(harness.ctx, { deployment: 'd-2', version: 'v2' })).rejects.toBeInstanceOf(
      DeploymentFailed,
    );
    expect(harness.target.fleets.map((f) => [f.version, f.role])).toEqual([
      ['v1', 'live'],
      ['v2', 'failed'],
    ]);
    expect(harness.target.liveVersion()).toBe('v1');
  });

  it('GIVEN green is live WHEN blue cannot be kept as standby THEN the deploy succeeds with a warning', async () => {
    harness = controllerHarness();
    await deployed('v1');
    harness.target.beforeCall = (call) => {
      if (call === 'standby v1') throw new Error('throttled');
    };
    const result = await deploy(harness.ctx, { deployment: 'd-2', version: 'v2' });
    expect(result.version).toBe('v2');
    expect(harness.target.liveVersion()).toBe('v2');
    expect(harness.events.find((e) => e.code === 'standby.unguarded')?.level).toBe('warn');
    expect(harness.journal.latest()?.phase).toBe('succeeded');
  });

  it('GIVEN green baked WHEN it cannot be recorded as live THEN the failure says traffic stays on it and the next command finishes it', async () => {
    harness = controllerHarness();
    await deployed('v1');
    harness.target.beforeCall = (call) => {
      if (call === 'live v2') throw new Error('agent gone');
    };
    await expect(deploy(harness.ctx, { deployment: 'd-2', version: 'v2' })).rejects.toMatchObject({
      code: 'PROMOTE_INCOMPLETE',
      message: expect.stringContaining('took all traffic and passed its bake'),
    });
    expect(harness.target.liveVersion()).toBe('v2');
    harness.target.beforeCall = () => {};
    await recoverIfInterrupted(harness.ctx);
    expect(harness.target.fleets.map((f) => [f.version, f.role])).toEqual([
      ['v1', 'standby'],
      ['v2', 'live'],
    ]);
  });

  it('GIVEN the way back fails too WHEN green fails in its bake THEN it says traffic is not back yet and to run abort', async () => {
    harness = controllerHarness();
    await deployed('v1');
    const launchedAt = harness.clock.now();
    harness.script((version, at) => (version === 'v2' && at > launchedAt + 60_000 ? 'fail' : 'pass'));
    harness.target.beforeCall = (call) => {
      if (call === 'weights v1=100') throw new Error('router gone');
    };
    await expect(deploy(harness.ctx, { deployment: 'd-2', version: 'v2' })).rejects.toMatchObject({
      code: 'ROLLBACK_INCOMPLETE',
      hint: expect.stringContaining('cutover abort'),
    });
    expect(harness.journal.latest()?.phase).toBe('rolling-back');
    harness.target.beforeCall = () => {};
    await recoverIfInterrupted(harness.ctx);
    expect(harness.target.liveVersion()).toBe('v1');
  });

  it('GIVEN v1 serves WHEN traffic is to move to nothing THEN the change is refused and v1 keeps it', async () => {
    harness = controllerHarness();
    await deployed('v1');
    await expect(shift(harness.ctx, {})).rejects.toMatchObject({ code: 'UNSAFE_WEIGHTS' });
    expect(harness.codes()).toContain('traffic.refused');
    expect(harness.target.liveVersion()).toBe('v1');
  });

  it('GIVEN green cannot launch WHEN deploying THEN the failure names it and blue keeps traffic', async () => {
    harness = controllerHarness();
    await deployed('v1');
    harness.target.failLaunch.add('v2');
    await expect(deploy(harness.ctx, { deployment: 'd-2', version: 'v2' })).rejects.toThrow(
      /cannot launch v2/,
    );
    expect(harness.target.liveVersion()).toBe('v1');
  });

  it('GIVEN a deploy is baking WHEN it is aborted THEN the same rollback path puts traffic on blue', async () => {
    const abort = new AbortController();
    harness = controllerHarness({ signal: abort.signal });
    await deployed('v1');
    harness.ctx.events.subscribe((e) => {
      if (e.code === 'bake.started') abort.abort(new DeploymentFailed('ABORTED', 'aborted by SIGTERM'));
    });
    await expect(deploy(harness.ctx, { deployment: 'd-2', version: 'v2' })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(harness.target.calls).toEqual(['launch v2', 'weights v2=100', 'weights v1=100', 'retire v2']);
  });
});

describe('rollback', () => {
  it('GIVEN v2 live and v1 standby WHEN rolling back THEN v1 takes traffic in one change and v2 becomes standby', async () => {
    harness = controllerHarness();
    await deployed('v1', 'v2');
    const result = await rollback(harness.ctx, 'r-1', () => 'deploy v1');
    expect(result).toMatchObject({ from: 'v2', to: 'v1' });
    expect(harness.target.calls).toEqual(['weights v1=100', 'live v1', 'standby v2']);
    expect(harness.target.fleets.find((f) => f.version === 'v1')?.standbyUntil).toBeUndefined();
    expect(harness.target.calls.some((c) => c.startsWith('launch'))).toBe(false);
  });

  it('GIVEN a rollback WHEN rolling back again THEN traffic goes forward to the other fleet', async () => {
    harness = controllerHarness();
    await deployed('v1', 'v2');
    await rollback(harness.ctx, 'r-1', () => '');
    await rollback(harness.ctx, 'r-2', () => '');
    expect(harness.target.liveVersion()).toBe('v2');
  });

  it('GIVEN no standby WHEN rolling back THEN it fails with the redeploy hint and traffic stays', async () => {
    harness = controllerHarness();
    await deployed('v1');
    const failure = rollback(harness.ctx, 'r-1', () => 'deploy it again: cutover deploy … version=v0');
    await expect(failure).rejects.toMatchObject({
      code: 'NO_STANDBY',
      hint: expect.stringContaining('version=v0'),
    });
    expect(harness.target.liveVersion()).toBe('v1');
  });

  it('GIVEN an unhealthy standby WHEN rolling back THEN traffic stays on the live fleet', async () => {
    harness = controllerHarness();
    await deployed('v1', 'v2');
    harness.script((version) => (version === 'v1' ? 'fail' : 'pass'));
    await expect(rollback(harness.ctx, 'r-1', () => '')).rejects.toMatchObject({ code: 'STANDBY_UNHEALTHY' });
    expect(harness.target.liveVersion()).toBe('v2');
    expect(harness.codes()).toContain('rollback.failed');
  });
});

describe('recovery of a killed controller', () => {
  it('GIVEN a deploy died mid-shift WHEN the next command runs THEN it rolls back to blue and stops green', async () => {
    harness = controllerHarness();
    await deployed('v1');
    const [blue] = harness.target.fleets;
    if (!blue) throw new Error('v1 was not deployed');
    const green = await harness.target.fleet.launch({
      id: 'd-dead',
      version: 'v2',
      deployment: 'd-dead',
    });
    harness.journal.record({
      deployment: 'd-dead',
      kind: 'deploy',
      phase: 'started',
      at: 1,
      version: 'v2',
      blue: blue.id,
    });
    harness.journal.record({
      deployment: 'd-dead',
      kind: 'deploy',
      phase: 'shifting',
      at: 2,
      green: green.id,
    });
    await harness.target.router.setWeights({ [green.id]: 100 });
    harness.target.calls = [];

    const recovered = await recoverIfInterrupted(harness.ctx);
    expect(recovered?.deployment).toBe('d-dead');
    expect(harness.target.calls).toEqual(['weights v1=100', 'retire v2']);
    expect(harness.journal.latest()?.phase).toBe('failed');
    expect(harness.codes()).toEqual(expect.arrayContaining(['recovery.started', 'recovery.finished']));
  });

  it('GIVEN a deploy died after green went live WHEN the next command runs THEN it finishes: blue becomes standby', async () => {
    harness = controllerHarness();
    await deployed('v1');
    const [blue] = harness.target.fleets;
    if (!blue) throw new Error('v1 was not deployed');
    const green = await harness.target.fleet.launch({
      id: 'd-live',
      version: 'v2',
      deployment: 'd-live',
    });
    await harness.target.router.setWeights({ [green.id]: 100 });
    harness.journal.record({
      deployment: 'd-live',
      kind: 'deploy',
      phase: 'live',
      at: 3,
      version: 'v2',
      blue: blue.id,
      green: green.id,
    });
    harness.target.calls = [];

    await recoverIfInterrupted(harness.ctx);
    expect(harness.target.calls).toEqual(['live v2', 'standby v1']);
    expect(harness.target.liveVersion()).toBe('v2');
    expect(harness.journal.latest()?.phase).toBe('succeeded');
  });

  /** This runner's journal says d-dead was killed while launching; then another runner, sharing the target, moved on. */
  function killedWhileLaunching(blue: string | undefined) {
    harness.journal.record({
      deployment: 'd-dead',
      kind: 'deploy',
      phase: 'started',
      at: 1,
      version: 'v9',
      ...(blue ? { blue } : {}),
    });
    harness.journal.record({ deployment: 'd-dead', kind: 'deploy', phase: 'launching', at: 2 });
  }
  async function deployedElsewhere(version: string, replacing?: string) {
    const fleet = await harness.target.fleet.launch({
      id: `f-${version}`,
      version,
      deployment: `x-${version}`,
    });
    await harness.target.router.setWeights({ [fleet.id]: 100 });
    await harness.target.fleet.setRole(fleet.id, { role: 'live' });
    if (replacing)
      await harness.target.fleet.setRole(replacing, { role: 'standby', until: Number.MAX_SAFE_INTEGER });
    harness.target.calls = [];
  }

  it('GIVEN a deploy killed while launching, after which another runner deployed v2 WHEN its runner runs its next command THEN v2 keeps the traffic', async () => {
    harness = controllerHarness();
    await deployed('v1');
    const [blue] = harness.target.fleets;
    if (!blue) throw new Error('v1 was not deployed');
    killedWhileLaunching(blue.id);
    await deployedElsewhere('v2', blue.id);

    const recovered = await recoverIfInterrupted(harness.ctx);
    expect(recovered?.outcome).toBe('nothing-moved');
    expect(harness.target.liveVersion()).toBe('v2');
    expect(harness.target.calls).toEqual([]);
    expect(harness.journal.latest()).toMatchObject({
      phase: 'failed',
      reason: expect.stringContaining('settled elsewhere'),
    });
  });

  it('GIVEN the first deploy killed while launching, after which another runner deployed v1 WHEN its runner runs its next command THEN v1 keeps the traffic', async () => {
    harness = controllerHarness();
    killedWhileLaunching(undefined);
    await deployedElsewhere('v1');

    const recovered = await recoverIfInterrupted(harness.ctx);
    expect(recovered?.outcome).toBe('nothing-moved');
    expect(harness.target.liveVersion()).toBe('v1');
    expect(harness.target.calls).toEqual([]);
  });

  it('GIVEN a deploy killed while launching and nothing else happened WHEN the next command runs THEN traffic stays on blue', async () => {
    harness = controllerHarness();
    await deployed('v1');
    const [blue] = harness.target.fleets;
    if (!blue) throw new Error('v1 was not deployed');
    killedWhileLaunching(blue.id);

    const recovered = await recoverIfInterrupted(harness.ctx);
    expect(recovered?.outcome).toBe('undone');
    expect(harness.target.liveVersion()).toBe('v1');
  });

  it('GIVEN the last deployment finished WHEN checking for recovery THEN nothing is done', async () => {
    harness = controllerHarness();
    await deployed('v1');
    expect(await recoverIfInterrupted(harness.ctx)).toBeUndefined();
    expect(harness.target.calls).toEqual([]);
  });
});
