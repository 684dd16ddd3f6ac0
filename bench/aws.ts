import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deploy } from '../src/controller/deploy.js';
import { reportHtml } from '../src/report/html.js';
import { timelineOf } from '../src/report/timeline.js';
import { printReports, reportsDir } from './lib.js';
import { awsHarness } from '../test/aws/harness.js';
import { goodAmi, goodAmi2 } from '../test/aws/fixtures.js';

/**
 * npm run bench:aws — a normal 4-instance deploy against the fake account, in virtual time. Prints the
 * API calls by operation and how much longer the deploy took than the ideal wait: instances launching,
 * targets passing healthyThreshold checks, and the bake.
 */
async function main(): Promise<void> {
  const reports: string[] = [];
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
      // The deploy's report, from the journal this run wrote (its times are the virtual clock's).
      const timeline = timelineOf(h.ctx.journal.entries('d-bench'));
      if (timeline) {
        mkdirSync(reportsDir, { recursive: true });
        const path = join(reportsDir, `aws-throttled-${throttleRate * 100}.html`);
        writeFileSync(path, reportHtml(timeline, { artifact: 'catalog', environment: 'bench (fake aws)' }));
        reports.push(path);
      }
    } finally {
      h.cleanup();
    }
  }
  printReports(reports);
}

await main();
