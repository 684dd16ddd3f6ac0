import { afterEach, describe, expect, it } from 'vitest';
import { Runner, runAction, runJob } from './gha.js';
import { productionProject, workflow } from './local-target.js';

/**
 * action.yml against the real CLI (GITHUB_ACTION_PATH = this checkout, built) and the local target: run
 * by itself, and as the steps of examples/github/deploy.yml and rollback.yml.
 */

let p: Awaited<ReturnType<typeof productionProject>>;
let runner: Runner;
afterEach(async () => {
  runner.scratch.remove();
  await p.cleanup();
});

const where = { artifact: 'catalog', environment: 'production' };

describe('the action against the local target', { timeout: 40_000 }, () => {
  it('deploy.yml deploys v1; the action deploys v2 (outputs, summary), fails on broken with traffic still on v2; rollback.yml goes back to v1', async () => {
    p = await productionProject();
    runner = new Runner();
    const github = { token: 'ghs_test' };

    const first = await runJob(runner, workflow('deploy.yml'), 'deploy', {
      cwd: p.dir,
      github: { ...github, sha: 'v1' },
    });
    expect(first.result, runner.log.join('\n')).toBe('success');
    expect(first.steps.deploy?.outputs).toMatchObject({
      result: 'deployed',
      'live-version': 'v1',
      'exit-code': '0',
    });
    expect(first.steps.abort?.outcome).toBe('skipped'); // if: cancelled()
    expect(await p.served()).toBe('v1');

    runner.summary = '';
    const v2 = await runAction(
      runner,
      { command: 'deploy', ...where, version: 'v2' },
      { cwd: p.dir, github },
    );
    expect(v2.code).toBe(0);
    expect(v2.outputs).toMatchObject({ result: 'deployed', 'live-version': 'v2', 'exit-code': '0' });
    expect(v2.outputs['deployment-id']).toMatch(/^d-/);
    expect(JSON.parse(v2.outputs.json ?? '')).toMatchObject({
      schemaVersion: 1,
      command: 'deploy',
      deployment: v2.outputs['deployment-id'],
      version: 'v2',
      liveVersion: 'v2',
    });
    expect(runner.summary).toContain('cutover deploy: deployed');
    expect(runner.summary).toContain('| live version | `v2` |');
    expect(await p.served()).toBe('v2');

    runner.summary = '';
    const broken = await runAction(
      runner,
      { command: 'deploy', ...where, version: 'broken' },
      { cwd: p.dir, github },
    );
    expect(broken.code).toBe(1);
    expect(broken.outputs).toMatchObject({ result: 'failed', 'live-version': 'v2', 'exit-code': '1' });
    expect(broken.outputs['error-code']).not.toBe('');
    expect(runner.summary).toContain('cutover deploy: failed');
    expect(runner.summary).toContain('**Failed:**');
    expect(runner.summary).toContain('Traffic is on `v2`.');
    expect(runner.summary).toContain('| version | `broken` |');
    expect(runner.summary).toContain('**Hint:**');
    expect(await p.served()).toBe('v2');

    const back = await runJob(runner, workflow('rollback.yml'), 'rollback', {
      cwd: p.dir,
      github,
      inputs: { environment: 'production' },
    });
    expect(back.result).toBe('success');
    expect(back.steps.rollback?.outputs).toMatchObject({ result: 'rolled-back', 'live-version': 'v1' });
    expect(await p.served()).toBe('v1');
  });
});
