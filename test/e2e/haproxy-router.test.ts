import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { AgentClient } from '../../src/providers/local/agent-client.js';
import { haproxyFiles, readRecord } from '../../src/providers/local/haproxy-process.js';
import { parseStat } from '../../src/providers/haproxy/stat.js';
import { runtimeCommands } from '../../src/providers/local/haproxy-runtime.js';
import { haproxyFolder, agentPaths } from '../../src/providers/local/paths.js';
import { isAlive } from '../../src/providers/local/processes.js';
import type { AgentInfo } from '../../src/providers/local/protocol.js';
import { cli, project, startCli, statusBody } from '../helpers/cli.js';
import { steadyLoad, versionedLoad } from '../helpers/load.js';
import { instancePids, stopAgent } from '../helpers/local.js';

/**
 * `router: haproxy` through the real CLI, agent, HAProxy (Debian's /usr/sbin/haproxy) and instances: the
 * flows the built-in router's tests run, with HAProxy holding the address and the agent driving it.
 */

let p: Awaited<ReturnType<typeof project>>;
let stateDir: string;
afterEach(async () => {
  await stopAgent(stateDir);
  // A HAProxy its agent could not stop (a test that failed with the agent killed) is stopped here.
  const record = readRecord(files());
  if (record && isAlive(record.pid)) process.kill(record.pid, 'SIGKILL');
  p.remove();
});

const words = ['artifact=catalog', 'environment=e2e'];

async function haproxyProject(extra: string[] = []): Promise<void> {
  p = await project();
  stateDir = join(p.dir, '.cutover');
  appendFileSync(join(p.dir, 'cutover.config.yaml'), ['    router: haproxy', ...extra, ''].join('\n'));
}

const files = () => haproxyFiles(haproxyFolder(agentPaths(stateDir).dir, 'e2e', 'catalog'));

