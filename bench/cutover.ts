import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  demoArtifactYaml,
  freePort,
  median,
  printReports,
  runCli,
  saveReport,
  sleep,
  ensureInstalled,
  startHaproxy,
  startNginx,
} from './lib.js';
import { wrk, type WrkResult } from './wrk.js';

/**
 * npm run bench:cutover — zero downtime, measured, with wrk as the load generator:
 * 1. deploy v1→v2, rollback and deploy v2 again under steady load through the local router;
 * 2. throughput of the router side by side with one backend directly, nginx and HAProxy proxying to the
 *    same two backends, with a second environment whose agent routes in one process
 *    (CUTOVER_ROUTER_WORKERS=0, its own two instances), and with a third served by `router: haproxy`
 *    (HAProxy driven by its agent, its own two instances), in alternating rounds;
 * 3. one of the two live instances killed (SIGKILL) under load through the router;
 * 4. the agent killed (SIGKILL) with no command run: how long until the router answers again.
 */

const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const threads = Number(process.env.BENCH_WRK_THREADS ?? 1);
const killSeconds = Number(process.env.BENCH_KILL_SECONDS ?? 8);
const killAfterSeconds = 2;

const statusSchema = z.object({
  fleets: z.array(z.object({ weight: z.number(), instances: z.array(z.object({ url: z.string() })) })),
});
// Only what the bench needs of the agent's state file: which pid serves which port.
const agentStateSchema = z.object({
  services: z.array(
    z.object({
      fleets: z.array(
        z.object({ instances: z.array(z.object({ port: z.number(), pid: z.number().nullish() })) }),
      ),
    }),
  ),
});

const ms = (v: number): string => `${v.toFixed(v < 10 ? 2 : 1)} ms`;
const failures = (r: WrkResult): string =>
  `failed: ${r.failed} (non-2xx ${r.non2xx}; socket errors: connect ${r.socket.connect}, read ${r.socket.read}, write ${r.socket.write}, timeout ${r.socket.timeout})`;

function writeConfig(dir: string, environment: string, port: number, router = 'builtin'): void {
  writeFileSync(
    join(dir, 'cutover.config.yaml'),
    `${demoArtifactYaml()}environments:
  ${environment}:
    target: local
    listen: 127.0.0.1:${port}
    router: ${router}
    capacity: 2
    bake: 1s
    rollbackWindow: 30m
    healthCheck: { interval: 100ms, timeout: 1s, healthyThreshold: 2, unhealthyThreshold: 2, readyTimeout: 15s }
`,
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-'));
  const single = mkdtempSync(join(tmpdir(), 'cutover-bench-single-'));
  const viaHaproxy = mkdtempSync(join(tmpdir(), 'cutover-bench-haproxy-'));
  const [port, singlePort, haproxyRouterPort] = [await freePort(), await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${port}/`;
  writeConfig(dir, 'bench', port);
  writeConfig(single, 'single', singlePort);
  // HAProxy from Debian's packages, installed first when missing: its agent would refuse to start without it.
  ensureInstalled('haproxy', 'haproxy');
  writeConfig(viaHaproxy, 'haproxy', haproxyRouterPort, 'haproxy');
  const words = ['artifact=catalog', 'environment=bench'];
  const load = `wrk, ${connections} keep-alive connections, ${threads} thread${threads === 1 ? '' : 's'}, 2 s timeout`;
  try {
    const first = await runCli(dir, ['deploy', ...words, 'version=v1']);
    if (first.code !== 0) throw new Error(`deploy v1 failed:\n${first.stderr}`);
    await switches(dir, endpoint, words, load);
    const backends = await liveBackends(dir, words);
    const other = await runCli(single, ['deploy', 'artifact=catalog', 'environment=single', 'version=v1'], {
      CUTOVER_ROUTER_WORKERS: '0',
    });
    if (other.code !== 0) throw new Error(`deploy of the one-process router failed:\n${other.stderr}`);
    const third = await runCli(viaHaproxy, [
      'deploy',
      'artifact=catalog',
      'environment=haproxy',
      'version=v1',
    ]);
    if (third.code !== 0)
      throw new Error(`deploy of the router: haproxy environment failed:\n${third.stderr}`);
    await throughput(
      dir,
      endpoint,
      backends,
      `http://127.0.0.1:${singlePort}/`,
      `http://127.0.0.1:${haproxyRouterPort}/`,
      load,
    );
    await killOne(dir, endpoint, backends, load);
    await agentKilled(dir, endpoint);
  } finally {
    await runCli(dir, ['down', 'environment=bench']);
    await runCli(single, ['down', 'environment=single']);
    await runCli(viaHaproxy, ['down', 'environment=haproxy']);
    rmSync(dir, { recursive: true, force: true });
    rmSync(single, { recursive: true, force: true });
    rmSync(viaHaproxy, { recursive: true, force: true });
  }
}

