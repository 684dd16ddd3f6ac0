import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, project, startCli, type CliResult } from '../helpers/cli.js';
import { fakeSlack, type FakeSlack, type RecordedRequest } from '../helpers/fake-slack.js';
import { stopAgent } from '../helpers/local.js';
import { verifySignature } from '../../src/notify/webhook.js';
import type { Notification } from '../../src/notify/notification.js';

/**
 * Notifications through the real CLI: a Slack bot (one message per deployment, updated and replied to),
 * a Slack incoming webhook left off by an unset variable, and the generic signed webhook, all served by
 * local HTTP servers standing in for Slack and for a receiver.
 */

let p: Awaited<ReturnType<typeof project>>;
let slack: FakeSlack;
let hook: FakeSlack;
afterEach(async () => {
  await stopAgent(join(p.dir, '.cutover'));
  p.remove();
  await slack.close();
  await hook.close();
});

const words = ['artifact=catalog', 'environment=e2e'];
const token = 'xoxb-0000-SECRETTOKEN';
const hookSecret = 'SECRETSIGNINGKEY';
const hookToken = 'SECRETBEARER';

async function setUp(extra = ''): Promise<NodeJS.ProcessEnv> {
  p = await project();
  slack = await fakeSlack();
  hook = await fakeSlack();
  appendFileSync(
    join(p.dir, 'cutover.config.yaml'),
    `    notify:
      - slack: { token: "\${SLACK_BOT_TOKEN}", channel: "#deploys", apiUrl: "\${SLACK_API_URL}" }
      - slack: { webhookUrl: "\${SLACK_WEBHOOK_URL:-}" }
      - webhook: { url: "\${HOOK_URL}", headers: { Authorization: "Bearer \${HOOK_TOKEN}" }, secret: "\${HOOK_SECRET}" }
        events: all
${extra}`,
  );
  return {
    SLACK_BOT_TOKEN: token,
    SLACK_API_URL: slack.apiUrl,
    HOOK_URL: `${hook.url}/hooks/SECRETPATH`,
    HOOK_TOKEN: hookToken,
    HOOK_SECRET: hookSecret,
    CUTOVER_ACTOR: 'ana',
  };
}

const delivered = (requests: RecordedRequest[]) => requests.map((r) => r.body as Notification);
const ends = (requests: RecordedRequest[]) => delivered(requests).filter((n) => n.id.endsWith(':end'));

