import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { shareProject, isShared } from '../helpers/shared-project.js';
import { cli, project, startCli, statusBody } from '../helpers/cli.js';
import { killDataPlane, stopAgent } from '../helpers/local.js';
import { AgentClient } from '../../src/providers/local/agent-client.js';

/**
 * Sequences a team runs in its first week, through the real CLI with real processes: each one left
 * traffic on nothing, on a failed fleet, or with no way back before fleets had recorded roles.
 */

let p: Awaited<ReturnType<typeof project>>;
afterEach(async () => {
  if (isShared(p)) return;
  await stopAgent(join(p.dir, '.cutover'));
  p.remove();
});

const words = ['artifact=catalog', 'environment=e2e'];

async function served(endpoint: string): Promise<string> {
  const response = await request(endpoint);
  return ((await response.body.json()) as { version: string }).version;
}

async function status(): Promise<{
  live: { version: string } | null;
  standby: { version: string } | null;
  fleets: { version: string; instances: { id: string }[] }[];
}> {
  const result = await cli(p.dir, ['status', ...words, '--json']);
  return statusBody(result.stdout) as Awaited<ReturnType<typeof status>>;
}

/** Starts a deploy in the background and resolves once it bakes, with traffic on green. */
async function deployInBake(version: string, bake: string, ...flags: string[]) {
  const baking = startCli(p.dir, ['deploy', ...words, `version=${version}`, ...flags], { BAKE: bake });
  await new Promise<void>((resolve) => {
    baking.child.stderr?.on('data', (d: Buffer) => {
      if (d.toString().includes('"bake.started"')) resolve();
    });
  });
  return baking;
}

/** The agent alone, as a crash would: its watchdog starts it again. */
async function killAgentOnly(): Promise<void> {
  const agent = await new AgentClient(join(p.dir, '.cutover')).request<{ pid: number }>('GET', '/v1/agent');
  process.kill(agent.pid, 'SIGKILL');
}

async function deploy(version: string, env: NodeJS.ProcessEnv = {}, ...flags: string[]) {
  return cli(p.dir, ['deploy', ...words, `version=${version}`, ...flags], env);
}

