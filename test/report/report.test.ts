import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { reportHtml } from '../../src/report/html.js';
import { timelineOf } from '../../src/report/timeline.js';
import { failedCanary } from './canary-journal.js';
import { cli, project, startCli } from '../helpers/cli.js';
import { stopAgent } from '../helpers/local.js';

/** A canary at 10% whose error-rate check passed, then failed. */
const canary = failedCanary(
  [
    {
      outcome: 'pass',
      detail: 'green 5xx 0% over 40 requests',
      at: 3900,
      value: 0,
      threshold: 0.01,
      counted: { requests: 40, failed: 0 },
    },
    {
      outcome: 'fail',
      detail: 'green 5xx 19.6% over 285 requests > 1% <b>',
      at: 4900,
      value: 0.196,
      threshold: 0.01,
      counted: { requests: 285, failed: 56 },
    },
  ],
  'check `errorRate` failed at 10%',
);
describe('the report page', () => {
  it('draws each fleet’s share over time, every check reading and the phases, with the numbers in data- attributes', () => {
    const timeline = timelineOf(canary);
    if (!timeline) throw new Error('no timeline');
    // Blue held all traffic from the start until the first change.
    expect(timeline.weights).toEqual([
      { at: 1000, shares: { blue: 100 } },
      { at: 3000, shares: { 'green v2': 10, blue: 90 } },
      { at: 5100, shares: { blue: 100 } },
    ]);
    const html = reportHtml(timeline, { artifact: 'catalog', environment: 'prod' });
    expect(html).toContain('data-result="failed"');
    expect(html).toContain('data-series="green v2" data-points="1000:0;3000:10;5100:0"');
    expect(html).toContain('data-series="blue" data-points="1000:100;3000:90;5100:100"');
    // Two readings and the threshold's line.
    expect(html.match(/class="reading[^>]*data-check="errorRate"/g)).toHaveLength(2);
    expect(html.match(/class="threshold"[^>]*data-check="errorRate"/g)).toHaveLength(1);
    expect(html).toContain('data-outcome="fail"');
    expect(html).toMatch(/data-phase="rolling-back" data-at="5100"/);
    // Each measured value against its threshold: the failing one drawn above the dashed line, the passing one below.
    expect(html).toContain('data-value="0.196" data-threshold="0.01"');
    const cy = (value: string) =>
      Number(new RegExp(`cy="([\\d.]+)"[^>]*data-value="${value}"`).exec(html)?.[1]);
    const limit = Number(/class="threshold"[^>]*y1="([\d.]+)"/.exec(html)?.[1]);
    expect(cy('0.196')).toBeLessThan(limit);
    expect(cy('0')).toBeGreaterThan(limit);
    expect(html).toContain('Failed while shifting');
    // The requests each reading counted: successes and failures, a bar each.
    expect(html).toContain('data-check="errorRate" data-at="3900" data-requests="40" data-failed="0"');
    expect(html).toContain('data-check="errorRate" data-at="4900" data-requests="285" data-failed="56"');
    const failedBar =
      /data-failed="56"><rect class="ok"[^>]*height="([\d.]+)"\/><rect class="failed"[^>]*height="([\d.]+)"/.exec(
        html,
      );
    expect(Number(failedBar?.[2])).toBeGreaterThan(0);
    expect(Number(failedBar?.[1]) / Number(failedBar?.[2])).toBeCloseTo(229 / 56, 1);
    // Text from the journal is escaped, and the page fetches and runs nothing.
    expect(html).not.toContain('1% <b>');
    expect(html).toContain('1% &#60;b&#62;');
    expect(html).not.toMatch(/<script|<link|src=|href=|@import|url\(/i);
  });
});

let p: Awaited<ReturnType<typeof project>> | undefined;
afterEach(async () => {
  if (!p) return;
  await stopAgent(join(p.dir, '.cutover'));
  p.remove();
  p = undefined;
});

describe('cutover report (local, through the CLI)', () => {
  it('writes the latest deployment’s page and prints its path; a named one with --out; an unknown one is exit 2', async () => {
    p = await project();
    const words = ['artifact=catalog', 'environment=e2e'];
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    const v2 = await cli(p.dir, ['deploy', ...words, 'version=v2', '--json']);
    const v2Id = (JSON.parse(v2.stdout) as { deployment: string }).deployment;
    expect((await cli(p.dir, ['deploy', ...words, 'version=broken'])).code).toBe(1);

    const latest = await cli(p.dir, ['report', ...words]);
    expect(latest.code, latest.stderr).toBe(0);
    const path = latest.stdout.trim();
    expect(path).toMatch(/cutover-report-d-.*\.html$/);
    const failed = readFileSync(path, 'utf8');
    expect(failed).toContain('data-result="failed"');
    expect(failed).toMatch(/data-reason="version `broken` failed its health check/);

    const out = join(p.dir, 'v2.html');
    const named = await cli(p.dir, ['report', ...words, `deployment=${v2Id}`, '--out', out]);
    expect(named.code, named.stderr).toBe(0);
    const page = readFileSync(out, 'utf8');
    expect(page).toContain('data-result="succeeded"');
    // Blue (v1) held everything until the shift, green v2 all of it after.
    expect(page).toMatch(/data-series="green v2" data-points="\d+:0;\d+:100"/);
    expect(page).toMatch(/data-series="blue v1" data-points="\d+:100;\d+:0"/);
    const named2 = await cli(p.dir, ['report', ...words, `deployment=${v2Id}`, '--out', out, '--json']);
    expect(JSON.parse(named2.stdout)).toMatchObject({ deployment: v2Id, version: 'v2', result: 'report' });

    // A page that cannot be written changed nothing: exit 2, not a failed deploy.
    const nowhere = await cli(p.dir, [
      'report',
      ...words,
      '--out',
      join(p.dir, 'missing', 'x.html'),
      '--json',
    ]);
    expect(nowhere.code).toBe(2);
    expect(JSON.parse(nowhere.stdout)).toMatchObject({
      result: 'rejected',
      error: { code: 'REPORT_UNWRITABLE' },
    });

    const unknown = await cli(p.dir, [
      'report',
      ...words,
      'deployment=d-nope',
      '--out',
      join(p.dir, 'x.html'),
    ]);
    expect(unknown.code).toBe(2);
    expect(existsSync(join(p.dir, 'x.html'))).toBe(false);
  });
});

describe('the probe on the report (local, through the CLI)', () => {
  it('GIVEN a flaky canary watched by the probe THEN the report draws the requests the probe sent, those that succeeded and those that failed', async () => {
    p = await project();
    const words = ['artifact=catalog', 'environment=e2e'];
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    appendFileSync(
      join(p.dir, 'cutover.config.yaml'),
      [
        '    strategy: { name: canary, steps: [50, 100], stepBake: 3s }',
        '    checks: { interval: 200ms, probe: { path: /, interval: 25ms, maxFailures: 1 } }',
        '',
      ].join('\n'),
    );
    // flaky answers 500 to every 5th request an instance serves: at 50%, about one probe in ten fails.
    const flaky = await cli(p.dir, ['deploy', ...words, 'version=flaky']);
    expect(flaky.code, flaky.stderr).toBe(1);
    expect(flaky.stderr).toContain('check `probe` failed');
    const out = join(p.dir, 'flaky.html');
    expect((await cli(p.dir, ['report', ...words, '--out', out])).code).toBe(0);
    const html = readFileSync(out, 'utf8');
    const bars = [
      ...html.matchAll(/data-check="probe" data-at="\d+" data-requests="(\d+)" data-failed="(\d+)"/g),
    ].map((m) => ({ requests: Number(m[1]), failed: Number(m[2]) }));
    expect(bars.length).toBeGreaterThan(0);
    const last = bars.at(-1);
    expect(last?.failed).toBeGreaterThan(1);
    expect(last?.requests).toBeGreaterThan(last?.failed ?? 0);
  });
});

describe('an unfinished deployment in history and on the report (local, through the CLI)', () => {
  it('GIVEN a deploy killed with SIGKILL in its bake THEN history and the report say it was interrupted and what undoes it, not that it still bakes', async () => {
    p = await project();
    const words = ['artifact=catalog', 'environment=e2e'];
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    const baking = startCli(p.dir, ['deploy', ...words, 'version=v2'], { BAKE: '30s' });
    await new Promise<void>((resolve) =>
      baking.child.stderr?.on('data', (d: Buffer) => d.toString().includes('"bake.started"') && resolve()),
    );
    baking.child.kill('SIGKILL');
    await baking.done;
    const history = await cli(p.dir, ['history', ...words, '--json']);
    const [latest] = (JSON.parse(history.stdout) as { detail: { entries: Record<string, unknown>[] } }).detail
      .entries;
    expect(latest).toMatchObject({ version: 'v2', result: 'interrupted', failedIn: 'baking' });
    expect(String(latest?.reason)).toContain('the next deploy, rollback or abort undoes it');
    const out = join(p.dir, 'killed.html');
    expect((await cli(p.dir, ['report', ...words, '--out', out])).code).toBe(0);
    const page = readFileSync(out, 'utf8');
    expect(page).toContain('data-result="interrupted"');
    expect(page).toContain('Interrupted while baking');
    expect((await cli(p.dir, ['abort', ...words])).code).toBe(0);
  });
});
