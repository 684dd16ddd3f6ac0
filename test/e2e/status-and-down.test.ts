import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { AgentClient } from '../../src/providers/local/agent-client.js';
import { agentPaths } from '../../src/providers/local/paths.js';
import { isAlive } from '../../src/providers/local/processes.js';
import { loadStore } from '../../src/providers/local/store.js';
import { cli, project, statusBody } from '../helpers/cli.js';
import { instancePids, killDataPlane, stopAgent } from '../helpers/local.js';

const words = ['artifact=catalog', 'environment=e2e'];

let p: Awaited<ReturnType<typeof project>>;
afterEach(async () => {
  await stopAgent(join(p.dir, '.cutover'));
  p.remove();
});

async function killAgent(stateDir: string): Promise<void> {
  await killDataPlane(stateDir);
}

async function until(what: string, check: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('status: exit 0 only when something serves the environment', () => {
  it('GIVEN nothing was deployed WHEN status runs THEN it exits 1 saying nothing is deployed', async () => {
    p = await project();
    const result = await cli(p.dir, ['status', ...words, '--json']);
    expect(result.code).toBe(1);
    expect(statusBody(result.stdout)).toMatchObject({
      serving: false,
      notServing: 'nothing is deployed here',
    });
    expect(result.events.map((e) => e.code)).toContain('status.not_serving');
  });

  it('GIVEN a live fleet with running instances WHEN status runs THEN it exits 0', async () => {
    p = await project();
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    const result = await cli(p.dir, ['status', ...words, '--json']);
    expect(result.code).toBe(0);
    expect(statusBody(result.stdout)).toMatchObject({ serving: true, notServing: null });
  });

  it('GIVEN the agent died WHEN status runs THEN it exits 1 saying the agent is not running', async () => {
    p = await project();
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    await killAgent(join(p.dir, '.cutover'));
    const result = await cli(p.dir, ['status', ...words]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/serving: {2}no: the local agent is not running/);
  });
});

describe('down: stops what the state file records, agent or not', () => {
  it('GIVEN the agent died and its instances still run WHEN down runs THEN it stops their process groups and forgets them', async () => {
    p = await project();
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    const stateDir = join(p.dir, '.cutover');
    const pids = instancePids(stateDir);
    expect(pids).toHaveLength(2);
    await killAgent(stateDir);
    expect(pids.filter(isAlive)).toEqual(pids);

    const down = await cli(p.dir, ['down', 'environment=e2e']);
    expect(down.code).toBe(0);
    expect(down.events.find((e) => e.code === 'environment.down')).toMatchObject({
      stopped: ['e2e/catalog'],
    });
    await until('the instances to exit', () => pids.every((pid) => !isAlive(pid)));
    expect(loadStore(agentPaths(stateDir).state).state.services).toEqual([]);

    // A later command's agent has nothing to re-adopt or restart.
    expect((await cli(p.dir, ['status', ...words])).code).toBe(1);
    await expect(request(p.endpoint)).rejects.toThrow(/ECONNREFUSED/);
    expect(existsSync(agentPaths(stateDir).socket) && (await new AgentClient(stateDir).isRunning())).toBe(
      false,
    );
  });
});
