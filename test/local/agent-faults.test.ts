import { mkdirSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { Agent } from '../../src/providers/local/agent.js';
import { freePort } from '../../src/providers/local/processes.js';
import type { InstanceStatus, ServiceStatus } from '../../src/providers/local/protocol.js';
import { writeStore } from '../../src/providers/local/store.js';
import { demoServer } from '../helpers/local.js';
import { tempDir } from '../helpers/tmp.js';

/** The agent survives its own faults: it logs them, keeps routing, and recovers when the fault ends. */

let agent: Agent | undefined;
let dir: ReturnType<typeof tempDir>;
afterEach(async () => {
  await agent?.down('test').catch(() => {});
  await agent?.stop();
  agent = undefined;
  dir.remove();
});

async function until(what: string, check: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function started(options: Partial<ConstructorParameters<typeof Agent>[0]> = {}) {
  dir = tempDir('cutover-agent-');
  const lines: string[] = [];
  const stateFile = join(dir.path, 'agent', 'state.json');
  mkdirSync(join(dir.path, 'agent'), { recursive: true });
  agent = new Agent({
    stateFile,
    logDir: join(dir.path, 'logs'),
    log: (line) => lines.push(line),
    ...options,
  });
  await agent.start();
  const port = await freePort();
  await agent.ensureService('test', 'catalog', `127.0.0.1:${port}`);
  return { lines, stateFile, endpoint: `http://127.0.0.1:${port}/` };
}

async function launch(command: string[], env: Record<string, string> = {}, capacity = 2) {
  return (agent as Agent).launch('test', 'catalog', {
    id: 'f1',
    version: 'v1',
    deployment: 'd1',
    capacity,
    command,
    cwd: dir.path,
    drainTimeoutMs: 1000,
    env,
  });
}

const service = (): ServiceStatus => (agent as Agent).getService('test', 'catalog');
const instances = (): InstanceStatus[] => service().fleets[0]?.instances ?? [];
const allRunning = () => instances().length > 0 && instances().every((i) => i.state === 'running');

async function version(endpoint: string): Promise<string> {
  const response = await request(endpoint);
  return ((await response.body.json()) as { version: string }).version;
}

describe('the agent rides out its own faults', { timeout: 30_000 }, () => {
  it('GIVEN the disk fills up WHEN an instance dies and a weight change comes THEN routing goes on, the change is refused, the instance waits, and once there is room state is saved and the instance starts by itself', async () => {
    let full = false;
    const { lines, stateFile, endpoint } = await started({
      restartPolicy: { baseMs: 50, ceilingMs: 200, stableAfterMs: 60_000 },
      save: (file, state) => {
        if (full)
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        writeStore(file, state);
      },
    });
    await launch([process.execPath, demoServer]);
    await until('the instances to run', allRunning);
    await (agent as Agent).setWeights('test', 'catalog', { f1: 100 });

    full = true;
    const victim = instances()[0] as InstanceStatus;
    process.kill(-(victim.pid as number), 'SIGKILL');
    // Not started again while its pid could not be recorded: it would be an orphan to the next agent.
    await until('the instance to wait for saving', () =>
      (instances()[0]?.lastExit ?? '').includes('not started again until the agent can save its state'),
    );
    expect(agent?.unsaved).toMatch(/ENOSPC/);
    for (let i = 0; i < 10; i++) expect(await version(endpoint)).toBe('v1');
    expect(lines.filter((l) => l.includes('could not save state'))).toHaveLength(1);

    const refused = (agent as Agent).setWeights('test', 'catalog', {});
    await expect(refused).rejects.toMatchObject({
      status: 507,
      message: expect.stringMatching(/weights are as they were/),
    });
    expect(service().weights).toEqual({ f1: 100 });
    expect(await version(endpoint)).toBe('v1');

    full = false;
    await until('the state to be saved', () => agent?.unsaved === undefined);
    await until('the instance to start again', () => allRunning() && instances()[0]?.pid !== victim.pid);
    await until('its pid to be saved', () => {
      const now = JSON.parse(readFileSync(stateFile, 'utf8')) as {
        services: { fleets: { instances: { pid: number }[] }[] }[];
      };
      return now.services[0]?.fleets[0]?.instances[0]?.pid === instances()[0]?.pid;
    });
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      services: { weights: object; fleets: { instances: { pid: number }[] }[] }[];
    };
    expect(saved.services[0]?.weights).toEqual({ f1: 100 });
    expect(saved.services[0]?.fleets[0]?.instances[0]?.pid).toBe(instances()[0]?.pid);
    expect(lines.some((l) => l.includes('state saved again'))).toBe(true);
  });

  it('GIVEN an instance whose log cannot be opened WHEN it must restart THEN the agent logs why, the other instance serves, and it starts once the log can be opened', async () => {
    const { lines, endpoint } = await started({
      restartPolicy: { baseMs: 50, ceilingMs: 200, stableAfterMs: 60_000 },
    });
    await launch([process.execPath, demoServer]);
    await until('the instances to run', allRunning);
    await (agent as Agent).setWeights('test', 'catalog', { f1: 100 });
    const victim = instances()[0] as InstanceStatus;
    // A folder where the log file should be: opening it for appending fails with EISDIR.
    rmSync(victim.log);
    mkdirSync(victim.log);
    process.kill(-(victim.pid as number), 'SIGKILL');
    await until('a failed start to be logged', () =>
      (instances()[0]?.lastExit ?? '').includes('could not open its log'),
    );
    for (let i = 0; i < 10; i++) expect(await version(endpoint)).toBe('v1');

    rmSync(victim.log, { recursive: true });
    await until('the instance to run again', allRunning);
    expect(existsSync(victim.log)).toBe(true);
    expect(lines.some((l) => l.includes('unhandled'))).toBe(false);
  });

  it('GIVEN an instance crashed several times in a row WHEN it then runs for the stable period and crashes THEN its next start comes after the base delay again', async () => {
    const policy = { baseMs: 100, ceilingMs: 10_000, stableAfterMs: 600 };
    await started({ restartPolicy: policy });
    const controlFile = join(dir.path, 'control');
    writeFileSync(controlFile, 'crash');
    // Exits at once while the file says so; otherwise serves, and exits when told to.
    const script = `
      const fs = require('node:fs');
      const crash = () => fs.readFileSync(process.env.CONTROL, 'utf8') === 'crash';
      if (crash()) process.exit(3);
      require('node:http').createServer((q, s) => s.end('{}')).listen(Number(process.env.PORT), '127.0.0.1');
      setInterval(() => { if (crash()) process.exit(3); }, 20);`;
    await launch([process.execPath, '-e', script], { CONTROL: controlFile }, 1);
    await until('three crashes', () => (instances()[0]?.restarts ?? 0) >= 3);
    const climbing = instances()[0] as InstanceStatus;
    expect(climbing.state).toBe('restarting');
    // Three crashes in a row: the wait has doubled twice.
    expect((climbing.restartAt as number) - Date.now()).toBeGreaterThan(policy.baseMs * 2);

    writeFileSync(controlFile, 'run');
    await until('the instance to run', allRunning, 10_000);
    await new Promise((r) => setTimeout(r, policy.stableAfterMs + 100));
    const before = instances()[0]?.restarts ?? 0;
    writeFileSync(controlFile, 'crash');
    await until('the crash after a stable run', () => (instances()[0]?.restarts ?? 0) > before);
    const reset = instances()[0] as InstanceStatus;
    expect(reset.state).toBe('restarting');
    expect((reset.restartAt as number) - Date.now()).toBeLessThanOrEqual(policy.baseMs);
  });
});
