import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { cli, project, startCli, statusBody } from '../helpers/cli.js';
import { stopAgent } from '../helpers/local.js';

/**
 * `deploy --detach` at the pre-traffic approval gate on the local target, with real processes and the
 * router: promote from another process goes on with it; abort, or its gate closing, undoes it.
 */

let p: Awaited<ReturnType<typeof project>>;
/** Set by a test that hands its environment on to the next one, which then clears it. */
let handedOn = false;
afterEach(async () => {
  if (handedOn) return;
  await stopAgent(join(p.dir, '.cutover'));
  p.remove();
});

const words = ['artifact=catalog', 'environment=e2e'];

async function served(): Promise<string> {
  const response = await request(p.endpoint);
  return ((await response.body.json()) as { version: string }).version;
}

async function gated(timeout = '5m'): Promise<void> {
  p = await project();
  // v1 first, with no gate: the environment's gate holds every deploy, a strategy=NAME one too.
  expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
  appendFileSync(
    join(p.dir, 'cutover.config.yaml'),
    `    strategy: { name: canary, steps: [50, 100], stepBake: 200ms, approval: { atWeight: 0, timeout: ${timeout} } }\n`,
  );
}

describe('deploy --detach at the pre-traffic gate', { timeout: 60_000 }, () => {
  it('GIVEN a detached deploy WHEN another deploy, a pause and then promote come THEN the deploy holds the environment (exit 3), pause has nothing to act on (exit 2), and promote takes it live', async () => {
    await gated();
    const detached = await cli(p.dir, ['deploy', ...words, 'version=v2', '--detach']);
    expect(detached.code, detached.stderr).toBe(0);
    expect(detached.stdout).toContain('v2 awaits approval');
    expect(await served()).toBe('v1');

    const status = statusBody((await cli(p.dir, ['status', ...words, '--json'])).stdout) as Record<
      string,
      unknown
    >;
    expect(status).toMatchObject({
      live: { version: 'v1', weight: 100 },
      awaitingApproval: { version: 'v2', expired: false },
    });
    expect(status.lock).toBeNull();

    const other = await cli(p.dir, ['deploy', ...words, 'version=v3']);
    expect(other.code).toBe(3);
    expect(other.stderr).toContain('DEPLOY_AWAITING_APPROVAL');
    expect((await cli(p.dir, ['pause', ...words])).code).toBe(2);
    expect((await cli(p.dir, ['rollback', ...words])).code).toBe(3);

    const promoted = await cli(p.dir, ['promote', ...words], { CUTOVER_ACTOR: 'alice' });
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.events.map((e) => e.code)).toEqual(
      expect.arrayContaining(['approval.promoted', 'health.passed', 'traffic.shifted', 'deploy.succeeded']),
    );
    expect(await served()).toBe('v2');
    // The report shows who promoted it, and when.
    const report = await cli(p.dir, ['report', ...words, '--out', join(p.dir, 'promoted.html')]);
    expect(report.code, report.stderr).toBe(0);
    expect(readFileSync(join(p.dir, 'promoted.html'), 'utf8')).toMatch(
      /data-moment="promote" data-at="\d+" data-by="alice"/,
    );
    const after = statusBody((await cli(p.dir, ['status', ...words, '--json'])).stdout) as Record<
      string,
      unknown
    >;
    expect(after).toMatchObject({
      live: { version: 'v2' },
      standby: { version: 'v1' },
      awaitingApproval: null,
    });
    expect((await cli(p.dir, ['promote', ...words])).code).toBe(2);
  });

  it('GIVEN a detached deploy whose gate closes with nobody promoting it THEN the local agent retires its green by itself, and the next deploy goes ahead', async () => {
    await gated('1s');
    expect((await cli(p.dir, ['deploy', ...words, 'version=v2', '--detach'])).code).toBe(0);
    type Status = { fleets: { version: string }[]; awaitingApproval: unknown };
    const status = async () =>
      statusBody((await cli(p.dir, ['status', ...words, '--json'])).stdout) as Status;
    let now = await status();
    for (let i = 0; i < 20 && now.fleets.length > 1; i += 1) {
      await new Promise((r) => setTimeout(r, 500));
      now = await status();
    }
    expect(now.fleets.map((f) => f.version)).toEqual(['v1']);
    expect(now.awaitingApproval).toBeNull();
    expect(await served()).toBe('v1');
    // The environment's gate holds v3 too: detached, it parks in v2's place.
    const next = await cli(p.dir, ['deploy', ...words, 'version=v3', '--detach']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toContain('v3 awaits approval');
    expect(await served()).toBe('v1');
  });

  it('GIVEN a detached deploy WHEN abort runs THEN green is stopped and v1 serves as before', async () => {
    await gated();
    expect((await cli(p.dir, ['deploy', ...words, 'version=v2', '--detach'])).code).toBe(0);
    const aborted = await cli(p.dir, ['abort', ...words], { CUTOVER_ACTOR: 'bob' });
    expect(aborted.code, aborted.stderr).toBe(0);
    expect(await served()).toBe('v1');
    const report = await cli(p.dir, ['report', ...words, '--out', join(p.dir, 'aborted.html')]);
    expect(report.code, report.stderr).toBe(0);
    expect(readFileSync(join(p.dir, 'aborted.html'), 'utf8')).toMatch(
      /data-moment="abort" data-at="\d+" data-by="bob"/,
    );
    const status = statusBody((await cli(p.dir, ['status', ...words, '--json'])).stdout) as {
      fleets: { version: string }[];
    };
    expect(status.fleets.map((f) => f.version)).toEqual(['v1']);
    expect((await cli(p.dir, ['promote', ...words])).code).toBe(2);
    // What the next test starts from: v1 live, nothing else running, the gate in the config.
    handedOn = true;
  });

  it('GIVEN a deploy killed at its gate WHEN promote runs THEN it says at once that the controller is gone (exit 2); a status --watch whose reader left ends; strategy=NAME keeps the gate', async () => {
    // The abort test's environment when it passed (v1 live, the gate set), else one of its own.
    if (handedOn) handedOn = false;
    else await gated();
    const plan = await cli(p.dir, ['plan', ...words, 'version=v2', 'strategy=all-at-once']);
    expect(plan.stdout).toContain('wait for approval at 0%');
    const watcher = startCli(p.dir, ['status', ...words, '--watch', '--json']);
    let watched = false;
    watcher.child.stdout?.once('data', () => {
      watched = true;
      watcher.child.stdout?.destroy();
    });
    for (let i = 0; i < 400 && !watched; i += 1) await new Promise((r) => setTimeout(r, 25));
    const running = startCli(p.dir, ['deploy', ...words, 'version=v2']);
    let gate = false;
    running.child.stderr?.on('data', (d: Buffer) => {
      if (d.toString().includes('"approval.waiting"')) gate = true;
    });
    for (let i = 0; i < 400 && !gate; i += 1) await new Promise((r) => setTimeout(r, 25));
    expect(gate).toBe(true);
    running.child.kill('SIGKILL');
    await running.done;
    const started = Date.now();
    const promoted = await cli(p.dir, ['promote', ...words]);
    expect(promoted.code).toBe(2);
    expect(promoted.stderr).toContain('its controller is gone');
    expect(Date.now() - started).toBeLessThan(10_000);
    // The deploy changed the status after the watcher's reader had gone: its next write ended it.
    expect((await watcher.done).code).toBe(0);
    expect((await cli(p.dir, ['abort', ...words])).code).toBe(0);
    expect(await served()).toBe('v1');
  });

  it('GIVEN a strategy without a pre-traffic gate WHEN deploy --detach runs THEN it exits 2 before anything starts', async () => {
    p = await project();
    const refused = await cli(p.dir, ['deploy', ...words, 'version=v1', '--detach']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('DETACH_NEEDS_GATE');
    const status = statusBody((await cli(p.dir, ['status', ...words, '--json'])).stdout) as {
      fleets: unknown[];
    };
    expect(status.fleets).toEqual([]);
  });
});
