import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportHtml } from '../../src/report/html.js';
import { timelineOf } from '../../src/report/timeline.js';
import { failedCanary } from '../report/canary-journal.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The report page in headless Chromium (Debian's, which .ci/run installs): it renders with no console
 * error, its drawn numbers are the journal's, and it fits a laptop and a phone.
 */
const canary = [
  ...failedCanary(
    [
      {
        outcome: 'fail',
        detail: 'green 5xx 19.6% over 285 requests > 1%',
        at: 4900,
        counted: { requests: 285, failed: 56 },
      },
    ],
    'check `errorRate` failed at 10% with a rather long reason that must wrap on a phone',
  ),
  // Someone paused it at 10% just before the check failed.
  {
    deployment: 'd-1',
    kind: 'deploy' as const,
    phase: 'shifting' as const,
    at: 4500,
    moment: { kind: 'pause' as const, by: 'a.person.with.a.long.name@example.com' },
  },
].sort((a, b) => a.at - b.at);

let browser: Browser;
const dir = tempDir('cutover-report-page-');
const file = join(dir.path, 'report.html');

beforeAll(async () => {
  const timeline = timelineOf(canary);
  if (!timeline) throw new Error('no timeline');
  writeFileSync(file, reportHtml(timeline, { artifact: 'catalog', environment: 'prod' }));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    // Root (as in CI containers) cannot use Chromium's sandbox.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  dir.remove();
});

describe('the report page in headless Chromium', () => {
  it.each([
    ['a laptop', 1280, 800],
    ['a phone', 390, 844],
  ])(
    'renders on %s (%i×%i) with no console error, its numbers the journal’s, nothing wider than the screen',
    async (_, width, height) => {
      const page = await browser.newPage({ viewport: { width, height } });
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(file).href);
      expect(errors).toEqual([]);
      // The file itself, and nothing fetched besides.
      expect(requests).toEqual([pathToFileURL(file).href]);
      const drawn = await page.$$eval('polyline.series', (lines) =>
        lines.map((l) => [l.getAttribute('data-series'), l.getAttribute('data-points')]),
      );
      expect(drawn).toEqual([
        ['blue', '1000:100;3000:90;5100:100'],
        ['green v2', '1000:0;3000:10;5100:0'],
      ]);
      expect(
        await page.$$eval('circle.reading', (c) => c.map((e) => e.getAttribute('data-outcome'))),
      ).toEqual(['fail']);
      // The pause is flagged on the chart and listed, and the requests' bar shows its failed part.
      expect(
        await page.$$eval('g.moment', (g) =>
          g.map((e) => [e.getAttribute('data-moment'), e.getAttribute('data-at')]),
        ),
      ).toEqual([['pause', '4500']]);
      expect(await page.textContent('li.moment')).toContain(
        'paused by a.person.with.a.long.name@example.com',
      );
      const bar = await page.$eval('g.counted', (g) => ({
        requests: g.getAttribute('data-requests'),
        failed: g.getAttribute('data-failed'),
        ok: g.querySelector('rect.ok')?.getBoundingClientRect().height ?? 0,
        bad: g.querySelector('rect.failed')?.getBoundingClientRect().height ?? 0,
      }));
      expect([bar.requests, bar.failed]).toEqual(['285', '56']);
      expect(bar.bad).toBeGreaterThan(0);
      expect(bar.ok / bar.bad).toBeCloseTo(229 / 56, 0);
      // The chart scales to the screen, and no text runs off it.
      const chart = await page.$eval('svg', (svg) => svg.getBoundingClientRect().width);
      expect(chart).toBeGreaterThan(width * 0.8);
      expect(chart).toBeLessThanOrEqual(width);
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(scrollWidth).toBeLessThanOrEqual(width);
      await page.close();
    },
  );
});
