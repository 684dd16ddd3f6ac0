import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  abort,
  deploy,
  exitCodeOf,
  plan,
  rollback,
  status,
  type CutoverEvent,
  type DeployOptions,
  type DeployResult,
} from '../../src/index.js';
import { cli, project } from '../helpers/cli.js';
import { stopAgent } from '../helpers/local.js';

let p: Awaited<ReturnType<typeof project>>;
afterEach(async () => {
  await stopAgent(join(p.dir, '.cutover'));
  p.remove();
});

function service(env: NodeJS.ProcessEnv = {}) {
  return {
    artifact: 'catalog',
    environment: 'e2e',
    config: join(p.dir, 'cutover.config.yaml'),
    env: { ...process.env, ...env },
  };
}

/** Narrows a result to one type, failing the test with the whole result when it is another. */
function expectType<R extends { type: string }, T extends R['type']>(
  result: R,
  type: T,
): Extract<R, { type: T }> {
  expect(result).toMatchObject({ type });
  return result as Extract<R, { type: T }>;
}

describe('the library (import from cutover)', () => {
  it('deploys, reports events as they happen, reads status, and rolls back, with typed results', async () => {
    p = await project();
    const events: CutoverEvent[] = [];
    const first = expectType(
      await deploy({ ...service(), version: 'v1', onEvent: (e) => events.push(e) }),
      'deployed',
    );
    expect(first).toMatchObject({ version: 'v1', previous: null });
    expect(exitCodeOf(first)).toBe(0);
    const codes = events.map((e) => e.code);
    expect(codes.indexOf('deploy.started')).toBeLessThan(codes.indexOf('traffic.shifted'));
    expect(codes.at(-1)).toBe('deploy.succeeded');
    expect(events.every((e) => e.fields.artifact === 'catalog' && e.fields.environment === 'e2e')).toBe(true);

    const second = expectType(await deploy({ ...service(), version: 'v2' }), 'deployed');
    expect(second.previous).toBe('v1');
    expect(second.deployment).not.toBe(first.deployment);

    const now = expectType(await status(service()), 'status');
    expect(now.serving).toBe(true);
    expect(now.status.live?.version).toBe('v2');
    expect(now.status.standby?.version).toBe('v1');

    const planned = expectType(await plan({ ...service(), version: 'v3' }), 'planned');
    expect(planned.calls.length).toBeGreaterThan(0);

    const back = expectType(await rollback(service()), 'rolled-back');
    expect(back).toMatchObject({ from: 'v2', to: 'v1' });
    expect(expectType(await status(service()), 'status').status.live?.version).toBe('v1');
  });

  it('resolves a failed deploy as `failed` with its phase and where traffic is, never throwing', async () => {
    p = await project();
    expectType(await deploy({ ...service(), version: 'v1' }), 'deployed');
    const failed = expectType(await deploy({ ...service(), version: 'broken' }), 'failed');
    expect(failed.code).toMatch(/HEALTH|READY|START/);
    expect(failed.phase).toMatch(/launching|checking/);
    expect(failed.trafficOn).toBe('v1');
    expect(failed.deployment).toMatch(/^d-/);
    expect(failed.version).toBe('broken');
    expect(failed.hint).toBeTruthy();
    expect(exitCodeOf(failed)).toBe(1);
  });

  it('rejects bad input before anything changes, and says who holds the lock', async () => {
    p = await project();
    const unknown = expectType(await deploy({ ...service(), artifact: 'nope', version: 'v1' }), 'rejected');
    expect(unknown.code).toBe('ARTIFACT_UNKNOWN');
    expect(exitCodeOf(unknown)).toBe(2);
    expect(expectType(await deploy({ ...service(), version: '../v1' }), 'rejected').code).toBe(
      'VERSION_INVALID',
    );

    // A long bake keeps the first deploy holding the lock while the second asks for it.
    expectType(await deploy({ ...service(), version: 'v1' }), 'deployed');
    const long = service({ BAKE: '30s' });
    const stop = new AbortController();
    let baking: () => void = () => {};
    const bakeStarted = new Promise<void>((resolve) => (baking = resolve));
    const running = deploy({
      ...long,
      version: 'v2',
      signal: stop.signal,
      onEvent: (e) => e.code === 'bake.started' && baking(),
    });
    await bakeStarted;
    const locked = expectType(await deploy({ ...long, version: 'v3' }), 'locked');
    expect(locked.holder?.deployment).toMatch(/^d-/);
    expect(locked.holder?.command).toBe('deploy');
    expect(exitCodeOf(locked)).toBe(3);

    // The AbortSignal stops the deploy mid-bake: traffic goes back to v1.
    stop.abort();
    const aborted: DeployResult = await running;
    const failure = expectType(aborted, 'failed');
    expect(failure).toMatchObject({ code: 'ABORTED', phase: 'baking', trafficOn: 'v1' });
    expect(expectType(await status(service()), 'status').status.live?.version).toBe('v1');
    expect(expectType(await abort(service()), 'rejected').code).toBe('NOTHING_TO_ABORT');
  });

  it('is stopped by `cutover abort` through a request, not a signal that would kill its host, and goes back to blue', async () => {
    p = await project();
    expectType(await deploy({ ...service(), version: 'v1' }), 'deployed');
    let baking: () => void = () => {};
    const bakeStarted = new Promise<void>((resolve) => (baking = resolve));
    const running = deploy({
      ...service({ BAKE: '30s' }),
      version: 'v2',
      onEvent: (e) => e.code === 'bake.started' && baking(),
    });
    await bakeStarted;
    // Before the fix, abort sent SIGTERM to the lock's holder: this test's own process.
    const aborted = await cli(p.dir, ['abort', 'artifact=catalog', 'environment=e2e', '--json']);
    expect(aborted.code, aborted.stderr).toBe(0);
    expect(JSON.parse(aborted.stdout)).toMatchObject({
      result: 'aborted',
      liveVersion: 'v1',
      weights: { v1: 100 },
    });
    expect(expectType(await running, 'failed')).toMatchObject({
      code: 'ABORTED',
      phase: 'baking',
      trafficOn: 'v1',
    });
  });

  it('starts nothing for a signal aborted before the call, and rejects options that are not what the types say', async () => {
    p = await project();
    const early = expectType(
      await deploy({ ...service(), version: 'v1', signal: AbortSignal.abort() }),
      'failed',
    );
    expect(early.code).toBe('ABORTED');
    const after = expectType(await status(service()), 'status');
    expect(after.status.fleets).toEqual([]);
    expect(after.status.lastDeployment).toBeNull();
    // JavaScript callers: a number for a version, no options at all, a signal that is not one.
    const numeric = await deploy({ ...service(), version: 2 as unknown as string });
    expect(expectType(numeric, 'rejected')).toMatchObject({
      code: 'OPTION_INVALID',
      reason: expect.stringMatching(/version/),
    });
    expect(expectType(await deploy(null as unknown as DeployOptions), 'rejected').code).toBe(
      'OPTION_INVALID',
    );
    const notSignal = await deploy({ ...service(), version: 'v1', signal: {} as AbortSignal });
    expect(expectType(notSignal, 'rejected').code).toBe('OPTION_INVALID');
  });
});
