import { afterEach, describe, expect, it } from 'vitest';
import { underLock } from '../../src/controller/locked.js';
import type { ServiceRuntime } from '../../src/controller/runtime.js';
import { DeploymentFailed } from '../../src/errors.js';
import { controllerHarness } from '../helpers/controller.js';

let harness: ReturnType<typeof controllerHarness>;
afterEach(() => harness.cleanup());

/** A runtime whose target's lock (every runner's) cannot be released: its host went away meanwhile. */
function runtimeWithUnreleasableLock(): ServiceRuntime {
  harness = controllerHarness();
  Object.assign(harness.target, {
    lock: async () => async () => {
      throw new Error('the SSH connection to `10.0.0.10:22` was lost');
    },
  });
  return {
    service: { artifact: 'catalog', environment: 'test' },
    stateDir: harness.stateDir,
    ctx: harness.ctx,
    stopsOnSignal: true,
  } as unknown as ServiceRuntime; // only what underLock reads
}

describe('underLock', () => {
  it('GIVEN a failed deploy whose shared lock cannot be released THEN the deploy failure is what the caller gets, and the release failure is said with the unlock command', async () => {
    const runtime = runtimeWithUnreleasableLock();
    const failure = new DeploymentFailed(
      'ROLLBACK_INCOMPLETE',
      'traffic could not be put back',
      'run cutover abort',
    );
    await expect(
      underLock(runtime, { deployment: 'd-1', command: 'deploy' }, {}, async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    const said = harness.events.find((e) => e.message.startsWith('could not release the lock'));
    expect(said?.message).toContain('cutover unlock artifact=catalog environment=test deployment=d-1');
  });

  it('GIVEN a deploy that succeeded WHEN the shared lock cannot be released THEN its result still stands', async () => {
    const runtime = runtimeWithUnreleasableLock();
    await expect(
      underLock(runtime, { deployment: 'd-2', command: 'deploy' }, {}, async () => 'deployed'),
    ).resolves.toBe('deployed');
  });
});
