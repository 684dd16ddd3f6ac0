import { afterEach, describe, expect, it } from 'vitest';
import { GitHubDeploymentsNotifier } from '../../src/notify/github-deployments.js';
import { SendError } from '../../src/notify/http.js';
import { memoryMessages, notification, rollbackNotification, sendContext } from '../helpers/notification.js';
import { githubStandIn, type GitHubStandIn } from './github-api-stand-in.js';

const token = 'ghs_TOPSECRET0123456789abcdef';
let api: GitHubStandIn;

afterEach(async () => {
  await api.close();
});

function notifier(overrides: { token?: string } = {}): GitHubDeploymentsNotifier {
  return new GitHubDeploymentsNotifier(
    {
      token: overrides.token ?? token,
      owner: 'acme',
      repo: 'catalog',
      apiUrl: api.url,
      sha: '9f3c2d1a7b',
      logUrl: 'https://github.com/acme/catalog/actions/runs/42',
      environmentUrl: 'http://127.0.0.1:8080/',
    },
    { minBackoffMs: 10, maxBackoffMs: 20 },
  );
}

describe('GitHubDeploymentsNotifier against a stand-in for the API', () => {
  it('GIVEN a start and an end THEN one deployment, created once, with in_progress then success, and GitHub’s headers', async () => {
    api = await githubStandIn(token);
    const n = notifier();
    const messages = memoryMessages();
    await n.send(notification('started'), sendContext(messages));
    await n.send(notification('step', { code: 'traffic.shifted' }), sendContext(messages));
    await n.send(notification('succeeded', { message: 'v2 is live (took 2s)' }), sendContext(messages));

    expect(api.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      'POST /repos/acme/catalog/deployments 201',
      'POST /repos/acme/catalog/deployments/1001/statuses 201',
      'POST /repos/acme/catalog/deployments/1001/statuses 201',
    ]);
    for (const call of api.calls) {
      expect(call.headers.authorization).toBe(`Bearer ${token}`);
      expect(call.headers['x-github-api-version']).toBe('2022-11-28');
      expect(call.headers.accept).toBe('application/vnd.github+json');
      expect(call.headers['user-agent']).toBe('cutover');
    }
    expect(api.deployments[0]).toMatchObject({ ref: '9f3c2d1a7b', environment: 'prod' });
    expect(api.deployments[0]?.statuses).toEqual([
      expect.objectContaining({
        state: 'in_progress',
        log_url: 'https://github.com/acme/catalog/actions/runs/42',
      }),
      {
        state: 'success',
        description: 'v2 is live (took 2s)',
        environment_url: 'http://127.0.0.1:8080/',
        log_url: 'https://github.com/acme/catalog/actions/runs/42',
      },
    ]);
  });

  it('GIVEN the deployment was created by another process THEN its end goes to the same GitHub deployment', async () => {
    api = await githubStandIn(token);
    const messages = memoryMessages();
    await notifier().send(notification('started'), sendContext(messages));
    await notifier().send(notification('failed'), sendContext(messages));
    expect(api.deployments).toHaveLength(1);
    expect(api.deployments[0]?.statuses.map((s) => [s.state, s.description])).toEqual([
      ['in_progress', 'deployment started'],
      ['failure', 'GET /health answered 503'],
    ]);
  });

  it('GIVEN the start never reached GitHub THEN the end creates the deployment and gives it its outcome', async () => {
    api = await githubStandIn(token);
    await notifier().send(notification('succeeded'), sendContext());
    expect(api.deployments).toHaveLength(1);
    expect(api.deployments[0]?.statuses.map((s) => s.state)).toEqual(['success']);
  });

  it('GIVEN an outcome of a command that never had a version (a rollback with no standby) THEN nothing is recorded', async () => {
    api = await githubStandIn(token);
    const n = notification('failed');
    const noVersion = { ...n.deployment };
    delete noVersion.version;
    await notifier().send({ ...n, deployment: noVersion }, sendContext());
    expect(api.calls).toEqual([]);
  });

  it('GIVEN a rollback THEN it is a deployment of its own that succeeds, and the deployment it undid becomes inactive', async () => {
    api = await githubStandIn(token);
    const messages = memoryMessages();
    await notifier().send(notification('started'), sendContext(messages));
    await notifier().send(notification('succeeded'), sendContext(messages));
    const rollback = notifier();
    await rollback.send(rollbackNotification('started'), sendContext(messages));
    await rollback.send(rollbackNotification('rolled-back'), sendContext(messages));

    const [deploy, back] = api.deployments;
    expect(back?.payload).toEqual({
      deployment: 'd-2',
      kind: 'rollback',
      artifact: 'catalog',
      version: 'v1',
    });
    expect(back?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(deploy?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success', 'inactive']);
  });

  it('GIVEN a deploy detached at its gate and promoted later THEN queued, then in_progress again once, then success', async () => {
    api = await githubStandIn(token);
    const messages = memoryMessages();
    const first = notifier();
    await first.send(notification('started'), sendContext(messages));
    await first.send(notification('step', { code: 'approval.detached' }), sendContext(messages));
    const promoter = notifier();
    await promoter.send(notification('step', { code: 'approval.promoted' }), sendContext(messages));
    await promoter.send(notification('step', { code: 'approval.promoted' }), sendContext(messages));
    await promoter.send(notification('succeeded'), sendContext(messages));
    expect(api.deployments).toHaveLength(1);
    expect(api.deployments[0]?.statuses.map((s) => s.state)).toEqual([
      'in_progress',
      'queued',
      'in_progress',
      'success',
    ]);
  });

  it('GIVEN a bad token THEN a permanent error that says what to fix and never shows the token, and later sends stop asking', async () => {
    api = await githubStandIn(token);
    const wrong = 'ghs_WRONGTOKEN9876543210';
    const n = notifier({ token: wrong });
    const error = await n.send(notification('started'), sendContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendError);
    expect((error as SendError).permanent).toBe(true);
    expect((error as SendError).message).toBe(
      'github deployments acme/catalog create deployment: the token was refused (401): GITHUB_TOKEN is invalid or expired',
    );
    const again = await n.send(notification('succeeded'), sendContext()).catch((e: unknown) => e);
    expect(String(again)).toMatch(/not sent, as an earlier request was refused: the token was refused/);
    expect(api.calls).toHaveLength(1);
    expect(`${String(error)} ${String(again)}`).not.toContain(wrong);
  });

  it('GIVEN a 403 THEN the warning names the missing permission; a 422 names GITHUB_SHA', async () => {
    api = await githubStandIn(token);
    api.answer({ status: 403, body: { message: 'Resource not accessible by integration' } });
    const forbidden = await notifier()
      .send(notification('started'), sendContext())
      .catch((e: unknown) => e);
    expect(String(forbidden)).toContain('`deployments: write`');
    api.answer({ status: 422, body: { message: 'No ref found for: 9f3c2d1a7b' } });
    const invalid = await notifier()
      .send(notification('started'), sendContext())
      .catch((e: unknown) => e);
    expect(String(invalid)).toContain('GITHUB_SHA must be a commit of the repository');
  });

  it('GIVEN a server error that echoes the request, token included THEN retried, and the error shows neither', async () => {
    api = await githubStandIn(token);
    api.answer({ status: 502, body: { message: `upstream said: Authorization: Bearer ${token}` } });
    const started = Date.now();
    const error = await notifier()
      .send(notification('started'), sendContext(memoryMessages(), 300))
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(api.calls.length).toBeGreaterThan(1);
    expect(String(error)).toMatch(/create deployment: gave up within the notification budget; last: 502/);
    expect(String(error)).not.toContain(token);
  });

  it('GIVEN a proxy that answers with the token as its error code THEN the warning has [redacted] in its place', async () => {
    // An all-lower-case answer reads as an error code, which postJson quotes; a token can look like one.
    const wordLike = 'ghs_lowercasetoken0123456789';
    api = await githubStandIn(wordLike);
    api.answer({ status: 400, body: { error: wordLike } });
    const error = await notifier({ token: wordLike })
      .send(notification('started'), sendContext())
      .catch((e: unknown) => e);
    expect(String(error)).toContain('refused the message: 400 [redacted]');
    expect(String(error)).not.toContain(wordLike);
  });

  it('GIVEN an API that never answers THEN the send gives up at its deadline', async () => {
    api = await githubStandIn(token);
    api.answer('hang');
    const started = Date.now();
    const error = await notifier()
      .send(notification('started'), sendContext(memoryMessages(), 500))
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(String(error)).toMatch(/gave up within the notification budget; last: ETIMEDOUT/);
  });

  it('GIVEN a 201 without an id THEN a permanent error, and no status sent to nowhere', async () => {
    api = await githubStandIn(token);
    api.answer({ status: 201, body: { message: 'Auto-merged main into the ref on deployment.' } });
    const error = await notifier()
      .send(notification('started'), sendContext())
      .catch((e: unknown) => e);
    expect((error as SendError).permanent).toBe(true);
    expect(String(error)).toContain('create deployment: GitHub answered 201 without a deployment id');
    expect(api.calls).toHaveLength(1);
  });

  it('GIVEN a notify-test or an ordinary step THEN nothing is sent', async () => {
    api = await githubStandIn(token);
    await notifier().send(notification('test', { code: 'notify.test' }), sendContext());
    await notifier().send(notification('step', { code: 'bake.started' }), sendContext());
    expect(api.calls).toEqual([]);
  });
});
