import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { freePort } from '../src/providers/local/processes.js';
import { median, runCli, startNginx, throughput } from './lib.js';

/**
 * npm run bench:cutover — zero downtime, measured. Drives steady load through the local router while
 * deploy v1→v2, rollback and deploy v2 run, then measures the router's throughput side by side with a
 * request straight to one backend and with nginx proxying to the same backends.
 */

const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);

interface Seen {
  at: number;
  version: string;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-'));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}/`;
  writeFileSync(
    join(dir, 'cutover.config.yaml'),
    `artifacts:
  catalog:
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(resolve('examples/catalog/server.mjs'))}]
environments:
  bench:
    target: local
    listen: 127.0.0.1:${port}
    capacity: 2
    bake: 1s
    rollbackWindow: 30m
    healthCheck: { interval: 100ms, timeout: 1s, healthyThreshold: 2, unhealthyThreshold: 2, readyTimeout: 15s }
`,
  );
  const words = ['artifact=catalog', 'environment=bench'];
  try {
    const first = await runCli(dir, ['deploy', ...words, 'version=v1']);
    if (first.code !== 0) throw new Error(`deploy v1 failed:\n${first.stderr}`);

    // Part 1: switches under load.
    const seen: Seen[] = [];
    let finish: (result: autocannon.Result) => void = () => {};
    const finished = new Promise<autocannon.Result>((done) => (finish = done));
    const load = autocannon(
      {
        url: endpoint,
        connections,
        duration: 600,
        requests: [
          {
            method: 'GET',
            path: '/',
            onResponse: (status: number, body: string) => {
              if (status === 200)
                seen.push({ at: Date.now(), version: (JSON.parse(body) as { version: string }).version });
            },
          },
        ],
      },
      (error, result) => {
        if (error) throw error;
        finish(result);
      },
    );
    await new Promise((r) => setTimeout(r, 1000));
    const switches: {
      label: string;
      to: string;
      from: string;
      start: number;
      end: number;
      code: number | null;
    }[] = [];
    for (const [label, args, from, to] of [
      ['deploy v1→v2', ['deploy', ...words, 'version=v2'], 'v1', 'v2'],
      ['rollback v2→v1', ['rollback', ...words], 'v2', 'v1'],
      ['deploy v1→v2 again', ['deploy', ...words, 'version=v2'], 'v1', 'v2'],
    ] as const) {
      const start = Date.now();
      const result = await runCli(dir, [...args]);
      switches.push({ label, from, to, start, end: Date.now(), code: result.code });
      if (result.code !== 0) console.error(result.stderr);
      await new Promise((r) => setTimeout(r, 1000));
    }
    load.stop();
    const result = await finished;

    console.log(`\n== Switches under load (autocannon, ${connections} connections, keep-alive) ==`);
    console.log(
      `requests: ${result.requests.total}  non-2xx: ${result.non2xx}  socket errors: ${result.errors}  timeouts: ${result.timeouts}  p50: ${result.latency.p50} ms  p99: ${result.latency.p99} ms`,
    );
    console.log('switch                 exit  command   first new   all new (last old response)');
    switches.forEach((s, i) => {
      // Only responses between this command's start and the next one's belong to this switch.
      const window = seen.filter((x) => x.at >= s.start && x.at < (switches[i + 1]?.start ?? Infinity));
      const firstNew = window.find((x) => x.version === s.to);
      const lastOld = window.filter((x) => x.version === s.from).at(-1);
      const allNew = firstNew && lastOld ? Math.max(firstNew.at, lastOld.at) : firstNew?.at;
      const fmt = (t: number | undefined) =>
        t === undefined ? '     n/a' : `${String(t - s.start).padStart(6)} ms`;
      console.log(
        `${s.label.padEnd(22)} ${String(s.code).padStart(4)}  ${fmt(s.end)}  ${fmt(firstNew?.at)}  ${fmt(allNew)}`,
      );
    });

    // Part 2: throughput side by side, alternating so that noise hits all three alike.
    const status = JSON.parse((await runCli(dir, ['status', ...words, '--json'])).stdout) as {
      fleets: { weight: number; instances: { url: string }[] }[];
    };
    const live = status.fleets.find((f) => f.weight === 100);
    if (!live) throw new Error('no live fleet after the switches');
    const backends = live.instances.map((i) => i.url);
    const nginxPort = await freePort();
    const nginx = await startNginx(dir, nginxPort, backends);
    const targets = {
      'direct (one backend)': `${backends[0]}/`,
      'cutover router': endpoint,
      'nginx (worker_processes auto)': `http://127.0.0.1:${nginxPort}/`,
    };
    const rps: Record<string, number[]> = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
    const p99: Record<string, number[]> = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
    try {
      for (let round = 0; round < rounds; round++) {
        for (const [name, url] of Object.entries(targets)) {
          const r = await throughput(url, seconds, connections);
          rps[name]?.push(r.requests.average);
          p99[name]?.push(r.latency.p99);
          if (r.non2xx || r.errors) console.error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        }
      }
    } finally {
      nginx.kill('SIGTERM');
    }
    console.log(
      `\n== Throughput, ${rounds} rounds of ${seconds}s each, ${connections} connections, medians ==`,
    );
    for (const name of Object.keys(targets)) {
      console.log(
        `${name.padEnd(30)} ${median(rps[name] ?? [])
          .toFixed(0)
          .padStart(
            7,
          )} req/s   p99 ${median(p99[name] ?? [])} ms   rounds: ${(rps[name] ?? []).map((v) => v.toFixed(0)).join(', ')}`,
      );
    }
    const router = median(rps['cutover router'] ?? []);
    const ng = median(rps['nginx (worker_processes auto)'] ?? []);
    console.log(
      `router / nginx: ${(router / ng).toFixed(2)}   router / direct: ${(router / median(rps['direct (one backend)'] ?? [])).toFixed(2)}`,
    );
  } finally {
    await runCli(dir, ['down', 'environment=bench']);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