/** Deploy, rollback, deploy under load; times from each command's start, from which version answered. */
async function switches(dir: string, endpoint: string, words: string[], load: string): Promise<void> {
  const run = wrk(dir, { url: endpoint, connections, threads, seconds: 600, versions: true });
  const done: { label: string; from: string; to: string; start: number; end: number; code: number | null }[] =
    [];
  const reports: (string | undefined)[] = [];
  try {
    await sleep(1000);
    for (const [label, args, from, to] of [
      ['deploy v1→v2', ['deploy', ...words, 'version=v2'], 'v1', 'v2'],
      ['rollback v2→v1', ['rollback', ...words], 'v2', 'v1'],
      ['deploy v1→v2 again', ['deploy', ...words, 'version=v2'], 'v1', 'v2'],
    ] as const) {
      const start = Date.now();
      const result = await runCli(dir, [...args]);
      done.push({ label, from, to, start, end: Date.now(), code: result.code });
      if (result.code !== 0) console.error(result.stderr);
      reports.push(await saveReport(dir, words, `cutover-${label.replace(/[^a-z0-9]+/gi, '-')}`));
      await sleep(1000);
    }
  } finally {
    run.stop();
  }
  const r = await run.result;
  console.log(`\n== Switches under load (${load}) ==`);
  console.log(
    `responses: ${r.requests}  ${failures(r)}  p50 ${ms(r.latencyMs.p50)}  p99 ${ms(r.latencyMs.p99)}`,
  );
  console.log('switch                 exit    command   first new    all new (last old response)');
  done.forEach((s, i) => {
    // Only responses between this command's start and the next one's belong to this switch.
    const inWindow = (t: number) => t >= s.start && t < (done[i + 1]?.start ?? Infinity);
    const firstNew = r.seen.get(s.to)?.find(inWindow);
    const lastOld = r.seen.get(s.from)?.filter(inWindow).at(-1);
    const allNew = firstNew !== undefined && lastOld !== undefined ? Math.max(firstNew, lastOld) : firstNew;
    const fmt = (t: number | undefined) =>
      t === undefined ? '       n/a' : `${String(t - s.start).padStart(7)} ms`;
    console.log(
      `${s.label.padEnd(22)} ${String(s.code).padStart(4)}  ${fmt(s.end)}  ${fmt(firstNew)}  ${fmt(allNew)}`,
    );
  });
  printReports(reports);
}

async function liveBackends(dir: string, words: string[]): Promise<string[]> {
  const status = statusSchema.parse(
    (JSON.parse((await runCli(dir, ['status', ...words, '--json'])).stdout) as { status: unknown }).status,
  );
  const live = status.fleets.find((f) => f.weight === 100);
  if (!live || live.instances.length < 2)
    throw new Error('no live fleet of two instances after the switches');
  return live.instances.map((i) => i.url);
}

/** Alternating rounds, so that noise on this shared machine hits every target alike. */
async function throughput(
  dir: string,
  endpoint: string,
  backends: string[],
  singleProcess: string,
  haproxyRouter: string,
  load: string,
): Promise<void> {
  const [nginxPort, haproxyPort] = [await freePort(), await freePort()];
  const targets: Record<string, string> = {
    'one backend, directly': `${backends[0]}/`,
    'cutover router': endpoint,
    'cutover router, one process': singleProcess,
    'router: haproxy (agent-driven)': haproxyRouter,
    'nginx (worker_processes auto)': `http://127.0.0.1:${nginxPort}/`,
    'haproxy (nbthread default)': `http://127.0.0.1:${haproxyPort}/`,
  };
  const results = new Map<string, WrkResult[]>(Object.keys(targets).map((k) => [k, []]));
  const nginx = await startNginx(dir, nginxPort, backends);
  try {
    const haproxy = await startHaproxy(dir, haproxyPort, backends);
    try {
      for (let round = 0; round < rounds; round++) {
        for (const [name, url] of Object.entries(targets)) {
          results.get(name)?.push(await wrk(dir, { url, connections, threads, seconds }).result);
        }
      }
    } finally {
      haproxy.kill('SIGTERM');
    }
  } finally {
    nginx.kill('SIGTERM');
  }
  console.log(`\n== Throughput: medians of ${rounds} rounds × ${seconds} s, alternating (${load}) ==`);
  console.log('target                            req/s     p50        p99     failed   req/s by round');
  const rps = (name: string) => median(results.get(name)?.map((r) => r.rps) ?? []);
  for (const [name, rs] of results) {
    const lat = (pick: (r: WrkResult) => number) => ms(median(rs.map(pick))).padStart(9);
    console.log(
      `${name.padEnd(30)} ${rps(name).toFixed(0).padStart(8)} ${lat((r) => r.latencyMs.p50)}  ${lat((r) => r.latencyMs.p99)}  ${String(rs.reduce((n, r) => n + r.failed, 0)).padStart(7)}   ${rs.map((r) => r.rps.toFixed(0)).join(', ')}`,
    );
  }
  const router = rps('cutover router');
  console.log(
    `router / nginx: ${(router / rps('nginx (worker_processes auto)')).toFixed(2)}   router / haproxy: ${(router / rps('haproxy (nbthread default)')).toFixed(2)}   router / direct: ${(router / rps('one backend, directly')).toFixed(2)}   router / one-process router: ${(router / rps('cutover router, one process')).toFixed(2)}`,
  );
  const driven = rps('router: haproxy (agent-driven)');
  console.log(
    `router: haproxy / built-in router: ${(driven / router).toFixed(2)}   router: haproxy / plain haproxy: ${(driven / rps('haproxy (nbthread default)')).toFixed(2)}   router: haproxy / nginx: ${(driven / rps('nginx (worker_processes auto)')).toFixed(2)}`,
  );
}

