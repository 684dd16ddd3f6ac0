import { describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { recoverIfInterrupted } from '../../src/controller/recover.js';
import { abandonUnfinished } from '../../src/controller/abandon.js';
import { LockHeld } from '../../src/errors.js';
import { awsHarness } from './harness.js';
import { baseGroup, goodAmi, goodAmi2, tgA, tgB } from './fixtures.js';

/**
 * A controller killed at any AWS call of a deploy, then run again: the rerun must leave one fleet taking
 * all traffic on a healthy target group, at most two fleets, and the interrupted deployment ended.
 */
const canary = { strategy: '{ name: canary, steps: [10, 50, 100], stepBake: 1m }' };

async function callsOfOneDeploy(env?: Record<string, string>): Promise<number> {
  const h = awsHarness(env ? { env } : {});
  try {
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    const before = h.account.log.length;
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    return h.account.log.length - before;
  } finally {
    h.cleanup();
  }
}

/** d-1 is live; d-2's controller dies after `n` of its calls; AWS answers again ten minutes later. */
async function killedMidDeploy(
  n: number,
  env?: Record<string, string>,
): Promise<ReturnType<typeof awsHarness>> {
  const h = awsHarness(env ? { env } : {});
  await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
  h.account.dieAfterCalls = h.account.log.length + n;
  await expect(deploy(h.ctx, { deployment: 'd-2', version: goodAmi })).rejects.toThrow();
  h.account.dieAfterCalls = undefined;
  h.clock.advance(10 * 60_000);
  return h;
}

describe.each([
  ['all at once', undefined],
  ['a canary of 10, 50, 100', canary],
])('%s: a deploy killed at each step, then run again', async (_, env) => {
  const total = await callsOfOneDeploy(env);
  const recovered: number[] = [];

  it('makes a known number of calls in a normal deploy', () => {
    expect(total).toBeGreaterThan(10);
  });

  // Every call of an all-at-once deploy; every third of a canary's, which makes three times as many.
  const every = env ? 3 : 1;
  it.each(Array.from({ length: Math.ceil(total / every) }, (_, i) => i * every))(
    'killed after %i calls: the rerun recovers cleanly',
    async (n) => {
      const h = await killedMidDeploy(n, env);
      try {
        // The rerun: same runner, so its journal survives.
        // A death the deploy saw as a failed call may already have ended it (journaled as failed); a
        // death in the middle leaves it open for the rerun to finish or undo. Either way it ends here.
        if ((await recoverIfInterrupted(h.ctx))?.deployment === 'd-2') recovered.push(n);
        const phase = h.ctx.journal.deployments().find((d) => d.deployment === 'd-2')?.phase;
        expect([undefined, 'succeeded', 'failed']).toContain(phase);

        const weights = h.account.weights(h.env.listener);
        const live = Object.entries(weights).filter(([, w]) => w > 0);
        expect(live).toHaveLength(1);
        const liveTg = live[0]?.[0] ?? '';
        expect([tgA, tgB]).toContain(liveTg);
        const healthy = h.account
          .targetHealth(liveTg)
          .TargetHealthDescriptions.filter((d) => d.TargetHealth.State === 'healthy');
        expect(healthy.length).toBeGreaterThan(0);
        const running = [...h.account.groups.values()]
          .filter((g) => g.instances.length > 0)
          .map((g) => g.name);
        expect(running.length).toBeLessThanOrEqual(2);
        // The failed or finished deploy left nothing half-made: a next deploy goes through.
        await deploy(h.ctx, { deployment: 'd-3', version: goodAmi2 });
        expect(h.account.weights(h.env.listener)).not.toEqual(weights);
        expect(
          [...h.account.groups.values()].filter((g) => g.instances.length > 0 && g.name !== baseGroup).length,
        ).toBeLessThanOrEqual(2);
      } finally {
        h.cleanup();
      }
    },
  );

  it('found an open deploy to finish or undo at most of those steps, not only clean failures', () => {
    expect(recovered.length).toBeGreaterThan(total / every / 2);
  });
});

describe('a deploy killed at each step, then another runner deploys', async () => {
  const total = await callsOfOneDeploy();
  const refused: number[] = [];

  it.each(Array.from({ length: total }, (_, i) => i))(
    'killed after %i calls: a runner with no journal refuses while green is unfinished, aborts it, deploys cleanly',
    async (n) => {
      const h = await killedMidDeploy(n);
      const other = h.runner('ci-2');
      try {
        const unfinished = (await other.ctx.target.fleet.list()).some((f) => f.inProgress);
        const first = deploy(other.ctx, { deployment: 'd-3', version: goodAmi2 });
        if (unfinished) {
          // The dead runner's green still says it has not gone live: a second deploy must not start.
          await expect(first).rejects.toBeInstanceOf(LockHeld);
          await expect(first).rejects.toMatchObject({
            code: 'DEPLOY_IN_PROGRESS',
            message: expect.stringContaining('d-2'),
          });
          refused.push(n);
          expect(await abandonUnfinished(other.ctx)).toBe('d-2');
          await deploy(other.ctx, { deployment: 'd-3', version: goodAmi2 });
        } else {
          await first;
        }
        const weights = Object.entries(h.account.weights(h.env.listener)).filter(([, w]) => w > 0);
        expect(weights).toHaveLength(1);
        const liveGroups = [...h.account.groups.values()].filter(
          (g) => g.targetGroups.includes(weights[0]?.[0] ?? '') && g.instances.length > 0,
        );
        expect(liveGroups.map((g) => Object.fromEntries(g.tags)['cutover:deployment'])).toEqual(['d-3']);
        const running = [...h.account.groups.values()].filter((g) => g.instances.length > 0);
        expect(running.length).toBeLessThanOrEqual(2);
      } finally {
        other.cleanup();
        h.cleanup();
      }
    },
  );

  it('was refused at the kill points between creating green and promoting it', () => {
    expect(refused.length).toBeGreaterThan(total / 2);
  });
});
