import { afterEach, describe, expect, it } from 'vitest';
import { postJson, retryAfterMs, SendError, type PostOptions } from '../../src/notify/http.js';
import { fakeSlack, refusingUrl, type FakeSlack } from '../helpers/fake-slack.js';

const secretPath = '/services/T000/B000/SECRETxyz';
let slack: FakeSlack | undefined;

afterEach(async () => {
  await slack?.close();
  slack = undefined;
});

function options(overrides: Partial<PostOptions> = {}): PostOptions {
  return {
    what: 'Slack webhook',
    deadline: Date.now() + 2000,
    signal: new AbortController().signal,
    minBackoffMs: 10,
    maxBackoffMs: 50,
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<SendError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SendError);
  expect((error as Error).message).not.toContain('SECRETxyz');
  return error as SendError;
}

describe('postJson', () => {
  it.each([
    ['the basic auth of a user:password URL', 'Authorization: Basic dXNlcjpwdzBzZWNyZXQ3Nw=='],
    ['a short query value', 'unknown key k8short1'],
    ['a token in JSON', '{"ok":false,"error":"bad token Bearer xoxb-1-2-SECRET"}'],
    ['a request line', 'Cannot POST /hooks/pathsecret555?key=k8short1'],
  ])('never quotes an answer that may echo the request: %s', async (_, echoed) => {
    slack = await fakeSlack();
    slack.reply({ status: 403, body: echoed });
    const url =
      slack.url.replace('http://', 'http://user:pw0secret77@') + '/hooks/pathsecret555?key=k8short1';
    const error = await failure(
      postJson(url, '{}', options({ headers: { authorization: 'Bearer xoxb-1-2-SECRET' } })),
    );
    expect(error.message).toMatch(/403 \(an answer of \d+ bytes, not shown/);
    for (const secret of ['dXNlcjpwdzBzZWNyZXQ3Nw', 'k8short1', 'SECRET', 'pathsecret555', 'pw0secret77']) {
      expect(error.message).not.toContain(secret);
    }
  });

  it('quotes an error code, alone or as a JSON error', async () => {
    slack = await fakeSlack();
    slack.reply([{ status: 404, body: 'no_service' }]);
    expect((await failure(postJson(slack.url, '{}', options()))).message).toMatch(/404 no_service$/);
    slack.reply([{ status: 400, body: { ok: false, error: 'invalid_blocks' } }]);
    expect((await failure(postJson(slack.url, '{}', options()))).message).toMatch(/400 invalid_blocks$/);
  });

  it('waits for a 429 Retry-After, then succeeds', async () => {
    slack = await fakeSlack();
    slack.reply([{ status: 429, headers: { 'retry-after': '1' }, body: 'rate_limited' }, { body: 'ok' }]);
    const answer = await postJson(slack.url + secretPath, '{}', options({ deadline: Date.now() + 2500 }));
    expect(answer).toEqual({ status: 200, body: 'ok' });
    expect(slack.requests).toHaveLength(2);
    const [first, second] = slack.requests.map((r) => r.at);
    const waited = (second ?? 0) - (first ?? 0);
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(1500);
  });

  it('retries after Retry-After without adding its own backoff on top', async () => {
    slack = await fakeSlack();
    slack.reply([{ status: 429, headers: { 'retry-after': '1' }, body: '' }, { body: 'ok' }]);
    const deadline = Date.now() + 2800;
    await postJson(slack.url + secretPath, '{}', options({ deadline, minBackoffMs: 800, maxBackoffMs: 800 }));
    const [first, second] = slack.requests.map((r) => r.at);
    expect((second ?? 0) - (first ?? 0)).toBeLessThan(1400);
  });

  it('retries a 5xx twice, then succeeds', async () => {
    slack = await fakeSlack();
    slack.reply([
      { status: 500, body: 'internal' },
      { status: 503, body: 'unavailable' },
    ]);
    const answer = await postJson(slack.url + secretPath, '{"a":1}', options());
    expect(answer.status).toBe(200);
    expect(slack.requests.map((r) => r.raw)).toEqual(['{"a":1}', '{"a":1}', '{"a":1}']);
  });

  it('makes one attempt only at a permanent 4xx, and says why', async () => {
    slack = await fakeSlack();
    slack.reply({ status: 404, body: 'no_service' });
    const error = await failure(postJson(slack.url + secretPath, '{}', options()));
    expect(error.permanent).toBe(true);
    expect(error.message).toContain('Slack webhook');
    expect(error.message).toContain('404 no_service');
    expect(slack.requests).toHaveLength(1);
  });

  it('retries a refused connection until the deadline, then fails as not permanent', async () => {
    const url = await refusingUrl();
    const started = Date.now();
    const error = await failure(postJson(url + secretPath, '{}', options({ deadline: started + 700 })));
    const took = Date.now() - started;
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('ECONNREFUSED');
    expect(took).toBeGreaterThanOrEqual(600);
    expect(took).toBeLessThan(1200);
  });

  it('gives up on a server that never answers by the deadline', async () => {
    slack = await fakeSlack();
    slack.reply(['hang', 'hang', 'hang', 'hang']);
    const started = Date.now();
    const error = await failure(postJson(slack.url + secretPath, '{}', options({ deadline: started + 800 })));
    const took = Date.now() - started;
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('no answer');
    expect(took).toBeGreaterThanOrEqual(700);
    expect(took).toBeLessThan(1300);
  });

  it('fails at once when Retry-After is beyond the cap', async () => {
    slack = await fakeSlack();
    slack.reply({ status: 429, headers: { 'retry-after': '60' }, body: 'rate_limited' });
    const started = Date.now();
    const error = await failure(
      postJson(slack.url + secretPath, '{}', options({ deadline: started + 120_000, retryAfterCapMs: 5000 })),
    );
    expect(Date.now() - started).toBeLessThan(500);
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('429');
    expect(slack.requests).toHaveLength(1);
  });

  it('stops when its signal aborts', async () => {
    slack = await fakeSlack();
    slack.reply('hang');
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('flush budget spent')), 200);
    const started = Date.now();
    const error = await failure(
      postJson(slack.url + secretPath, '{}', options({ deadline: started + 10_000, signal: abort.signal })),
    );
    expect(Date.now() - started).toBeLessThan(700);
    expect(error.permanent).toBe(false);
    expect(slack.requests).toHaveLength(1);
  });

  it('stops while waiting out a Retry-After when its signal aborts', async () => {
    slack = await fakeSlack();
    slack.reply({ status: 429, headers: { 'retry-after': '2' }, body: '' });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    const started = Date.now();
    await failure(
      postJson(slack.url + secretPath, '{}', options({ deadline: started + 10_000, signal: abort.signal })),
    );
    expect(Date.now() - started).toBeLessThan(700);
    expect(slack.requests).toHaveLength(1);
  });

  it('retries when check throws a plain error, stops at once on a permanent SendError', async () => {
    slack = await fakeSlack();
    slack.reply([
      { body: { ok: false, error: 'ratelimited' } },
      { body: { ok: false, error: 'channel_not_found' } },
    ]);
    const check = ({ body }: { body: string }) => {
      const answer = JSON.parse(body) as { ok: boolean; error?: string };
      if (answer.error === 'ratelimited') throw new Error('ratelimited');
      if (!answer.ok) throw new SendError(`Slack: ${answer.error}`, true);
    };
    const error = await failure(postJson(slack.url + secretPath, '{}', options({ check })));
    expect(error.permanent).toBe(true);
    expect(error.message).toBe('Slack: channel_not_found');
    expect(slack.requests).toHaveLength(2);
  });
});

