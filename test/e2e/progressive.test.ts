import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { cli, project, startCli, statusBody } from '../helpers/cli.js';
import { stopAgent } from '../helpers/local.js';

/** A canary on the local target: the real router splits traffic between the two versions mid-step. */

let p: Awaited<ReturnType<typeof project>>;
afterEach(async () => {
  await stopAgent(join(p.dir, '.cutover'));
  p.remove();
});

const words = ['artifact=catalog', 'environment=e2e'];

async function versionsServed(count: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < count; i += 1) {
    const response = await request(p.endpoint);
    const { version } = (await response.body.json()) as { version: string };
    seen[version] = (seen[version] ?? 0) + 1;
  }
  return seen;
}

describe('canary on the local target', { timeout: 60_000 }, () => {
  it('GIVEN a canary of 50 then 100 held at an approval gate WHEN v2 is deployed THEN during the step both versions answer, status shows the split, and promote from another process ends the gate', async () => {
    p = await project();
    // v1 first, with no gate: the environment's gate holds every deploy, a strategy=NAME one too.
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    appendFileSync(
      join(p.dir, 'cutover.config.yaml'),
      '    strategy: { name: canary, steps: [50, 100], stepBake: 200ms, approval: { atWeight: 50, timeout: 2m } }\n',
    );
    const watching = startCli(p.dir, ['status', ...words, '--watch', '--json']);
    const running = startCli(p.dir, ['deploy', ...words, 'version=v2']);
    let gated = false;
    running.child.stderr?.on('data', (d: Buffer) => {
      if (d.toString().includes('"approval.waiting"')) gated = true;
    });
    for (let i = 0; i < 400 && !gated; i += 1) await new Promise((r) => setTimeout(r, 25));
    expect(gated).toBe(true);
    const split = await versionsServed(40);
    expect(split.v1).toBeGreaterThan(0);
    expect(split.v2).toBeGreaterThan(0);
    const status = await cli(p.dir, ['status', ...words, '--json']);
    expect(statusBody(status.stdout)).toMatchObject({
      live: { version: 'v1', weight: 50 },
      deploying: { version: 'v2', weight: 50 },
    });
    // The plan of another deploy made now starts from v1, the fleet recorded live, not the canary.
    const plan = await cli(p.dir, ['plan', ...words, 'version=v3']);
    expect(plan.stdout).toContain('keep v1 as standby');
    expect(plan.stdout).not.toContain('(v1, live)');
    const promoted = await cli(p.dir, ['promote', ...words]);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stdout).toContain('promoted at step');
    const done = await running.done;
    expect(done.code, done.stderr).toBe(0);
    expect(await versionsServed(10)).toEqual({ v2: 10 });
    // status --watch printed one document a change, live: the split at the gate (step 2: 50%, its watch, the gate), then v2 live.
    await new Promise((r) => setTimeout(r, 1500));
    watching.child.kill('SIGINT');
    const watched = await watching.done;
    expect(watched.code).toBe(0);
    const docs = watched.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          statusBody(line) as {
            live: { version: string } | null;
            deploying: { weight: number; step: number } | null;
          },
      );
    expect(docs.some((d) => d.deploying?.weight === 50 && d.deploying.step === 2)).toBe(true);
    expect(docs.at(-1)).toMatchObject({ live: { version: 'v2' }, deploying: null });
  });

  it('GIVEN the reader of its logs goes away mid-step WHEN the deploy goes on THEN it still finishes (writes to a closed pipe are ignored)', async () => {
    p = await project();
    appendFileSync(
      join(p.dir, 'cutover.config.yaml'),
      '    strategy: { name: canary, steps: [50, 100], stepBake: 1s }\n',
    );
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    const running = startCli(p.dir, ['deploy', ...words, 'version=v2']);
    running.child.stderr?.on('data', (d: Buffer) => {
      if (d.toString().includes('"shift.watching"')) running.child.stderr?.destroy();
    });
    running.child.stdout?.destroy();
    const done = await running.done;
    expect(done.code).toBe(0);
    expect(await versionsServed(5)).toEqual({ v2: 5 });
  });

  it('GIVEN an error-rate check and steady traffic WHEN a canary of flaky (500 to every 5th request) takes 10% THEN the router counts its errors, the check fails, and traffic goes back to v1 before 100%', async () => {
    p = await project();
    appendFileSync(
      join(p.dir, 'cutover.config.yaml'),
      [
        '    strategy: { name: canary, steps: [10, 100], stepBake: 20s }',
        '    checks:',
        '      interval: 500ms',
        '      errorRate: { max: 1%, window: 2s, minRequests: 20 }',
        '',
      ].join('\n'),
    );
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    // Steady traffic through the router from four clients, as users would send.
    let sending = true;
    const statuses: Record<string, number> = {};
    const client = async () => {
      while (sending) {
        const response = await request(p.endpoint).catch(() => undefined);
        const body = (await response?.body.json().catch(() => undefined)) as { version?: string } | undefined;
        const key = `${response?.statusCode ?? 'error'} ${body?.version ?? ''}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
    };
    const clients = Promise.all([client(), client(), client(), client()]);
    const result = await cli(p.dir, ['deploy', ...words, 'version=flaky']);
    sending = false;
    await clients;
    expect(result.code, result.stderr).toBe(1);
    const failed = result.events.find((e) => e.code === 'check.failed');
    expect(String(failed?.message)).toMatch(
      /errorRate failed with green at 10%: green 5xx rate \d+(\.\d+)?% over \d+ requests > 1%/,
    );
    expect(result.events.at(-1)).toMatchObject({ code: 'CHECK_FAILED' });
    expect(
      result.events.some((e) => e.code === 'traffic.shifted' && JSON.stringify(e).includes('"flaky":100')),
    ).toBe(false);
    // Only flaky's own 500s failed, and v1 never did; afterwards only v1 answers.
    expect(Object.keys(statuses).filter((k) => !k.startsWith('200 '))).toEqual(
      Object.keys(statuses).filter((k) => k.startsWith('500')),
    );
    expect(
      Object.entries(statuses).filter(([k]) => k.startsWith('500')).length,
      JSON.stringify(statuses),
    ).toBeGreaterThan(0);
    expect(await versionsServed(10)).toEqual({ v1: 10 });
  });

  it('GIVEN strategy=NAME that is not one WHEN deploy runs THEN it exits 2 before anything changes', async () => {
    p = await project();
    const result = await cli(p.dir, ['deploy', ...words, 'version=v1', 'strategy=blue-green']);
    expect(result.code).toBe(2);
    expect(result.events.at(-1)).toMatchObject({ code: 'STRATEGY_UNKNOWN' });
    expect(String(result.events.at(-1)?.hint)).toContain('Canary10Percent5Minutes');
  });
});
