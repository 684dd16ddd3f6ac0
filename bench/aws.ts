import { deploy } from '../src/controller/deploy.js';
import { awsHarness } from '../test/aws/harness.js';
import { goodAmi, goodAmi2 } from '../test/aws/fixtures.js';

/**
 * npm run bench:aws — a normal 4-instance deploy against the fake account, in virtual time. Prints the
 * API calls by operation and how much longer the deploy took than the ideal wait: instances launching,
 * targets passing healthyThreshold checks, and the bake.
 */
async function main(): Promise<void> {
  for (const throttleRate of [0, 0.5]) {
    const h = awsHarness({
      throttleRate,
      baseInstances: 4,
      env: { capacity: '{ min: 4, max: 8, desired: 4 }' },
    });
    try {
      await deploy(h.ctx, { deployment: 'd-warm', version: goodAmi2 });
      h.account.calls.clear();
      const started = h.clock.now();
      await deploy(h.ctx, { deployment: 'd-bench', version: goodAmi });
      const took = h.clock.now() - started;
      const tg = h.account.targetGroups.values().next().value;
      if (!tg) throw new Error('no target group');
      const ideal = h.account.launchDelayMs + tg.healthyThreshold * tg.intervalMs + h.ctx.bake;
      console.log(`\n== Deploy of 4 instances, ${throttleRate * 100}% of calls throttled (virtual time) ==`);
      const rows = [...h.account.calls].sort((a, b) => b[1] - a[1]);
      for (const [operation, count] of rows)
        console.log(`${operation.padEnd(30)} ${String(count).padStart(4)}`);
      const total = rows.filter(([op]) => op !== '(throttled)').reduce((sum, [, n]) => sum + n, 0);
      console.log(`${'total calls'.padEnd(30)} ${String(total).padStart(4)}`);
      console.log(
        `ideal wait ${(ideal / 1000).toFixed(0)} s (launch ${h.account.launchDelayMs / 1000} s + ${tg.healthyThreshold} × ${tg.intervalMs / 1000} s health + bake ${h.ctx.bake / 1000} s); ` +
          `deploy took ${(took / 1000).toFixed(0)} s; overhead ${((took - ideal) / 1000).toFixed(0)} s (${(((took - ideal) / ideal) * 100).toFixed(1)}%)`,
      );
    } finally {
      h.cleanup();
    }
  }
}

await main();
