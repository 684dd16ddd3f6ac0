import { appendFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, project, type CliResult } from '../helpers/cli.js';
import { stopAgent } from '../helpers/local.js';
import { githubStandIn, type GitHubStandIn } from './github-api-stand-in.js';

/**
 * GitHub Deployments through the real CLI on the local target, against a local stand-in for GitHub's
 * REST API: what a GitHub Actions job that passes `github.token` to cutover would record.
 */

const token = 'ghs_E2ESECRETTOKEN0123456789';
const words = ['artifact=catalog', 'environment=e2e'];
const runUrl = 'https://github.example/acme/catalog/actions/runs/4242';

let p: Awaited<ReturnType<typeof project>>;
let api: GitHubStandIn;

afterEach(async () => {
  await stopAgent(join(p.dir, '.cutover'));
  p.remove();
  await api.close();
});

async function setUp(): Promise<NodeJS.ProcessEnv> {
  p = await project();
  api = await githubStandIn(token);
  // Set whole, so that a runner's own GitHub variables cannot leak into the test.
  return {
    GITHUB_TOKEN: token,
    GITHUB_REPOSITORY: 'acme/catalog',
    GITHUB_SHA: '9f3c2d1a7b5e',
    GITHUB_API_URL: api.url,
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    CUTOVER_GITHUB_DEPLOYMENTS: '',
    CUTOVER_ENVIRONMENT_URL: '',
  };
}

function expectNoToken(results: CliResult[]): void {
  for (const r of results) {
    expect(r.stdout).not.toContain(token);
    expect(r.stderr).not.toContain(token);
  }
}

