import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/providers/local/agent-client.js';
import { isAlive } from '../../src/providers/local/processes.js';
import { cli, project } from '../helpers/cli.js';
import { stopAgent } from '../helpers/local.js';

const words = ['artifact=catalog', 'environment=e2e'];

let p: Awaited<ReturnType<typeof project>>;
afterEach(async () => {
  await stopAgent(join(p.dir, '.cutover'));
  p.remove();
});

async function killAgent(stateDir: string): Promise<void> {
  const client = new AgentClient(stateDir);
  const { pid } = await client.request<{ pid: number }>('GET', '/v1/agent');
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, 20));
}

describe('status: exit 0 only when something serves the environment', () => {
  it('GIVEN nothing was deployed WHEN status runs THEN it exits 1 saying nothing is deployed', async () => {
    p = await project();
    const result = await cli(p.dir, ['status', ...words, '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
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
    expect(JSON.parse(result.stdout)).toMatchObject({ serving: true, notServing: null });
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