describe('notifications through the CLI', { timeout: 60_000 }, () => {
  it('GIVEN a bot and a signed webhook WHEN v1, v2 and a rollback run THEN each deployment has one Slack message kept current, the rollback replies in the thread of the deploy it undid, and every webhook body is signed', async () => {
    const env = await setUp();
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'], env)).code).toBe(0);
    expect((await cli(p.dir, ['deploy', ...words, 'version=v2'], env)).code).toBe(0);
    const rollback = await cli(p.dir, ['rollback', ...words], env);
    expect(rollback.code).toBe(0);

    const posts = slack.calls('chat.postMessage');
    const tops = posts.filter((r) => (r.body as { thread_ts?: string }).thread_ts === undefined);
    // One top-level message per deployment: v1, v2, the rollback.
    expect(tops).toHaveLength(3);
    for (const r of slack.requests) expect(r.headers.authorization).toBe(`Bearer ${token}`);
    const v2Ts = `${1_700_000_000 + posts.indexOf(tops[1] as RecordedRequest) + 1}.000100`;
    const updates = slack.calls('chat.update').map((r) => r.body as { ts: string; text: string });
    expect(updates.some((u) => u.ts === v2Ts && /v2/.test(u.text))).toBe(true);
    const repliesToV2 = posts.filter((r) => (r.body as { thread_ts?: string }).thread_ts === v2Ts);
    expect(repliesToV2.length).toBeGreaterThan(0);
    expect(JSON.stringify(repliesToV2.at(-1)?.body)).toMatch(/roll/i);

    const notes = delivered(hook.requests);
    for (const r of hook.requests) {
      expect(verifySignature(r.raw, String(r.headers['x-cutover-signature']), hookSecret)).toBe(true);
      expect(r.headers.authorization).toBe(`Bearer ${hookToken}`);
      expect(r.headers['x-cutover-delivery']).toBe((r.body as Notification).id);
    }
    expect(ends(hook.requests).map((n) => [n.kind, n.deployment.version])).toEqual([
      ['succeeded', 'v1'],
      ['succeeded', 'v2'],
      ['rolled-back', 'v1'],
    ]);
    const v2 = ends(hook.requests)[1] as Notification;
    expect(v2.deployment).toMatchObject({
      previousVersion: 'v1',
      weights: { v2: 100 },
      rollbackCommand: 'cutover rollback artifact=catalog environment=e2e',
    });
    expect(v2.actor.name).toBe('ana');
    // events: all: the steps of each deploy arrive too.
    expect(notes.filter((n) => n.kind === 'step').map((n) => n.code)).toEqual(
      expect.arrayContaining(['green.launching', 'health.passed', 'traffic.shifted', 'bake.passed']),
    );
  });

  it('GIVEN a version that fails its health check WHEN deployed THEN exit 1 and the failure is told once, saying traffic is back on the version before', async () => {
    const env = await setUp();
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'], env)).code).toBe(0);
    const broken = await cli(p.dir, ['deploy', ...words, 'version=broken'], env);
    expect(broken.code).toBe(1);
    const failed = ends(hook.requests).filter((n) => n.kind === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.message).toContain('traffic is on v1');
    expect(failed[0]?.deployment.failure?.code).toBe('GREEN_UNHEALTHY');
    const slackText = JSON.stringify(slack.requests.map((r) => r.body));
    expect(slackText).toContain('traffic is on v1');
  });

  it('GIVEN Slack and the receiver never answer WHEN a deploy runs THEN it ends with exit 0 within the flush budget, warning what was not sent', async () => {
    const env = await setUp();
    const config = join(p.dir, 'cutover.config.yaml');
    appendFileSync(config, 'notifyFlushTimeout: 1500ms\n');
    slack.reply(Array.from({ length: 50 }, () => 'hang' as const));
    hook.reply(Array.from({ length: 50 }, () => 'hang' as const));
    const started = Date.now();
    const result = await cli(p.dir, ['deploy', ...words, 'version=v1'], env);
    const took = Date.now() - started;
    expect(result.code).toBe(0);
    expect(result.events.find((e) => e.code === 'notify.waiting')?.message).toMatch(
      /^sending \d+ notifications? still waiting \(at most 1\.5s; Ctrl-C twice to stop waiting\)$/,
    );
    const warnings = result.events.filter((e) => e.code === 'notify.failed');
    expect(warnings.map((w) => w.notifier)).toEqual(
      expect.arrayContaining(['slack #deploys', expect.stringMatching(/^webhook #3/)]),
    );
    // The deploy itself takes a few seconds; the flush adds at most its budget, not a hang.
    expect(took).toBeLessThan(15_000);
  });

  it('GIVEN a deploy in its bake WHEN a second process runs abort THEN the end is told once, as aborted', async () => {
    const env = await setUp();
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'], env)).code).toBe(0);
    const slow = startCli(p.dir, ['deploy', ...words, 'version=v2'], { ...env, BAKE: '30s' });
    await until(() =>
      delivered(hook.requests).some((n) => n.code === 'bake.started' && n.deployment.version === 'v2'),
    );
    const abort = await cli(p.dir, ['abort', ...words], env);
    const deploy = await slow.done;
    expect(deploy.code, abort.stderr + deploy.stderr).toBe(1);
    expect(abort.code).toBe(0);
    const v2Ends = ends(hook.requests).filter((n) => n.deployment.version === 'v2');
    expect(v2Ends.map((n) => n.kind)).toEqual(['aborted']);
  });

  it('GIVEN secrets in the environment WHEN deploy, a failed deploy, rollback and notify-test run THEN no URL path, token or secret appears in anything they wrote', async () => {
    const env = await setUp();
    const outputs: CliResult[] = [];
    outputs.push(await cli(p.dir, ['deploy', ...words, 'version=v1'], env));
    outputs.push(await cli(p.dir, ['deploy', ...words, 'version=v2', '--json'], env));
    outputs.push(await cli(p.dir, ['deploy', ...words, 'version=broken'], env));
    slack.reply({ status: 200, body: { ok: false, error: 'invalid_auth' } });
    outputs.push(await cli(p.dir, ['rollback', ...words], env));
    outputs.push(await cli(p.dir, ['notify-test', 'environment=e2e'], env));
    outputs.push(await cli(p.dir, ['status', ...words, '--json'], env));
    const written = [
      ...outputs.flatMap((o) => [o.stdout, o.stderr]),
      ...filesUnder(join(p.dir, '.cutover')).map((f) => readFileSync(f, 'utf8')),
    ].join('\n');
    expect(written.length).toBeGreaterThan(1000);
    for (const secret of [token, 'SECRETTOKEN', hookSecret, hookToken, 'SECRETPATH']) {
      expect(written).not.toContain(secret);
    }
  });

  it('GIVEN a config and state folder given by flags WHEN a deploy is told THEN the rollback command to paste names them, quoted', async () => {
    const env = await setUp();
    const moved = join(p.dir, 'my configs');
    mkdirSync(moved);
    renameSync(join(p.dir, 'cutover.config.yaml'), join(moved, 'prod.yaml'));
    const flags = ['--config', join(moved, 'prod.yaml'), '--state-dir', join(p.dir, '.cutover')];
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1', ...flags], env)).code).toBe(0);
    expect((await cli(p.dir, ['deploy', ...words, 'version=v2', ...flags], env)).code).toBe(0);
    const v2 = ends(hook.requests).find((n) => n.deployment.version === 'v2');
    expect(v2?.deployment.rollbackCommand).toBe(
      `cutover rollback artifact=catalog environment=e2e --config '${join(moved, 'prod.yaml')}' --state-dir ${join(p.dir, '.cutover')}`,
    );
  });

  it('GIVEN notifiers, one refusing WHEN notify-test runs THEN it exits 1 naming the one that failed', async () => {
    const env = await setUp();
    hook.reply({ status: 404, body: 'no_service' });
    const result = await cli(p.dir, ['notify-test', 'environment=e2e'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✓ slack #deploys: sent/);
    expect(result.stdout).toMatch(/✖ webhook #3 .*404/);
    expect(result.stdout).not.toContain('slack webhook');
    // Each line names its notifier once.
    for (const line of result.stdout.trim().split('\n')) expect(line).not.toMatch(/(webhook #3).*\1/);
    expect(delivered(hook.requests).map((n) => n.kind)).toEqual(['test']);
    // With --json: the one document, nothing else on stdout, the failure named in it.
    hook.reply({ status: 404, body: 'no_service' });
    const json = await cli(p.dir, ['notify-test', 'environment=e2e', '--json'], env);
    expect(json.code).toBe(1);
    const document = JSON.parse(json.stdout) as {
      exitCode: number;
      result: string;
      error: { code: string; reason: string };
    };
    expect(document).toMatchObject({ result: 'failed', exitCode: 1, error: { code: 'NOTIFY_FAILED' } });
    expect(document.error.reason).toMatch(/1 of 2 notifiers failed: webhook #3 .*404/);
  });
});

async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    try {
      const stat = statSync(path);
      if (stat.isDirectory()) return filesUnder(path);
      return stat.isFile() ? [path] : [];
    } catch {
      return [];
    }
  });
}