describe('sequences that must stay safe (local, real processes)', { timeout: 60_000 }, () => {
  it('GIVEN a rollback made a1 live again after its window had been set WHEN a later deploy fails in its bake THEN a1 was never touched and serves again', async () => {
    p = await project();
    expect((await deploy('a1', { WINDOW: '5s' })).code).toBe(0);
    expect((await deploy('a2', { WINDOW: '5s' })).code).toBe(0);
    expect((await cli(p.dir, ['rollback', ...words], { WINDOW: '5s' })).code).toBe(0);
    const a1Pids = (await cli(p.dir, ['status', ...words, '--json'])).stdout;
    await new Promise((r) => setTimeout(r, 5500)); // past the window a1 had as a standby
    const failed = await deploy('sour', { BAKE: '3s' });
    expect(failed.code).toBe(1);
    expect(failed.events.map((e) => e.code)).toContain('traffic.restored');
    expect(await served(p.endpoint)).toBe('a1');
    expect((await status()).fleets.find((f) => f.version === 'a1')?.instances).toEqual(
      (statusBody(a1Pids) as Awaited<ReturnType<typeof status>>).fleets.find((f) => f.version === 'a1')
        ?.instances,
    );
  });

  it('GIVEN a fleet kept with --keep-failed after an abort in its bake WHEN rolling back THEN traffic goes to the standby, never to the failed fleet', async () => {
    p = await project();
    expect((await deploy('v1')).code).toBe(0);
    expect((await deploy('v2')).code).toBe(0);
    const baking = await deployInBake('v3', '20s', '--keep-failed');
    expect((await cli(p.dir, ['abort', ...words], { CUTOVER_ACTOR: 'heidi' })).code).toBe(0);
    expect((await baking.done).code).toBe(1);
    expect(await served(p.endpoint)).toBe('v2');
    // Stopped by a signal, the deploy itself records the abort moment its report draws, with who asked.
    const report = join(p.dir, 'v3.html');
    expect((await cli(p.dir, ['report', ...words, '--out', report])).code).toBe(0);
    expect(readFileSync(report, 'utf8')).toMatch(/data-moment="abort" data-at="\d+" data-by="heidi"/);
    const rolledBack = await cli(p.dir, ['rollback', ...words]);
    expect(rolledBack.code).toBe(0);
    expect(await served(p.endpoint)).toBe('v1');
    expect((await status()).standby?.version).toBe('v2');
  });

  it('GIVEN a deploy killed with SIGKILL in its bake WHEN rollback runs THEN it undoes that deploy and moves nothing more', async () => {
    p = await project();
    expect((await deploy('v1')).code).toBe(0);
    expect((await deploy('v2')).code).toBe(0);
    const baking = await deployInBake('v3', '30s');
    baking.child.kill('SIGKILL');
    await baking.done;
    const back = await cli(p.dir, ['rollback', ...words]);
    expect(back.code).toBe(0);
    expect(back.events.filter((e) => e.code === 'traffic.shifted')).toHaveLength(1);
    expect(await served(p.endpoint)).toBe('v2');
    expect((await status()).standby?.version).toBe('v1');
  });

  it('GIVEN the agent (and so the router) dies in the bake WHEN the deploy notices THEN it exits 1 and abort puts traffic back on blue', async () => {
    p = await project();
    expect((await deploy('v1')).code).toBe(0);
    const baking = await deployInBake('v2', '20s');
    await killDataPlane(join(p.dir, '.cutover'));
    const failed = await baking.done;
    expect(failed.code).toBe(1);
    expect(failed.events.some((e) => e.code === 'deploy.succeeded')).toBe(false);
    expect(failed.events.at(-1)?.hint ?? '').toMatch(/cutover abort/);
    expect((await cli(p.dir, ['abort', ...words])).code).toBe(0);
    expect(await served(p.endpoint)).toBe('v1');
  });

  it('GIVEN a deploy in its bake WHEN the agent is killed and its watchdog restarts it THEN the deploy waits for it and finishes, with traffic where it says', async () => {
    p = await project();
    expect((await deploy('v1')).code).toBe(0);
    const baking = await deployInBake('v2', '3s');
    await killAgentOnly();
    const done = await baking.done;
    expect(done.code, done.stderr).toBe(0);
    expect(await served(p.endpoint)).toBe('v2');
    expect((await status()).live?.version).toBe('v2');
    expect((await status()).standby?.version).toBe('v1');
  });

  it('GIVEN the agent was killed (its fleets still run) WHEN rolling back at once THEN the rollback waits for the restarted agent, which knows the standby runs', async () => {
    p = await project();
    expect((await deploy('v1')).code).toBe(0);
    expect((await deploy('v2')).code).toBe(0);
    await killAgentOnly();
    const back = await cli(p.dir, ['rollback', ...words]);
    expect(back.code, back.stderr).toBe(0);
    expect(await served(p.endpoint)).toBe('v1');
  });

  // One environment: a deploy killed in its bake, what status says of it, abort undoing it, then a lock
  // file that names nobody. The kill, v1's deploy and the agent's start happen once.
  describe('one environment, a deploy killed in its bake', () => {
    shareProject((shared) => (p = shared));

    it('GIVEN a deploy killed in its bake WHEN status runs THEN it names the fleet still recorded live, the unbaked green and the gone lock holder', async () => {
      expect((await deploy('v1')).code).toBe(0);
      const baking = await deployInBake('v2', '30s');
      expect(await served(p.endpoint)).toBe('v2');
      baking.child.kill('SIGKILL');
      await baking.done;
      const json = statusBody((await cli(p.dir, ['status', ...words, '--json'])).stdout) as {
        live: { version: string };
        deploying: { version: string; weight: number };
        lock: { stale: boolean; host: string };
      };
      expect(json.live.version).toBe('v1');
      expect(json.deploying).toMatchObject({ version: 'v2', weight: 100 });
      expect(json.lock.stale).toBe(true);
      const text = (await cli(p.dir, ['status', ...words], { CI: '' })).stdout;
      expect(text).toMatch(/green: +v2 takes 100% at step 0 but is not live yet .*controller is gone/);
      expect(text).toMatch(new RegExp(`pid \\d+ on ${json.lock.host}, gone`));
    });

    it('GIVEN a deploy killed with SIGKILL in its bake WHEN abort runs THEN traffic is back on blue and green is gone', async () => {
      const aborted = await cli(p.dir, ['abort', ...words]);
      expect(aborted.code).toBe(0);
      expect(aborted.events.map((e) => e.code)).toEqual(
        expect.arrayContaining(['recovery.started', 'traffic.restored', 'recovery.finished']),
      );
      expect(await served(p.endpoint)).toBe('v1');
      expect((await status()).fleets.map((f) => f.version)).toEqual(['v1']);
    });

    it('GIVEN a lock file that names no holder WHEN status runs THEN it shows it and how to remove it', async () => {
      writeFileSync(join(p.dir, '.cutover', 'locks', 'e2e--catalog.lock'), '');
      const json = statusBody((await cli(p.dir, ['status', ...words, '--json'])).stdout) as {
        lock: { unreadable: string } | null;
      };
      expect(json.lock?.unreadable).toMatch(/e2e--catalog\.lock$/);
    });
  });

  // One environment, each test going on from where the one before left it: a failed first deploy, three
  // versions, a failed one and a rollback, then a version slow to warm up. Each starts the agent and
  // deploys v1 and v2 no more.
  describe('one environment, from a failed first deploy to a slow starter', () => {
    shareProject((shared) => (p = shared));

    it('GIVEN a version that answers 500 WHEN deployed THEN it still fails fast, long before the ready timeout', async () => {
      const started = Date.now();
      const result = await deploy('broken');
      expect(result.code).toBe(1);
      expect(result.events.find((e) => e.code === 'deploy.failed')?.error).toBe('GREEN_UNHEALTHY');
      expect(Date.now() - started).toBeLessThan(8_000); // readyTimeout is 10 s
    });

    it('GIVEN v3 goes live WHEN the deploy ends THEN the old standby is gone and two fleets are left', async () => {
      for (const v of ['v1', 'v2', 'v3']) expect((await deploy(v)).code).toBe(0);
      const now = await status();
      expect(now.fleets.map((f) => f.version).sort()).toEqual(['v2', 'v3']);
      expect(now.standby?.version).toBe('v2');
    });

    it('GIVEN v2 standby (v3 live) WHEN a bad version fails THEN v2 is still there to roll back to', async () => {
      expect((await deploy('broken')).code).toBe(1);
      expect((await status()).standby?.version).toBe('v2');
      expect((await cli(p.dir, ['rollback', ...words])).code).toBe(0);
      expect(await served(p.endpoint)).toBe('v2');
    });

    it('GIVEN a version that answers 503 while it warms up for 1.5 s WHEN deployed THEN it is waited for, not failed', async () => {
      const result = await deploy('warming');
      expect(result.code).toBe(0);
      expect(await served(p.endpoint)).toBe('warming');
    });
  });
});
