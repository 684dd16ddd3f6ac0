import { afterEach } from 'vitest';
import { describeTargetContract } from '../contract/target-contract.js';
import { awsHarness } from './harness.js';
import { goodAmi, goodAmi2 } from './fixtures.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

// The base group is scaled to zero here, so the environment starts with no fleet, as the contract wants.
describeTargetContract('aws (fake account)', async () => {
  const h = awsHarness({ baseInstances: 0, env: { capacity: '{ min: 2, max: 2, desired: 2 }' } });
  cleanup = h.cleanup;
  return {
    target: h.ctx.target,
    versions: [goodAmi, goodAmi2],
    deadline: () => h.clock.now() + 20 * 60_000,
    cleanup: async () => {},
  };
});
