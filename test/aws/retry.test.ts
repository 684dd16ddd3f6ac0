import { describe, expect, it } from 'vitest';
import { call, isRetryable } from '../../src/providers/aws/retry.js';
import { awsError } from '../fake-aws/account.js';

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

  it('carries a throttled call through, telling of each retry', async () => {
    let attempts = 0;
    const seen: number[] = [];
    const result = await call(
      'DescribeListeners',
      async () => {
        if (++attempts < 4) throw awsError('ThrottlingException', 'Rate exceeded');
        return 'ok';
      },
      { ...fast, onRetry: (_op, _e, attempt) => seen.push(attempt) },
    );
    expect(result).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
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
});