/** The HAProxy serving the environment, from the agent's record: its pid, and that it is HAProxy. */
function haproxyPid(): number {
  const record = readRecord(files());
  if (!record) throw new Error('no HAProxy recorded');
  expect(readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0')[0]).toMatch(/haproxy$/);
  return record.pid;
}

/** Requests HAProxy's servers have answered so far, from its runtime API. */
async function haproxyAnswered(): Promise<number> {
  return parseStat(await runtimeCommands(files().socket, ['show stat fleets 4 -1'])).reduce(
    (sum, row) => sum + Number(row.hrsp_2xx || 0),
    0,
  );
}

async function versionsServed(count: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < count; i += 1) {
    const response = await request(p.endpoint);
    const { version } = (await response.body.json()) as { version: string };
    seen[version] = (seen[version] ?? 0) + 1;
  }
  return seen;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('router: haproxy on the local target', { timeout: 60_000 }, () => {
  it('GIVEN router: haproxy WHEN v1, v2 under load, a rollback, v2 again and broken are deployed THEN HAProxy serves each switch with no failed request, broken leaves traffic on v2, and down stops HAProxy', async () => {
    await haproxyProject();
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    const pid = haproxyPid();
    const before = await haproxyAnswered();
    expect(await versionsServed(4)).toEqual({ v1: 4 });
    expect(await haproxyAnswered()).toBe(before + 4);

    const traffic = versionedLoad(p.endpoint);
    const v2 = await cli(p.dir, ['deploy', ...words, 'version=v2']);
    expect(v2.code, v2.stderr).toBe(0);
    expect(traffic.seen.at(-1)).toBe('v2');
    const pidsBefore = instancePids(stateDir).sort();
    const back = await cli(p.dir, ['rollback', ...words]);
    expect(back.code, back.stderr).toBe(0);
    expect(instancePids(stateDir).sort()).toEqual(pidsBefore);
    const again = await cli(p.dir, ['deploy', ...words, 'version=v2']);
    expect(again.code, again.stderr).toBe(0);
    const seenBeforeBroken = traffic.seen.length;
    const broken = await cli(p.dir, ['deploy', ...words, 'version=broken']);
    await traffic.stop();
    expect(broken.code).toBe(1);
    expect(broken.events.at(-1), broken.stderr).toMatchObject({ code: 'GREEN_UNHEALTHY' });
    expect(traffic.failures).toEqual([]);
    expect(new Set(traffic.seen)).toEqual(new Set(['v1', 'v2']));
    expect(new Set(traffic.seen.slice(seenBeforeBroken))).toEqual(new Set(['v2']));
    // One HAProxy all along: every switch went through its runtime API.
    expect(haproxyPid()).toBe(pid);
    const status = statusBody((await cli(p.dir, ['status', ...words, '--json'])).stdout);
    expect(status).toMatchObject({ live: { version: 'v2', weight: 100 }, standby: { version: 'v1' } });

    expect((await cli(p.dir, ['down', 'environment=e2e'])).code).toBe(0);
    expect(isAlive(pid)).toBe(false);
    await expect(request(p.endpoint)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('GIVEN a canary at 50% WHEN HAProxy is killed THEN the agent starts another that splits traffic as before; WHEN the agent is killed THEN HAProxy keeps serving and the next agent takes it over', async () => {
    await haproxyProject();
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    appendFileSync(
      join(p.dir, 'cutover.config.yaml'),
      '    strategy: { name: canary, steps: [50, 100], stepBake: 200ms, approval: { atWeight: 50, timeout: 2m } }\n',
    );
    const running = startCli(p.dir, ['deploy', ...words, 'version=v2']);
    let gated = false;
    running.child.stderr?.on('data', (d: Buffer) => {
      if (d.toString().includes('"approval.waiting"')) gated = true;
    });
    await until('the approval gate', () => gated);

    const killed = haproxyPid();
    process.kill(killed, 'SIGKILL');
    await until(
      'another HAProxy',
      () => readRecord(files())?.pid !== killed && isAlive(readRecord(files())?.pid ?? 0),
    );
    await until('HAProxy to answer', () =>
      request(p.endpoint).then(
        (r) => r.body.dump().then(() => true),
        () => false,
      ),
    );
    // Round robin over two instances of each fleet at equal weights: exactly half each.
    expect(await versionsServed(40)).toEqual({ v1: 20, v2: 20 });
    expect(readFileSync(agentPaths(stateDir).log, 'utf8')).toMatch(
      /HAProxy \d+ serves 127\.0\.0\.1:\d+ again/,
    );

    const serving = haproxyPid();
    const agent = await new AgentClient(stateDir).request<AgentInfo>('GET', '/v1/agent');
    const load = steadyLoad(p.endpoint, 4);
    process.kill(agent.pid, 'SIGKILL');
    await until('the next agent', async () => {
      const info = await new AgentClient(stateDir)
        .request<AgentInfo>('GET', '/v1/agent')
        .catch(() => undefined);
      return info !== undefined && info.pid !== agent.pid;
    });
    const result = await load.stop();
    expect(result.failed, result.samples.join('; ')).toBe(0);
    expect(result.ok).toBeGreaterThan(20);
    expect(haproxyPid()).toBe(serving);
    expect(readFileSync(agentPaths(stateDir).log, 'utf8')).toContain(`took over HAProxy pid ${serving}`);

    const promoted = await cli(p.dir, ['promote', ...words]);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect((await running.done).code).toBe(0);
    expect(await versionsServed(10)).toEqual({ v2: 10 });
  });

  it('GIVEN an error-rate check and steady traffic WHEN a canary of flaky takes 10% through HAProxy THEN its counts fail the check and traffic goes back to v1', async () => {
    await haproxyProject([
      '    strategy: { name: canary, steps: [10, 100], stepBake: 20s }',
      '    checks:',
      '      interval: 500ms',
      '      errorRate: { max: 1%, window: 2s, minRequests: 20 }',
    ]);
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    const traffic = versionedLoad(p.endpoint);
    const result = await cli(p.dir, ['deploy', ...words, 'version=flaky']);
    await traffic.stop();
    expect(result.code, result.stderr).toBe(1);
    const failed = result.events.find((e) => e.code === 'check.failed');
    expect(String(failed?.message)).toMatch(
      /errorRate failed with green at 10%: green 5xx rate \d+(\.\d+)?% over \d+ requests > 1%/,
    );
    expect(result.events.at(-1)).toMatchObject({ code: 'CHECK_FAILED' });
    // Only flaky's own 500s failed; afterwards only v1 answers.
    expect(traffic.failures.length).toBeGreaterThan(0);
    expect(traffic.failures.every((f) => f.startsWith('500 ') && f.includes('"flaky"'))).toBe(true);
    expect(await versionsServed(10)).toEqual({ v1: 10 });
  });

  it('GIVEN router: haproxy and no HAProxy to run WHEN deploy runs THEN it exits 2 before anything starts and says to install it', async () => {
    await haproxyProject();
    const result = await cli(p.dir, ['deploy', ...words, 'version=v1'], {
      CUTOVER_HAPROXY: join(p.dir, 'no-haproxy'),
    });
    expect(result.code).toBe(2);
    expect(result.events.at(-1)).toMatchObject({
      code: 'HAPROXY_MISSING',
      hint: expect.stringContaining('apt-get install haproxy'),
    });
    expect(await new AgentClient(stateDir).isRunning()).toBe(false);
  });

  it('GIVEN an environment served by the built-in router WHEN the config switches it to haproxy THEN deploy refuses with exit 2 and says how', async () => {
    p = await project();
    stateDir = join(p.dir, '.cutover');
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    appendFileSync(join(p.dir, 'cutover.config.yaml'), '    router: haproxy\n');
    const result = await cli(p.dir, ['deploy', ...words, 'version=v2']);
    expect(result.code).toBe(2);
    expect(result.events.at(-1)).toMatchObject({
      code: 'ROUTER_CHANGED',
      hint: expect.stringContaining('cutover down environment=e2e'),
    });
    expect(await versionsServed(3)).toEqual({ v1: 3 });
  });
});