function pidOnPort(dir: string, port: number): number | undefined {
  const state = agentStateSchema.parse(
    JSON.parse(readFileSync(join(dir, '.cutover', 'agent', 'state.json'), 'utf8')),
  );
  const instances = state.services.flatMap((s) => s.fleets.flatMap((f) => f.instances));
  return instances.find((i) => i.port === port)?.pid ?? undefined;
}

/** SIGKILL one of the two live instances while wrk loads the router; every failed request counts. */
async function killOne(dir: string, endpoint: string, backends: string[], load: string): Promise<void> {
  const victimPort = Number(new URL(backends[0] as string).port);
  const pid = pidOnPort(dir, victimPort);
  if (pid === undefined)
    throw new Error(`no pid in the agent's state file for the instance on ${victimPort}`);
  const run = wrk(dir, { url: endpoint, connections, threads, seconds: killSeconds });
  await sleep(killAfterSeconds * 1000);
  process.kill(pid, 'SIGKILL');
  const r = await run.result;
  let after: string;
  try {
    const res = await fetch(endpoint, { signal: AbortSignal.timeout(2000) });
    after = `${res.status} ${((await res.json()) as { version?: string }).version ?? ''}`;
  } catch (error) {
    after = `no answer (${(error as Error).message})`;
  }
  const newPid = pidOnPort(dir, victimPort);
  const total = r.requests + r.socket.connect + r.socket.read + r.socket.write + r.socket.timeout;
  console.log(
    `\n== One of two live instances killed: SIGKILL to pid ${pid} (port ${victimPort}) ${killAfterSeconds} s into ${killSeconds} s of load through the router (${load}) ==`,
  );
  console.log(`failed requests: ${r.failed} of ${total} (responses + socket errors)`);
  console.log(`${failures(r)}  p99 ${ms(r.latencyMs.p99)}  max ${ms(r.latencyMs.max)}`);
  console.log(
    `after: the router answers ${after}; the instance on port ${victimPort} is ${newPid === undefined ? 'not running' : newPid === pid ? `still recorded as pid ${pid}` : `pid ${newPid} (restarted by the agent)`}`,
  );
}

/**
 * SIGKILL the agent several times; the watchdog alone brings the routers back. Router workers can answer
 * for a moment after their agent died, so the gap is measured from the kill to the last failed request
 * of a 3 s poll every 10 ms, not to the first answer.
 */
async function agentKilled(dir: string, endpoint: string): Promise<void> {
  const kills = Number(process.env.BENCH_AGENT_KILLS ?? 3);
  const gaps: number[] = [];
  const outages: number[] = [];
  for (let i = 0; i < kills; i += 1) {
    const holder = JSON.parse(readFileSync(join(dir, '.cutover', 'agent', 'agent.lock'), 'utf8')) as {
      pid: number;
    };
    process.kill(holder.pid, 'SIGKILL');
    const killedAt = Date.now();
    let firstFailure: number | undefined;
    let lastFailure: number | undefined;
    while (Date.now() - killedAt < 3000 || (lastFailure !== undefined && Date.now() - lastFailure < 1000)) {
      if (Date.now() - killedAt > 30_000) throw new Error('the router did not come back within 30 s');
      let ok = false;
      try {
        ok = (await fetch(endpoint, { signal: AbortSignal.timeout(500) })).ok;
      } catch {
        // The router is down: the point of the measure.
      }
      if (!ok) {
        firstFailure ??= Date.now();
        lastFailure = Date.now();
      }
      await sleep(10);
    }
    gaps.push(lastFailure === undefined ? 0 : lastFailure - killedAt);
    outages.push(firstFailure === undefined || lastFailure === undefined ? 0 : lastFailure - firstFailure);
    // The watchdog counts an agent stable after 10 s: the next kill is then not one of a crash loop, whose restarts back off on purpose.
    await sleep(11_000);
  }
  console.log(`\n== The agent killed (SIGKILL) ${kills} times, no command run; polled every 10 ms ==`);
  console.log(
    `from the kill to the last failed request: median ${median(gaps)} ms, max ${Math.max(...gaps)} ms (${gaps.join(', ')} ms)`,
  );
  console.log(
    `from the first failed request to the last: median ${median(outages)} ms (${outages.join(', ')} ms)`,
  );
}

await main();
