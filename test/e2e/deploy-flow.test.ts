import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { isAlive } from '../../src/providers/local/processes.js';
import { shareProject, isShared } from '../helpers/shared-project.js';
import { cli, project, statusBody } from '../helpers/cli.js';
import { versionedLoad as load } from '../helpers/load.js';
import { instancePids, stopAgent } from '../helpers/local.js';

let p: Awaited<ReturnType<typeof project>>;
afterEach(async () => {
  if (isShared(p)) return;
  await stopAgent(join(p.dir, '.cutover'));
  p.remove();
});

const words = ['artifact=catalog', 'environment=e2e'];

async function servedVersion(endpoint: string): Promise<string> {
  const response = await request(endpoint);
  return ((await response.body.json()) as { version: string }).version;
}

describe('the local flow through the real CLI', () => {
  it('deploys v1, deploys v2 keeping v1 as standby, rolls back without launching, refuses broken, goes down', async () => {
    p = await project();
    const deployV1 = await cli(p.dir, ['deploy', ...words, 'version=v1']);
    expect(deployV1.code).toBe(0);
    expect(deployV1.events.map((e) => e.code)).toEqual(
      expect.arrayContaining([
        'deploy.started',
        'health.passed',
        'traffic.shifted',
        'bake.passed',
        'deploy.succeeded',
      ]),
    );
    expect(await servedVersion(p.endpoint)).toBe('v1');

    const deployV2 = await cli(p.dir, ['deploy', ...words, 'version=v2']);
    expect(deployV2.code).toBe(0);
    expect(await servedVersion(p.endpoint)).toBe('v2');
    const afterV2 = statusBody((await cli(p.dir, ['status', ...words, '--json'])).stdout);
    expect(afterV2).toMatchObject({ live: { version: 'v2', weight: 100 }, standby: { version: 'v1' } });
    const pidsBefore = instancePids(join(p.dir, '.cutover')).sort();
    expect(pidsBefore).toHaveLength(4);

    const back = await cli(p.dir, ['rollback', ...words]);
    expect(back.code).toBe(0);
    expect(await servedVersion(p.endpoint)).toBe('v1');
    expect(instancePids(join(p.dir, '.cutover')).sort()).toEqual(pidsBefore);
    expect(back.events.map((e) => e.code)).not.toContain('green.launching');

    const broken = await cli(p.dir, ['deploy', ...words, 'version=broken']);
    expect(broken.code).toBe(1);
    const failure = broken.events.at(-1);
    expect(failure).toMatchObject({ level: 'error', code: 'GREEN_UNHEALTHY', exitCode: 1 });
    expect(String(failure?.message)).toMatch(
      /`broken` failed its health check: .*answered 500, expected 200/,
    );
    expect(await servedVersion(p.endpoint)).toBe('v1');

    const status = statusBody((await cli(p.dir, ['status', ...words, '--json'])).stdout);
    expect(status).toMatchObject({
      artifact: 'catalog',
      environment: 'e2e',
      target: 'local',
      live: { version: 'v1', weight: 100 },
      lastDeployment: { kind: 'deploy', version: 'broken', phase: 'failed' },
      lock: null,
    });
    // The failed deploy left the standby where it was: v2 is still there to go forward to.
    expect(status.fleets.map((f: { version: string }) => f.version)).toEqual(['v1', 'v2']);
    expect(status.standby).toMatchObject({ version: 'v2' });

    const pids = instancePids(join(p.dir, '.cutover'));
    const down = await cli(p.dir, ['down', 'environment=e2e']);
    expect(down.code).toBe(0);
    await expect(request(p.endpoint)).rejects.toThrow(/ECONNREFUSED/);
    await new Promise((r) => setTimeout(r, 300));
    expect(pids.filter(isAlive)).toEqual([]);
  });

  // One environment from here on, v1 deployed once: a rollback with no standby, a broken version, then
  // v2, a rollback and v2 again, each under load where it says so.
  describe('from v1 alone', () => {
    shareProject((shared) => (p = shared));

    it('says which version to deploy when there is no standby to roll back to', async () => {
      expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
      const result = await cli(p.dir, ['rollback', ...words]);
      expect(result.code).toBe(1);
      expect(result.events.at(-1)).toMatchObject({
        code: 'NO_STANDBY',
        hint: expect.stringContaining('cutover deploy'),
      });
      expect(existsSync(join(p.dir, '.cutover', 'locks', 'e2e--catalog.lock'))).toBe(false);
    });

    it('keeps traffic on v1 (and no standby) for every request while a broken version is tried', async () => {
      const traffic = load(p.endpoint);
      expect((await cli(p.dir, ['deploy', ...words, 'version=broken'])).code).toBe(1);
      await traffic.stop();
      expect(traffic.failures).toEqual([]);
      expect(new Set(traffic.seen)).toEqual(new Set(['v1']));
    });

    it('serves every request with 200 while deploying v2, rolling back and deploying again under load', async () => {
      const traffic = load(p.endpoint);
      expect((await cli(p.dir, ['deploy', ...words, 'version=v2'])).code).toBe(0);
      expect((await cli(p.dir, ['rollback', ...words])).code).toBe(0);
      expect((await cli(p.dir, ['deploy', ...words, 'version=v2'])).code).toBe(0);
      await traffic.stop();
      expect(traffic.failures).toEqual([]);
      expect(new Set(traffic.seen)).toEqual(new Set(['v1', 'v2']));
      expect(traffic.seen.at(-1)).toBe('v2');
    });
  });
});
