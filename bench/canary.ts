import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { demoArtifactYaml, freePort, median, printReports, runCli, saveReport, sleep } from './lib.js';
import { wrk, type WrkResult } from './wrk.js';

/**
 * npm run bench:canary — a canary under load through the local router, with wrk as the load generator:
 * `v2` (healthy: ends on green with no failed request) and `flaky` (500 to every 5th request: the
 * error-rate check sends it back). For flaky it prints how many user requests failed before the
 * rollback, against what the 10% step exposes during one check window, and how long detection took:
 * from green's first share of traffic to the failing reading, and to traffic back on blue.
 */

const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const threads = Number(process.env.BENCH_WRK_THREADS ?? 1);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const window = process.env.BENCH_WINDOW ?? '5s';
const windowMs = Number.parseInt(window, 10) * 1000;
const checkInterval = process.env.BENCH_CHECK_INTERVAL ?? '1s';
const minRequests = 50;

const eventSchema = z.object({ code: z.string(), timestamp: z.string(), message: z.string().optional() });

function writeConfig(dir: string, port: number): void {
  writeFileSync(
    join(dir, 'cutover.config.yaml'),
    `${demoArtifactYaml()}environments:
  bench:
    target: local
    listen: 127.0.0.1:${port}
    capacity: 2
    bake: 2s
    rollbackWindow: 30m
    healthCheck: { interval: 250ms, timeout: 1s, healthyThreshold: 2, unhealthyThreshold: 2, readyTimeout: 15s }
    strategy: { name: canary, steps: [10, 50, 100], stepBake: 10s }
    checks:
      interval: ${checkInterval}
      errorRate: { max: 1%, window: ${window}, minRequests: ${minRequests} }
`,
  );
}

interface Run {
  version: string;
  code: number | null;
  load: WrkResult;
  /** Epoch ms of the deploy's events, by code (the first of each). */
  at: Map<string, number>;
  checkFailed?: string;
}

async function canaryUnderLoad(dir: string, endpoint: string, version: string): Promise<Run> {
  const words = ['artifact=catalog', 'environment=bench'];
  const load = wrk(dir, { url: endpoint, connections, threads, seconds: 600 });
  try {
    await sleep(1000);
    const result = await runCli(dir, ['deploy', ...words, `version=${version}`]);
    await sleep(500);
    const events = result.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => eventSchema.parse(JSON.parse(l)));
    const at = new Map<string, number>();
    for (const e of events) if (!at.has(e.code)) at.set(e.code, Date.parse(e.timestamp));
    const failed = events.find((e) => e.code === 'check.failed')?.message;
    return {
      version,
      code: result.code,
      load: await stopped(load),
      at,
      ...(failed ? { checkFailed: failed } : {}),
    };
  } catch (error) {
    load.stop();
    throw error;
  }
}

async function stopped(run: ReturnType<typeof wrk>): Promise<WrkResult> {
  run.stop();
  return run.result;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-canary-'));
  const port = await freePort();
  writeConfig(dir, port);
  const endpoint = `http://127.0.0.1:${port}/`;
  const words = ['artifact=catalog', 'environment=bench'];
  const good: Run[] = [];
  const bad: Run[] = [];
  const reports: (string | undefined)[] = [];
  try {
    const first = await runCli(dir, ['deploy', ...words, 'version=v1', 'strategy=all-at-once']);
    if (first.code !== 0) throw new Error(`deploy v1 failed:\n${first.stderr}`);
    for (let round = 0; round < rounds; round++) {
      // Alternating, so that noise on this shared machine hits both alike; v2 goes live, so the next
      // round's flaky canary starts from v2, and a rollback puts v1 back for the next v2.
      good.push(await canaryUnderLoad(dir, endpoint, 'v2'));
      reports.push(await saveReport(dir, words, `canary-v2-round-${round + 1}`));
      bad.push(await canaryUnderLoad(dir, endpoint, 'flaky'));
      reports.push(await saveReport(dir, words, `canary-flaky-round-${round + 1}`));
      await runCli(dir, ['rollback', ...words]);
    }
  } finally {
    await runCli(dir, ['down', 'environment=bench']);
    rmSync(dir, { recursive: true, force: true });
  }
  const load = `wrk, ${connections} keep-alive connections, ${threads} thread${threads === 1 ? '' : 's'}`;
  console.log(
    `\n== Canary 10% → 50% → 100% (stepBake 10s), errorRate max 1% over ${window} (read every ${checkInterval}, at least ${minRequests} requests), ${load}, ${rounds} rounds ==`,
  );
  console.log(
    'version  round  exit  responses  failed  req/s   10%→failing reading  10%→traffic back on blue',
  );
  const rows = [...good.map((r, i) => [r, i] as const), ...bad.map((r, i) => [r, i] as const)];
  for (const [r, i] of rows) {
    const shifted = r.at.get('traffic.shifted');
    const detected = r.at.get('check.failed');
    const restored = r.at.get('traffic.restored');
    const span = (end: number | undefined) =>
      shifted !== undefined && end !== undefined ? `${end - shifted} ms` : 'n/a';
    console.log(
      `${r.version.padEnd(8)} ${String(i + 1).padStart(5)}  ${String(r.code).padStart(4)}  ${String(r.load.requests).padStart(9)}  ${String(r.load.failed).padStart(6)}  ${String(Math.round(r.load.rps)).padStart(5)}   ${span(detected).padStart(19)}  ${span(restored).padStart(24)}`,
    );
  }
  const detections = bad.flatMap((r) => {
    const s = r.at.get('traffic.shifted');
    const d = r.at.get('check.failed');
    return s !== undefined && d !== undefined ? [d - s] : [];
  });
  const rps = median(bad.map((r) => r.load.rps));
  // What the 10% step exposes in one window: a tenth of the traffic, a fifth of it failing.
  const exposure = Math.round(rps * 0.1 * 0.2 * (windowMs / 1000));
  console.log(
    `\nv2: failed requests per round ${good.map((r) => r.load.failed).join(', ')} (exit ${good.map((r) => r.code).join(', ')})`,
  );
  console.log(
    `flaky: failed user requests before traffic was back on blue, median ${median(bad.map((r) => r.load.failed))} (rounds: ${bad.map((r) => r.load.failed).join(', ')}); the 10% step exposes ${exposure} in one ${window} window at ${Math.round(rps)} req/s`,
  );
  if (detections.length > 0)
    console.log(
      `flaky: detection, from green's first 10% to the failing reading: median ${median(detections)} ms`,
    );
  const reason = bad.find((r) => r.checkFailed)?.checkFailed;
  if (reason) console.log(`flaky: the failing reading said: ${reason}`);
  printReports(reports);
}

await main();
