import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { cli, cliPath, project, statusBody } from '../helpers/cli.js';
import { instancePids, stopAgent } from '../helpers/local.js';
import { steadyLoad } from '../helpers/load.js';
import { AgentClient } from '../../src/providers/local/agent-client.js';
import { agentPaths } from '../../src/providers/local/paths.js';
import { isAlive } from '../../src/providers/local/processes.js';
import type { AgentInfo } from '../../src/providers/local/protocol.js';

/**
 * The local data plane rides out the loss of any one of its processes by itself: a killed agent comes
 * back under its watchdog with the same weights, a killed router worker is replaced while the others
 * serve, a killed watchdog stops nothing, and a killed instance costs no GET. No cutover command runs.
 */

let p: Awaited<ReturnType<typeof project>>;
let stateDir: string;
afterEach(async () => {
  await stopAgent(stateDir);
  p.remove();
});

const words = ['artifact=catalog', 'environment=e2e'];

async function served(): Promise<string> {
  const response = await request(p.endpoint);
  return ((await response.body.json()) as { version: string }).version;
}

async function agentInfo(): Promise<AgentInfo> {
  return new AgentClient(stateDir).request<AgentInfo>('GET', '/v1/agent');
}

/**
 * Waits until the router answers `version` again, polling every 20 ms. The budget is generous on
 * purpose: how fast it comes back is measured by \`npm run bench:cutover\`, not asserted here.
 */