describe('postJson errors', () => {
  it('never repeat the URL, its secret part or a header value that the server echoes', async () => {
    slack = await fakeSlack();
    const token = 'xoxb-SECRET-token-123';
    slack.reply([
      { status: 502, body: `bad gateway for POST ${secretPath} with Bearer ${token}` },
      { status: 404, body: `Cannot POST ${secretPath}` },
    ]);
    const error = await failure(
      postJson(slack.url + secretPath, '{}', options({ headers: { authorization: `Bearer ${token}` } })),
    );
    expect(error.permanent).toBe(true);
    expect(error.message).toBe(
      'Slack webhook refused the message: 404 (an answer of 41 bytes, not shown: it may repeat the request)',
    );

    slack.reply(Array.from({ length: 50 }, () => ({ status: 500, body: `${token} SECRETxyz` })));
    const last = await failure(
      postJson(
        slack.url + secretPath,
        '{}',
        options({ deadline: Date.now() + 1500, headers: { authorization: `Bearer ${token}` } }),
      ),
    );
    expect(last.message).toContain('last: 500 (an answer of');
    expect(last.message).not.toContain('SECRET');
  });
});

describe('retryAfterMs', () => {
  it('reads seconds, fractions of seconds and HTTP dates; 1 s when unreadable', () => {
    const now = Date.parse('2026-11-26T11:30:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs(' 1.5 ', now)).toBe(1500);
    expect(retryAfterMs('Thu, 26 Nov 2026 11:30:05 GMT', now)).toBe(5000);
    expect(retryAfterMs(['2', '9'], now)).toBe(2000);
    expect(retryAfterMs('-1', now)).toBe(1000);
    expect(retryAfterMs('soon', now)).toBe(1000);
    expect(retryAfterMs(undefined, now)).toBe(1000);
  });
});
