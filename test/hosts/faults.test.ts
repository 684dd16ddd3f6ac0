import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { steadyLoad } from '../helpers/load.js';
import { hostsProject, type HostsProject } from './hosts-lab.js';

/**
 * The hosts target when things go wrong, through the CLI on the lab: hosts down or refusing SSH, a host
 * key that changed, a CLI killed mid-deploy, two runners at once; and zero failed requests through
 * HAProxy across deploy, rollback, deploy.
 */
let p: HostsProject;
beforeAll(async () => {
  p = await hostsProject(['v1', 'v2', 'v3', 'v4']);
}, 60_000);
afterAll(async () => {
  await p?.stop();
});

const words = ['artifact=catalog', 'environment=lab'];
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => p.cli(args, env);

const served = () => p.served();

const releases = (version: string) =>
  p.apps.map((h) => existsSync(join(h.root, 'catalog', 'releases', version)));

describe('hosts: faults and sequences', { timeout: 180_000 }, () => {
  it('GIVEN v1 live WHEN deploy, rollback and deploy run under steady load THEN HAProxy answers every request', async () => {
    expect((await run(['deploy', ...words, 'version=v1'])).code).toBe(0);
    const load = steadyLoad(p.endpoint, 8);
    const steps = [
      await run(['deploy', ...words, 'version=v2']),
      await run(['rollback', ...words]),
      await run(['deploy', ...words, 'version=v2']),
    ];
    const result = await load.stop();
    for (const step of steps) expect(step.code, step.stderr).toBe(0);
    expect(result.ok).toBeGreaterThan(100);
    expect(result.failed, JSON.stringify(result.samples)).toBe(0);
    expect(await served()).toBe('v2');
  });

  it('GIVEN a host that is down, then one whose sshd refuses connections THEN the deploy fails before anything changes, naming the host', async () => {
    const [, h2] = p.apps;
    if (!h2) throw new Error('two hosts');
    await p.lab.linkDown(h2);
    const down = await run(['deploy', ...words, 'version=v3'], { CONNECT_TIMEOUT: '1s' });
    await p.lab.linkUp(h2);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('HOST_UNREACHABLE');
    expect(down.stderr).toContain(h2.address);
    expect(releases('v3')).toEqual([false, false]);
    expect(await served()).toBe('v2');

    await p.lab.stopSsh(h2);
    const refused = await run(['deploy', ...words, 'version=v3']);
    await p.lab.startSsh(h2);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${h2.address}:22`);
    expect(releases('v3')).toEqual([false, false]);
    expect(await served()).toBe('v2');
  });

  it('GIVEN a CLI killed with SIGKILL in its bake WHEN deploy runs again THEN it undoes the killed one and goes live; a second runner meanwhile is refused', async () => {
    const baking = startCli(p.dir, ['deploy', ...words, 'version=v3'], { ...p.env, BAKE: '30s' });
    await new Promise<void>((resolve) =>
      baking.child.stderr?.on('data', (d: Buffer) => d.toString().includes('"bake.started"') && resolve()),
    );
    // Another runner (its own state folder) finds the lock on the load balancer host.
    const other = await run(['deploy', ...words, 'version=v4', '--state-dir', join(p.dir, 'runner-2')]);
    expect(other.code, other.stderr).toBe(3);
    expect(other.stderr).toContain('holds this environment');
    baking.child.kill('SIGKILL');
    await baking.done;
    expect(await served()).toBe('v3');

    const again = await run(['deploy', ...words, 'version=v4']);
    expect(again.code, again.stderr).toBe(0);
    expect(await served()).toBe('v4');
    const fleets = JSON.parse(readFileSync(join(p.lb.root, 'catalog', 'lab', 'fleets.json'), 'utf8')) as {
      fleets: { version: string; role: string }[];
    };
    expect(fleets.fleets.map((f) => [f.version, f.role]).sort()).toEqual([
      ['v2', 'standby'],
      ['v4', 'live'],
    ]);
  });

  it('GIVEN a deploy baking on one runner WHEN another runner aborts THEN the deploy itself puts traffic back and says who asked', async () => {
    const baking = startCli(p.dir, ['deploy', ...words, 'version=v3'], { ...p.env, BAKE: '30s' });
    await new Promise<void>((resolve) =>
      baking.child.stderr?.on('data', (d: Buffer) => d.toString().includes('"bake.started"') && resolve()),
    );
    expect(await served()).toBe('v3');
    const aborted = await run(['abort', ...words, '--state-dir', join(p.dir, 'runner-2')], {
      CUTOVER_ACTOR: 'runner-2-oncall',
    });
    expect(aborted.code, aborted.stderr).toBe(0);
    const done = await baking.done;
    expect(done.code).toBe(1);
    expect(done.stderr).toContain('runner-2-oncall aborted the deploy');
    expect(await served()).toBe('v4');
  });

  it('GIVEN a host that dies while green bakes THEN traffic goes back to blue on the hosts still up, and the deploy fails saying so', async () => {
    const [, h2] = p.apps;
    if (!h2) throw new Error('two hosts');
    const baking = startCli(p.dir, ['deploy', ...words, 'version=v1'], {
      ...p.env,
      BAKE: '30s',
      CONNECT_TIMEOUT: '1s',
    });
    await new Promise<void>((resolve) =>
      baking.child.stderr?.on('data', (d: Buffer) => d.toString().includes('"bake.started"') && resolve()),
    );
    await p.lab.linkDown(h2);
    // Traffic goes back to v4 while h2 is still down (HAProxy holds h2's servers down).
    let now = await served();
    for (let i = 0; i < 150 && now !== 'v4'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      now = await served();
    }
    expect(now).toBe('v4');
    // Back up, so the deploy can stop green on h2 too and end, rather than wait out a dead connection.
    await p.lab.linkUp(h2);
    const done = await baking.done;
    expect(done.code).toBe(1);
    expect(await served()).toBe('v4');
  });

  it('GIVEN v1 live over v4 and a host that goes down THEN status names the servers HAProxy holds down, and rollback puts traffic on v4 on the host still up', async () => {
    const [, h2] = p.apps;
    if (!h2) throw new Error('two hosts');
    expect((await run(['deploy', ...words, 'version=v1'])).code).toBe(0);
    await p.lab.linkDown(h2);
    try {
      let status = await run(['status', ...words]);
      for (let i = 0; i < 50 && !status.stdout.includes('warning:'); i++) {
        await new Promise((r) => setTimeout(r, 200));
        status = await run(['status', ...words]);
      }
      expect(status.stdout).toMatch(
        new RegExp(`warning: +HAProxy's own checks hold .*${h2.address}:\\d+ \\(v1 live\\)`),
      );
      expect(status.stdout).toContain(`${h2.address}:`);
      expect(status.stdout).toMatch(/live: +v1 \(100%, 2 instances, 1 up\)/);

      const back = await run(['rollback', ...words]);
      expect(back.code, back.stderr).toBe(0);
      expect(back.stderr).toContain('"health.skipped"');
      expect(await served()).toBe('v4');
    } finally {
      await p.lab.linkUp(h2);
    }
  });

  it('GIVEN the load balancer host lock left by a runner on another machine of the same hostname THEN status names it, deploy is refused naming unlock, and unlock removes it only for its deployment', async () => {
    const lockDir = join(p.lb.root, 'catalog', 'lab', 'lock');
    const deadPid = spawnSync('true').pid;
    mkdirSync(lockDir);
    writeFileSync(
      join(lockDir, 'holder.json'),
      // A runner in a container of another host that has this one's hostname, as containers and cloned
      // VMs do: its pid, dead here, says nothing about whether it still runs there.
      JSON.stringify({
        deployment: 'd-gone',
        command: 'deploy',
        startedAt: 1,
        host: hostname(),
        pid: deadPid,
        machine: `${hostname()} another-boot pid:[1]`,
      }),
    );
    const status = await run(['status', ...words]);
    expect(status.stdout).toContain(`locked:   by deploy d-gone (pid ${deadPid} on ${hostname()})`);
    expect(status.stdout).toMatch(/, at .*catalog\/lab\/lock/);
    const refused = await run(['deploy', ...words, 'version=v2']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('cutover unlock artifact=catalog environment=lab deployment=d-gone');

    const wrong = await run(['unlock', ...words, 'deployment=d-other']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('UNLOCK_NOT_HOLDER');
    expect(existsSync(lockDir)).toBe(true);
    const unlocked = await run(['unlock', ...words, 'deployment=d-gone']);
    expect(unlocked.code, unlocked.stderr).toBe(0);
    expect(unlocked.stderr).toContain('removed the lock');
    expect(existsSync(lockDir)).toBe(false);
    expect((await run(['status', ...words])).stdout).not.toContain('locked:');
  });

  it('GIVEN a host whose key changed THEN the deploy fails with HOST_KEY_MISMATCH before any command runs there', async () => {
    const [h1] = p.apps;
    if (!h1) throw new Error('a host');
    await p.lab.changeHostKey(h1);
    const result = await run(['deploy', ...words, 'version=v1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('HOST_KEY_MISMATCH');
    expect(result.stderr).toContain(h1.address);
    expect(await served()).toBe('v4');
  });
});
