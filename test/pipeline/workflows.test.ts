import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { Runner, jobRuns, runJob, type JobRun } from './gha.js';
import { productionProject, until, workflow } from './local-target.js';

/**
 * The example workflows' jobs, run step by step against the local target: a cancelled deploy run's
 * `if: cancelled()` step, and the approval workflow's deploy --detach, promote and abort jobs.
 */

let p: Awaited<ReturnType<typeof productionProject>>;
let runners: Runner[] = [];
afterEach(async () => {
  for (const r of runners) r.scratch.remove();
  runners = [];
  await p.cleanup();
});

function newRunner(): Runner {
  const runner = new Runner();
  runners.push(runner);
  return runner;
}

const github = { sha: 'v2', token: 'ghs_test' };

async function deployV1(): Promise<void> {
  p = await productionProject();
  const v1 = await cli(p.dir, ['deploy', 'artifact=catalog', 'environment=production', 'version=v1']);
  expect(v1.code, v1.stderr).toBe(0);
}

describe('examples/github/deploy.yml cancelled midway', { timeout: 40_000 }, () => {
  const deployYml = workflow('deploy.yml');
  /** v2, with a bake long enough for the run to be stopped while v2 takes all traffic. */
  async function stopped(how: 'cancel' | 'kill') {
    const runner = newRunner();
    const running = runJob(runner, deployYml, 'deploy', { cwd: p.dir, github, env: { BAKE: '30s' } });
    await until('v2 to take the traffic', async () => (await p.served()) === 'v2');
    if (how === 'cancel') runner.cancel();
    else runner.kill();
    const job = await running;
    expect(job.result).toBe('cancelled');
    return { job, log: runner.log.join('\n') };
  }

  it('GIVEN a cancelled run THEN the deploy puts traffic back on blue itself, and the cancelled() step finds nothing to abort (exit 2) and passes; GIVEN one whose deploy is killed outright THEN the cancelled() step undoes it', async () => {
    await deployV1();

    const cancelled = await stopped('cancel');
    expect(cancelled.job.steps.deploy?.outcome).toBe('failure');
    expect(cancelled.job.steps.deploy?.outputs).toMatchObject({ 'live-version': 'v1', 'exit-code': '1' });
    expect(cancelled.job.steps.abort?.outcome, cancelled.log).toBe('success');
    expect(cancelled.job.steps.abort?.outputs['exit-code']).toBe('2');
    expect(await p.served()).toBe('v1');

    // The runner kills a step that outlives its grace time: nothing of cutover's runs to go back.
    const killed = await stopped('kill');
    expect(killed.job.steps.abort?.outcome, killed.log).toBe('success');
    expect(killed.job.steps.abort?.outputs['exit-code']).toBe('0');
    expect(await p.served()).toBe('v1');
    expect(await p.status()).toMatchObject({ live: { version: 'v1' } });
  });
});

describe('examples/github/approval.yml', { timeout: 40_000 }, () => {
  const approval = workflow('approval.yml');

  it('parks green with no traffic; a rejected review runs the abort job, which undoes it; an approved one promotes it', async () => {
    await deployV1();
    p.gate();

    // Rejected: GitHub fails the promote job without running it.
    const parked = await runJob(newRunner(), approval, 'deploy', { cwd: p.dir, github });
    expect(parked.result).toBe('success');
    expect(parked.outputs['deployment-id']).toMatch(/^d-/);
    expect(parked.steps.deploy?.outputs).toMatchObject({ result: 'awaiting-approval', 'live-version': 'v1' });
    expect(await p.served()).toBe('v1');
    expect(await p.status()).toMatchObject({ awaitingApproval: { version: 'v2' } });

    const rejected: JobRun = { result: 'failure', steps: {}, outputs: {} };
    expect(jobRuns(approval, 'abort', { deploy: parked, promote: rejected })).toBe(true);
    const undone = await runJob(newRunner(), approval, 'abort', {
      cwd: p.dir,
      github,
      needs: { deploy: parked, promote: rejected },
    });
    expect(undone.result).toBe('success');
    expect(undone.steps.undo?.outputs['exit-code']).toBe('0');
    expect(await p.status()).toMatchObject({ live: { version: 'v1' }, awaitingApproval: null });

    // Approved: the promote job runs and takes v2 live; the abort job is not started.
    const again = await runJob(newRunner(), approval, 'deploy', { cwd: p.dir, github });
    expect(again.result).toBe('success');
    const promoted = await runJob(newRunner(), approval, 'promote', {
      cwd: p.dir,
      github,
      needs: { deploy: again },
    });
    expect(promoted.result).toBe('success');
    expect(await p.served()).toBe('v2');
    expect(jobRuns(approval, 'abort', { deploy: again, promote: promoted })).toBe(false);
    // Nor when the deploy job itself failed or was cancelled: nothing was parked.
    expect(
      jobRuns(approval, 'abort', { deploy: rejected, promote: { ...rejected, result: 'cancelled' } }),
    ).toBe(false);
  });
});
