import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serviceRuntime } from '../../src/controller/runtime.js';
import { DeploymentFailed } from '../../src/errors.js';
import { Events, type CutoverEvent } from '../../src/events.js';
import { call, isRetryable, type RetryNotice } from '../../src/providers/aws/retry.js';
import { awsError } from '../fake-aws/account.js';
import { exampleAccount, installFakeAccount, instantRetry, lostResponseError } from '../fake-aws/install.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';
import { awsEnvironmentYaml } from './fixtures.js';

const fast = { retries: 5, minTimeout: 0, maxTimeout: 0 };

describe('AWS call retries', () => {
  it.each(['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException'])(
    'retries %s',
    (name) => {
      expect(isRetryable(awsError(name, 'Rate exceeded'))).toBe(true);
    },
  );

  it('retries a 5xx and gives up at once on a validation error', () => {
    expect(isRetryable(awsError('InternalFailure', 'boom', 500))).toBe(true);
    expect(isRetryable(awsError('ValidationError', 'bad'))).toBe(false);
  });

  it('GIVEN a response lost on the way back (connection reset, timeout) THEN the call is retried', () => {
    expect(isRetryable(lostResponseError())).toBe(true);
    expect(isRetryable(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))).toBe(true);
  });

  it('GIVEN a throttled call WHEN it is retried THEN each retry is told with the operation, the attempt and the wait', async () => {
    let attempts = 0;
    const seen: RetryNotice[] = [];
    const result = await call(
      'DescribeListeners',
      async () => {
        if (++attempts < 4) throw awsError('ThrottlingException', 'Rate exceeded');
        return 'ok';
      },
      { retries: 5, minTimeout: 2, maxTimeout: 5, onRetry: (notice) => seen.push(notice) },
    );
    expect(result).toBe('ok');
    expect(seen.map((n) => [n.operation, n.attempt, n.error.name])).toEqual([
      ['DescribeListeners', 1, 'ThrottlingException'],
      ['DescribeListeners', 2, 'ThrottlingException'],
      ['DescribeListeners', 3, 'ThrottlingException'],
    ]);
    for (const notice of seen) {
      expect(notice.waitMs).toBeGreaterThanOrEqual(2);
      expect(notice.waitMs).toBeLessThanOrEqual(5);
    }
  });

  it('fails with the original error, unretried, when it is not transient', async () => {
    let attempts = 0;
    const failing = call(
      'CreateAutoScalingGroup',
      async () => {
        attempts++;
        throw awsError('AlreadyExistsFault', 'exists');
      },
      fast,
    );
    await expect(failing).rejects.toMatchObject({ name: 'AlreadyExistsFault' });
    expect(attempts).toBe(1);
  });

  it('GIVEN a call waiting to retry WHEN the deploy is aborted THEN it stops waiting and fails with the abort reason', async () => {
    const abort = new AbortController();
    let attempts = 0;
    const started = Date.now();
    const failing = call(
      'DescribeTargetHealth',
      async () => {
        attempts++;
        throw awsError('ThrottlingException', 'Rate exceeded');
      },
      {
        retries: 8,
        minTimeout: 60_000,
        maxTimeout: 60_000,
        signal: abort.signal,
        onRetry: () => abort.abort(new DeploymentFailed('ABORTED', 'aborted by SIGINT')),
      },
    );
    await expect(failing).rejects.toMatchObject({ code: 'ABORTED' });
    expect(attempts).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('GIVEN the deploy was already aborted WHEN the way back makes a throttled call THEN it is still retried', async () => {
    const abort = new AbortController();
    abort.abort(new DeploymentFailed('ABORTED', 'aborted by SIGINT'));
    let attempts = 0;
    const result = await call(
      'ModifyListener',
      async () => {
        if (++attempts < 3) throw awsError('ThrottlingException', 'Rate exceeded');
        return 'restored';
      },
      { ...fast, signal: abort.signal },
    );
    expect(result).toBe('restored');
    expect(attempts).toBe(3);
  });
});

describe('retries through the CLI runtime', () => {
  it('GIVEN a throttled AWS call WHEN a command reads the fleets THEN an aws.retry event names the operation, the attempt and the wait', async () => {
    const clock = new FakeClock();
    const account = exampleAccount({ now: () => clock.now(), throttleRate: 1 });
    const installed = installFakeAccount(account, instantRetry);
    const dir = tempDir('cutover-retry-');
    try {
      writeFileSync(join(dir.path, 'cutover.config.yaml'), awsEnvironmentYaml());
      const events: CutoverEvent[] = [];
      const { ctx } = await serviceRuntime(
        { artifact: 'catalog', environment: 'prod', config: join(dir.path, 'cutover.config.yaml') },
        new Events([
          (e) => {
            events.push(e);
            // One throttled attempt is enough to see; the real backoff waits about a second.
            if (e.code === 'aws.retry') account.throttleRate = 0;
          },
        ]),
        new AbortController().signal,
        clock,
      );
      await ctx.target.fleet.list();
      const retry = events.find((e) => e.code === 'aws.retry');
      expect(retry?.fields).toMatchObject({
        operation: 'DescribeAutoScalingGroups',
        attempt: 1,
        waitMs: expect.any(Number),
        error: 'Throttling',
      });
    } finally {
      dir.remove();
      installed.restore();
    }
  });
});
