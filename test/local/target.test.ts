import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { agentPaths } from '../../src/providers/local/paths.js';
import { freePort, isAlive, processStartTime } from '../../src/providers/local/processes.js';
import type { ServiceStatus } from '../../src/providers/local/protocol.js';
import { describeTargetContract } from '../contract/target-contract.js';
import { demoServer, killDataPlane, localTarget } from '../helpers/local.js';

describeTargetContract('local', async () => {
  const local = await localTarget();
  return {
    target: local.target,
    versions: ['v1', 'v2'],
    deadline: () => Date.now() + 10_000,
    cleanup: local.cleanup,
  };
});

async function body(url: string): Promise<string> {
  const response = await request(url);
  return response.body.text();
}

async function until(what: string, check: () => Promise<boolean>, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('local target', () => {
  let local: Awaited<ReturnType<typeof localTarget>>;
  afterEach(async () => local.cleanup());

  const service = () => local.client.request<ServiceStatus>('GET', '/v1/services/test/catalog');

  it('serves the live fleet through its router over real HTTP', async () => {
    local = await localTarget();
    await local.target.router.ensure();
    await local.target.fleet.launch({ id: 'd-1', version: 'v1', deployment: 'd-1' });
    await local.target.fleet.waitReady('d-1', Date.now() + 10_000, () => {});
    await local.target.router.setWeights({ 'd-1': 100 });
    expect(JSON.parse(await body(`${local.endpoint}/`))).toMatchObject({ service: 'catalog', version: 'v1' });
  });

  it('keeps its control socket to its owner: folder 0700, socket 0600', async () => {
    local = await localTarget();
    await local.target.router.ensure();
    const paths = agentPaths(local.stateDir);
    expect(statSync(paths.dir).mode & 0o777).toBe(0o700);
    expect(statSync(paths.socket).mode & 0o777).toBe(0o600);
  });

  it('GIVEN a fleet is launched THEN its instance logs are 0600 in a 0700 folder', async () => {
    local = await localTarget();
    await local.target.router.ensure();
    await local.target.fleet.launch({ id: 'd-1', version: 'v1', deployment: 'd-1' });
    const logs = (await service()).fleets[0]?.instances.map((i) => i.log) ?? [];
    expect(logs).toHaveLength(2);
    expect(statSync(agentPaths(local.stateDir).logs).mode & 0o777).toBe(0o700);
    for (const log of logs) expect(statSync(log).mode & 0o777).toBe(0o600);
  });

  it('restarts an instance that dies, on the same port', async () => {
    local = await localTarget();
    await local.target.router.ensure();
    await local.target.fleet.launch({ id: 'd-1', version: 'v1', deployment: 'd-1' });
    await local.target.fleet.waitReady('d-1', Date.now() + 10_000, () => {});
    const before = (await service()).fleets[0]?.instances[0];
    if (!before?.pid) throw new Error('no instance pid');
    process.kill(before.pid, 'SIGKILL');
    await until('the instance to be restarted', async () => {
      const now = (await service()).fleets[0]?.instances[0];
      return now?.state === 'running' && now.pid !== before.pid;
    });
    const after = (await service()).fleets[0]?.instances[0];
    expect(after).toMatchObject({ port: before.port, restarts: 1, lastExit: 'killed by SIGKILL' });
  });

  it('GIVEN an instance that keeps exiting WHEN its fleet is listed THEN the instance is not running', async () => {
    local = await localTarget([process.execPath, '-e', 'process.exit(3)']);
    await local.target.router.ensure();
    await local.target.fleet.launch({ id: 'd-1', version: 'v1', deployment: 'd-1' });
    await until(
      'the instances to exit',
      async () => (await service()).fleets[0]?.instances.every((i) => i.restarts > 0) ?? false,
    );
    const [listed] = await local.target.fleet.list();
    expect(listed?.instances.map((i) => i.up)).toEqual([false, false]);
  });

  it('fails waitReady at once, naming the log, when an instance exits while starting', async () => {
    local = await localTarget([process.execPath, '-e', 'process.exit(3)']);
    await local.target.router.ensure();
    await local.target.fleet.launch({ id: 'd-1', version: 'v1', deployment: 'd-1' });
    await expect(local.target.fleet.waitReady('d-1', Date.now() + 10_000, () => {})).rejects.toMatchObject({
      code: 'INSTANCE_EXITED',
      message: expect.stringContaining('exit code 3'),
      hint: expect.stringContaining('.log'),
    });
  });

  it('GIVEN the agent is killed WHEN the next command connects THEN a new agent re-adopts the running fleet', async () => {
    local = await localTarget();
    await local.target.router.ensure();
    await local.target.fleet.launch({ id: 'd-1', version: 'v1', deployment: 'd-1' });
    await local.target.fleet.waitReady('d-1', Date.now() + 10_000, () => {});
    await local.target.router.setWeights({ 'd-1': 100 });
    const pidsBefore = (await service()).fleets[0]?.instances.map((i) => i.pid);
    const agent = await killDataPlane(local.stateDir);
    await local.client.close();

    expect((await local.target.describe()).warning).toMatch(
      /agent is not running, so the router on .* is down/,
    );
    await local.target.router.ensure();
    expect((await local.target.describe()).warning).toBeUndefined();
    const adopted = await local.client.request<{ pid: number }>('GET', '/v1/agent');
    expect(adopted.pid).not.toBe(agent.pid);
    expect((await service()).fleets[0]?.instances.map((i) => i.pid)).toEqual(pidsBefore);
    expect(await local.target.router.readWeights()).toEqual({ 'd-1': 100 });
    expect(JSON.parse(await body(`${local.endpoint}/`))).toMatchObject({ version: 'v1' });
  });

  it('GIVEN its state records an instance whose pid now belongs to a later process WHEN an agent starts and the environment goes down THEN that process is neither adopted nor killed', async () => {
    local = await localTarget();
    const stranger = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const pid = stranger.pid ?? 0;
      await until('the stranger to start', async () => processStartTime(pid) !== undefined);
      const port = await freePort();
      const paths = agentPaths(local.stateDir);
      mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
      writeFileSync(
        paths.state,
        JSON.stringify({
          services: [
            {
              environment: 'test',
              artifact: 'catalog',
              listen: new URL(local.endpoint).host,
              weights: { 'd-1': 100 },
              fleets: [
                {
                  id: 'd-1',
                  version: 'v1',
                  deployment: 'd-1',
                  createdAt: Date.now(),
                  command: [process.execPath, demoServer],
                  cwd: local.stateDir,
                  drainTimeoutMs: 1000,
                  instances: [
                    {
                      id: 'd-1-0',
                      port,
                      pid,
                      processStart: (processStartTime(pid) ?? 0) - 1,
                      log: join(local.stateDir, 'd-1-0.log'),
                    },
                  ],
                },
              ],
            },
          ],
        }),
      );
      await local.target.router.ensure();
      await until('a new instance on the recorded port', async () => {
        const instance = (await service()).fleets[0]?.instances[0];
        return instance?.state === 'running' && instance.pid !== pid;
      });
      expect(JSON.parse(await body(`${local.endpoint}/`))).toMatchObject({ version: 'v1' });
      const recorded = JSON.parse(readFileSync(paths.state, 'utf8')).services[0].fleets[0].instances[0];
      expect(recorded.processStart).toBe(processStartTime(recorded.pid));
      await local.client.request('DELETE', '/v1/environments/test');
      expect(stranger.exitCode).toBeNull();
      expect(stranger.signalCode).toBeNull();
      expect(isAlive(pid)).toBe(true);
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  it('GIVEN its state file and the previous copy are both corrupt WHEN an agent starts THEN it runs, adopts nothing, and its log and status say so', async () => {
    local = await localTarget();
    const paths = agentPaths(local.stateDir);
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    writeFileSync(paths.state, '{"services": [{"environment": "te');
    writeFileSync(`${paths.state}.prev`, '');

    await local.target.router.ensure();
    expect(await local.client.isRunning()).toBe(true);
    expect((await service()).fleets).toEqual([]);
    expect(readFileSync(paths.log, 'utf8')).toMatch(/agent \d+: state: `.*state\.json` cannot be used/);
    expect((await local.target.describe()).warning).toMatch(
      /could not read its state and started with none: .* kept as .*state\.json\.unreadable/,
    );
    expect(readFileSync(`${paths.state}.unreadable`, 'utf8')).toBe('{"services": [{"environment": "te');

    await local.target.fleet.launch({ id: 'd-1', version: 'v1', deployment: 'd-1' });
    await local.target.fleet.waitReady('d-1', Date.now() + 10_000, () => {});
    await local.target.router.setWeights({ 'd-1': 100 });
    expect(JSON.parse(await body(`${local.endpoint}/`))).toMatchObject({ version: 'v1' });
  });

  it('retires a standby by itself once its rollback window has closed', async () => {
    local = await localTarget();
    await local.target.router.ensure();
    for (const [id, version] of [
      ['d-1', 'v1'],
      ['d-2', 'v2'],
    ] as const) {
      await local.target.fleet.launch({ id, version, deployment: id });
      await local.target.fleet.waitReady(id, Date.now() + 10_000, () => {});
    }
    await local.target.router.setWeights({ 'd-2': 100 });
    const standbyPid = (await service()).fleets[0]?.instances[0]?.pid ?? 0;
    await local.target.fleet.setRole('d-1', { role: 'standby', until: Date.now() + 200 });
    await until('the standby to be retired', async () => (await local.target.fleet.list()).length === 1);
    expect((await local.target.fleet.list())[0]?.id).toBe('d-2');
    await until('the standby process to exit', async () => !isAlive(standbyPid));
  });
});
