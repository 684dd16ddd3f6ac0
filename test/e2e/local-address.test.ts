import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { AgentClient } from '../../src/providers/local/agent-client.js';
import { freePort } from '../../src/providers/local/processes.js';
import { cli } from '../helpers/cli.js';
import { demoServer, instancePids, killDataPlane, stopAgent } from '../helpers/local.js';
import { tempDir } from '../helpers/tmp.js';

let dir: ReturnType<typeof tempDir>;
afterEach(async () => {
  await stopAgent(join(dir.path, '.cutover'));
  dir.remove();
});

/** One local environment and two artifacts: both would want the environment's one address. */
async function twoArtifacts(): Promise<string> {
  dir = tempDir('cutover-address-');
  const port = await freePort();
  const command = `[${JSON.stringify(process.execPath)}, ${JSON.stringify(demoServer)}]`;
  writeFileSync(
    join(dir.path, 'cutover.config.yaml'),
    `artifacts:
  catalog:
    command: ${command}
  search:
    command: ${command}
environments:
  e2e:
    target: local
    listen: 127.0.0.1:${port}
    capacity: 1
    bake: 100ms
    healthCheck: { interval: 100ms, healthyThreshold: 1, readyTimeout: 10s }
`,
  );
  return `http://127.0.0.1:${port}/`;
}

describe('one address, one artifact', () => {
  it('GIVEN catalog serves an address WHEN search is deployed to the same environment THEN it exits 2 naming catalog, starting nothing', async () => {
    const endpoint = await twoArtifacts();
    expect((await cli(dir.path, ['deploy', 'artifact=catalog', 'environment=e2e', 'version=v1'])).code).toBe(
      0,
    );
    const pids = instancePids(join(dir.path, '.cutover'));

    const second = await cli(dir.path, ['deploy', 'artifact=search', 'environment=e2e', 'version=v1']);
    expect(second.code).toBe(2);
    expect(second.events.at(-1)).toMatchObject({
      code: 'LISTEN_TAKEN',
      exitCode: 2,
      hint: expect.stringContaining('cutover down environment=e2e'),
    });
    expect(String(second.events.at(-1)?.message)).toContain('artifact `catalog`');
    expect(second.events.map((e) => e.code)).not.toContain('deploy.started');
    expect(instancePids(join(dir.path, '.cutover'))).toEqual(pids);
    const served = (await (await request(endpoint)).body.json()) as { service: string };
    expect(served.service).toBe('catalog');
  });

  it('GIVEN catalog was deployed and its agent died WHEN search is deployed there THEN it is refused from the state file, with no agent started', async () => {
    await twoArtifacts();
    expect((await cli(dir.path, ['deploy', 'artifact=catalog', 'environment=e2e', 'version=v1'])).code).toBe(
      0,
    );
    const client = new AgentClient(join(dir.path, '.cutover'));
    await killDataPlane(join(dir.path, '.cutover'));

    const second = await cli(dir.path, ['deploy', 'artifact=search', 'environment=e2e', 'version=v1']);
    expect(second.code).toBe(2);
    expect(second.events.at(-1)).toMatchObject({ code: 'LISTEN_TAKEN' });
    expect(await client.isRunning()).toBe(false);
  });
});

describe('a router that cannot be where the config says', () => {
  it('GIVEN the port is taken by another program WHEN deploying THEN it exits 2 naming the address, starting no fleet', async () => {
    dir = tempDir('cutover-address-');
    const port = await freePort();
    const squatter = net.createServer().listen(port, '127.0.0.1');
    await new Promise((r) => squatter.once('listening', r));
    try {
      const command = `[${JSON.stringify(process.execPath)}, ${JSON.stringify(demoServer)}]`;
      writeFileSync(
        join(dir.path, 'cutover.config.yaml'),
        `artifacts:\n  catalog:\n    command: ${command}\nenvironments:\n  e2e:\n    target: local\n    listen: 127.0.0.1:${port}\n`,
      );
      const result = await cli(dir.path, ['deploy', 'artifact=catalog', 'environment=e2e', 'version=v1']);
      expect(result.code).toBe(2);
      expect(result.events.at(-1)).toMatchObject({ code: 'LISTEN_UNAVAILABLE' });
      expect(String(result.events.at(-1)?.message)).toContain(`127.0.0.1:${port}`);
      expect(instancePids(join(dir.path, '.cutover'))).toEqual([]);
    } finally {
      squatter.close();
    }
  });

  it('GIVEN a router serves the old address WHEN the config moves it THEN the deploy exits 2 saying how to move it', async () => {
    const endpoint = await twoArtifacts();
    expect((await cli(dir.path, ['deploy', 'artifact=catalog', 'environment=e2e', 'version=v1'])).code).toBe(
      0,
    );
    const port = await freePort();
    const config = join(dir.path, 'cutover.config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace(/listen: .*/, `listen: 127.0.0.1:${port}`));
    const moved = await cli(dir.path, ['deploy', 'artifact=catalog', 'environment=e2e', 'version=v2']);
    expect(moved.code).toBe(2);
    expect(moved.events.at(-1)).toMatchObject({ code: 'LISTEN_UNAVAILABLE' });
    expect(String(moved.events.at(-1)?.hint ?? moved.events.at(-1)?.message)).toMatch(/cutover down/);
    const response = await request(endpoint);
    expect(((await response.body.json()) as { version: string }).version).toBe('v1');
  });
});