async function answersAgain(version: string, ms = 10_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    try {
      if ((await served()) === version) return Date.now() - started;
    } catch {
      // Not yet.
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the router did not answer ${version} within ${ms} ms`);
}

/** Agent processes running for this state folder, by their command line. */
function agentProcesses(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return cmdline.some((arg) => arg.endsWith('agent-main.js')) && cmdline.includes(stateDir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function deployed(...versions: string[]): Promise<void> {
  p = await project();
  stateDir = join(p.dir, '.cutover');
  for (const version of versions) {
    expect((await cli(p.dir, ['deploy', ...words, `version=${version}`])).code).toBe(0);
  }
}

describe('the local data plane rides out a killed process', { timeout: 60_000 }, () => {
  it('GIVEN v2 live WHEN the agent is killed with SIGKILL THEN the routers answer v2 again by themselves, with no command run', async () => {
    await deployed('v1', 'v2');
    const before = await agentInfo();
    expect(before.watchdog).toBeDefined();
    expect(before.workers.length).toBeGreaterThan(0);
    process.kill(before.pid, 'SIGKILL');
    await until('the agent to die', () => !isAlive(before.pid));

    await answersAgain('v2');
    const after = await agentInfo();
    expect(after.pid).not.toBe(before.pid);
    expect(after.watchdog).toBe(before.watchdog);
    expect(agentProcesses()).toEqual([after.pid]);
    const weights = await cli(p.dir, ['status', ...words, '--json']);
    expect(statusBody(weights.stdout)).toMatchObject({ live: { version: 'v2', weight: 100 } });
  });

  it('GIVEN steady load WHEN one router worker is killed THEN the others keep answering and a new worker takes its place', async () => {
    await deployed('v1');
    const before = await agentInfo();
    expect(before.workers.length).toBeGreaterThanOrEqual(2);
    const load = steadyLoad(p.endpoint, 8);
    await new Promise((r) => setTimeout(r, 300));
    const victim = before.workers[0] as number;
    process.kill(victim, 'SIGKILL');
    await until('a new worker', async () => {
      const now = await agentInfo();
      return now.workers.length === before.workers.length && !now.workers.includes(victim);
    });
    await new Promise((r) => setTimeout(r, 300));
    const result = await load.stop();
    expect((await agentInfo()).pid).toBe(before.pid);
    expect(result.ok).toBeGreaterThan(20);
    // Only requests the killed worker held can fail; the router as a whole never stops answering.
    const lastFailure = result.failedAt.at(-1) ?? 0;
    const firstFailure = result.failedAt[0] ?? 0;
    expect(lastFailure - firstFailure, result.samples.join('; ')).toBeLessThan(5000);
    expect(result.failed).toBeLessThanOrEqual(8);
  });

  it('GIVEN the watchdog is killed WHEN traffic and then a command come THEN nothing stops and no second agent starts', async () => {
    await deployed('v1');
    const before = await agentInfo();
    process.kill(before.watchdog as number, 'SIGKILL');
    const load = steadyLoad(p.endpoint, 4);
    await new Promise((r) => setTimeout(r, 500));
    const status = await cli(p.dir, ['status', ...words]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`agent:    running, pid ${before.pid}`);
    expect(status.stdout).toContain('no watchdog: nothing restarts it if it dies');
    const result = await load.stop();
    expect(result.failed, result.samples.join('; ')).toBe(0);
    expect((await agentInfo()).pid).toBe(before.pid);
    expect(agentProcesses()).toEqual([before.pid]);

    // The next command that needs the agent gives it a new watchdog, which restarts it when it dies.
    expect((await cli(p.dir, ['deploy', ...words, 'version=v2'])).code).toBe(0);
    const watched = await agentInfo();
    expect(watched.pid).toBe(before.pid);
    expect(watched.watchdog).toBeDefined();
    expect(watched.watchdog).not.toBe(before.watchdog);
    process.kill(watched.pid, 'SIGKILL');
    await answersAgain('v2');
    expect((await agentInfo()).watchdog).toBe(watched.watchdog);
  });

  it('GIVEN a running agent whose lock names a dead process (it could not write its own) WHEN another agent starts THEN it finds the first answering and stops', async () => {
    await deployed('v1');
    const before = await agentInfo();
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => gone.once('exit', resolve));
    const lock = agentPaths(stateDir).agentLock;
    const holder = JSON.parse(readFileSync(lock, 'utf8')) as Record<string, unknown>;
    writeFileSync(lock, JSON.stringify({ ...holder, pid: gone.pid, processStart: 1 }));

    const second = spawn(process.execPath, [cliPath, 'agent', '--state-dir', stateDir], { stdio: 'ignore' });
    // A second agent that did start is stopped, so a failure here leaves nothing running.
    const stray = setTimeout(() => second.kill('SIGTERM'), 10_000);
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    clearTimeout(stray);
    expect(code).toBe(3);
    expect(agentProcesses()).toEqual([before.pid]);
    expect((await agentInfo()).pid).toBe(before.pid);
    expect(await served()).toBe('v1');
  });

  it('GIVEN the agent dies WHEN down runs before its watchdog restarts it THEN down waits for the restart, and the agent, with nothing to serve, stops with its watchdog', async () => {
    await deployed('v1');
    const before = await agentInfo();
    process.kill(before.pid, 'SIGKILL');
    const down = await cli(p.dir, ['down', 'environment=e2e']);
    expect(down.code).toBe(0);
    // Stopping from the state file while the watchdog restarts the agent would race the agent reading it.
    expect(down.stdout + down.stderr).not.toContain('the local agent was not running');
    await until('the watchdog to stop', () => !isAlive(before.watchdog as number));
    expect(agentProcesses()).toEqual([]);
  });

  it('GIVEN the agent was just killed WHEN commands run while its watchdog restarts it THEN one agent runs afterwards', async () => {
    await deployed('v1');
    const before = await agentInfo();
    process.kill(before.pid, 'SIGKILL');
    const results = await Promise.all([1, 2, 3].map(() => cli(p.dir, ['status', ...words])));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    await new Promise((r) => setTimeout(r, 500));
    const after = await agentInfo();
    expect(agentProcesses()).toEqual([after.pid]);
    expect(await served()).toBe('v1');
  });

  it('GIVEN two instances under steady GET load WHEN one is killed with SIGKILL THEN no GET fails', async () => {
    await deployed('v1');
    const load = steadyLoad(p.endpoint, 10);
    await new Promise((r) => setTimeout(r, 300));
    const [victim] = instancePids(stateDir);
    process.kill(-(victim as number), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    const result = await load.stop();
    expect(result.ok).toBeGreaterThan(20);
    expect(result.failed, result.samples.join('; ')).toBe(0);
  });
});

describe('status with an instance down', { timeout: 60_000 }, () => {
  it('GIVEN one of two live instances cannot start again WHEN status runs THEN it says how many are up, not only how many there are', async () => {
    await deployed('v1');
    const state = JSON.parse(readFileSync(agentPaths(stateDir).state, 'utf8')) as {
      services: { fleets: { instances: { pid: number; log: string }[] }[] }[];
    };
    const victim = state.services[0]?.fleets[0]?.instances[0] as { pid: number; log: string };
    // A folder where its log goes: the agent cannot start it again until the folder is gone.
    rmSync(victim.log);
    mkdirSync(victim.log);
    process.kill(-victim.pid, 'SIGKILL');
    await until('the agent to see it down', async () =>
      (await cli(p.dir, ['status', ...words])).stdout.includes('(100%, 2 instances, 1 up)'),
    );
    expect(await served()).toBe('v1');
  });
});

describe('cutover agent: the foreground agent for a service manager', { timeout: 60_000 }, () => {
  /** A service manager's restart loop: starts `cutover agent` again whenever it exits, unless told not to. */
  function restartLoop(dir: string) {
    let current: ChildProcess | undefined;
    let stopped = false;
    let delayMs = 100;
    const exits: (number | null)[] = [];
    const start = () => {
      const child = spawn(process.execPath, [cliPath, 'agent', '--state-dir', dir], { stdio: 'ignore' });
      current = child;
      child.once('exit', (code) => {
        exits.push(code);
        if (!stopped && code !== 3) setTimeout(start, delayMs);
      });
    };
    start();
    return {
      pid: () => current?.pid,
      exits,
      slowDown(ms: number) {
        delayMs = ms;
      },
      async stop() {
        stopped = true;
        const last = current;
        if (!last || last.exitCode !== null || last.signalCode !== null) return;
        const exited = new Promise((resolve) => last.once('exit', resolve));
        last.kill('SIGTERM');
        await exited;
      },
    };
  }

  it('GIVEN cutover agent runs under a restart loop WHEN it is killed THEN the loop restarts it, the routers answer again, and the CLI never starts its own', async () => {
    p = await project();
    stateDir = join(p.dir, '.cutover');
    const loop = restartLoop(stateDir);
    try {
      await until('the agent to answer', () => new AgentClient(stateDir).isRunning());
      expect(existsSync(agentPaths(stateDir).managed)).toBe(true);
      expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
      const first = await agentInfo();
      expect(first.watchdog).toBeUndefined();
      expect(first.pid).toBe(loop.pid());

      process.kill(first.pid, 'SIGKILL');
      await answersAgain('v1');
      expect((await agentInfo()).pid).toBe(loop.pid());

      // A deploy in a longer gap waits for the service manager's agent rather than starting its own.
      loop.slowDown(1500);
      process.kill(loop.pid() as number, 'SIGKILL');
      expect((await cli(p.dir, ['deploy', ...words, 'version=v2'])).code).toBe(0);
      const second = await agentInfo();
      expect(second.pid).toBe(loop.pid());
      expect(second.watchdog).toBeUndefined();
      expect(existsSync(agentPaths(stateDir).watchdogLock)).toBe(false);
      expect(await served()).toBe('v2');

      const extra = spawn(process.execPath, [cliPath, 'agent', '--state-dir', stateDir], { stdio: 'ignore' });
      const code = await new Promise<number | null>((resolve) => extra.once('exit', resolve));
      expect(code).toBe(3);
      expect((await agentInfo()).pid).toBe(second.pid);
    } finally {
      await loop.stop();
    }
    // Stopped on purpose: the mark goes, so a later CLI starts its own agent rather than wait for one.
    expect(loop.exits.at(-1)).toBe(0);
    expect(existsSync(agentPaths(stateDir).managed)).toBe(false);
    expect((await cli(p.dir, ['rollback', ...words])).code).toBe(0);
    expect((await agentInfo()).watchdog).toBeDefined();
  });
});