/** Every file a run left in the project folder (config, state, journal, agent logs). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile());
}

const states = (api: GitHubStandIn, index: number) => api.deployments[index]?.statuses.map((s) => s.state);

describe('GitHub Deployments through the CLI', { timeout: 90_000 }, () => {
  it('GIVEN GITHUB_TOKEN WHEN v1, v2, broken and a rollback run THEN each is a GitHub deployment with its statuses, the rolled-away-from one ends inactive, and the token is shown nowhere', async () => {
    const env = await setUp();
    const v1 = await cli(p.dir, ['deploy', ...words, 'version=v1'], env);
    const v2 = await cli(p.dir, ['deploy', ...words, 'version=v2'], env);
    const broken = await cli(p.dir, ['deploy', ...words, 'version=broken'], env);
    const rollback = await cli(p.dir, ['rollback', ...words], env);
    expect([v1.code, v2.code, broken.code, rollback.code]).toEqual([0, 0, 1, 0]);

    expect(api.deployments.map((d) => [d.payload.kind, d.payload.version, d.environment, d.ref])).toEqual([
      ['deploy', 'v1', 'e2e', '9f3c2d1a7b5e'],
      ['deploy', 'v2', 'e2e', '9f3c2d1a7b5e'],
      ['deploy', 'broken', 'e2e', '9f3c2d1a7b5e'],
      ['rollback', 'v1', 'e2e', '9f3c2d1a7b5e'],
    ]);
    // cutover's own deployment ids, so a reader of GitHub's history can find the journal's record.
    const started = (r: CliResult) => r.events.find((e) => e.code === 'deploy.started')?.deployment;
    expect(api.deployments[0]?.payload.deployment).toBe(started(v1));
    expect(api.deployments[1]?.payload.deployment).toBe(started(v2));

    expect(states(api, 0)).toEqual(['in_progress', 'success']);
    expect(states(api, 1)).toEqual(['in_progress', 'success', 'inactive']);
    expect(states(api, 2)).toEqual(['in_progress', 'failure']);
    expect(states(api, 3)).toEqual(['in_progress', 'success']);

    const v1Success = api.deployments[0]?.statuses[1];
    expect(v1Success).toMatchObject({ environment_url: p.endpoint, log_url: runUrl });
    expect(v1Success?.description).toMatch(/^v1 is live/);

    const reason = broken.events.find((e) => e.code === 'deploy.failed')?.reason;
    expect(typeof reason).toBe('string');
    const failure = api.deployments[2]?.statuses[1];
    const description = String(failure?.description);
    expect([...description].length).toBeLessThanOrEqual(140);
    expect(String(reason).replace(/\s+/g, ' ').startsWith(description.replace(/…$/, ''))).toBe(true);
    expect(failure).toMatchObject({ environment_url: p.endpoint, log_url: runUrl });

    expect(api.deployments[1]?.statuses[2]?.description).toMatch(
      /^rolled back by d-.*: v1 takes the traffic again$/,
    );
    for (const call of api.calls) {
      expect(call.status).toBe(201);
      expect(call.headers.authorization).toBe(`Bearer ${token}`);
      expect(call.headers['x-github-api-version']).toBe('2022-11-28');
    }
    expect(api.calls).toHaveLength(4 + 9);
    expect(
      [v1, v2, broken, rollback].flatMap((r) => r.events).filter((e) => e.code === 'notify.failed'),
    ).toEqual([]);
    expectNoToken([v1, v2, broken, rollback]);
    for (const file of filesUnder(p.dir)) expect(readFileSync(file, 'utf8')).not.toContain(token);
  });

  for (const answer of [
    { status: 500, body: { message: 'Server Error' } },
    { status: 401, body: { message: 'Bad credentials' } },
    'hang' as const,
  ]) {
    const what = typeof answer === 'string' ? 'never answers' : `answers ${answer.status}`;
    it(`GIVEN the API ${what} WHEN a deploy runs THEN exit 0 within the flush budget, and a notify.failed warning names GitHub but not the token`, async () => {
      const env = await setUp();
      appendFileSync(join(p.dir, 'cutover.config.yaml'), 'notifyFlushTimeout: 1500ms\n');
      api.answer(answer);
      const started = Date.now();
      const result = await cli(p.dir, ['deploy', ...words, 'version=v1'], env);
      const took = Date.now() - started;
      expect(result.code).toBe(0);
      expect(result.events.find((e) => e.code === 'deploy.succeeded')).toBeDefined();
      const warnings = result.events.filter((e) => e.code === 'notify.failed');
      expect(warnings.length).toBeGreaterThan(0);
      for (const w of warnings) {
        expect(w.notifier).toBe('github deployments acme/catalog');
        expect(w.level).toBe('warn');
      }
      if (answer !== 'hang' && answer.status === 401) {
        expect(String(warnings[0]?.reason)).toContain('GITHUB_TOKEN is invalid or expired');
        // Refused for good: the outcome is not sent to be refused again.
        expect(api.calls).toHaveLength(1);
      }
      expectNoToken([result]);
      // A deploy of the demo takes a few seconds; the flush adds at most its 1.5 s budget.
      expect(took).toBeLessThan(12_000);
    });
  }

  it('GIVEN CUTOVER_GITHUB_DEPLOYMENTS=false WHEN a deploy runs THEN GitHub is not called', async () => {
    const env = await setUp();
    const result = await cli(p.dir, ['deploy', ...words, 'version=v1'], {
      ...env,
      CUTOVER_GITHUB_DEPLOYMENTS: 'false',
    });
    expect(result.code).toBe(0);
    expect(api.calls).toEqual([]);
  });

  it('GIVEN a token but GITHUB_SHA missing WHEN a deploy runs THEN a warning names the variable and the deploy goes on', async () => {
    const env = await setUp();
    const result = await cli(p.dir, ['deploy', ...words, 'version=v1'], { ...env, GITHUB_SHA: '' });
    expect(result.code).toBe(0);
    expect(api.calls).toEqual([]);
    expect(result.events.filter((e) => e.code === 'notify.failed').map((e) => e.reason)).toEqual([
      'GITHUB_SHA (the commit to record) is not set',
    ]);
  });
});
