import { planDeploy } from '../../src/controller/plan.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import type { FakeAwsAccount } from '../fake-aws/account.js';
import { awsHarness } from './harness.js';
import { announced, changingOperations } from './changing.js';
import { goodAmi2, shallowAmi, testListenerArn, tgA, tgB } from './fixtures.js';

/**
 * The test listener over real HTTP: a local server stands in for it and answers as the group its
 * target group forwards to would, from the fake account's state.
 */
let account: FakeAwsAccount | undefined;
let requests = 0;
const server = http.createServer((req, res) => {
  requests++;
  const ok = account?.servesHealthy(testListenerArn) ?? false;
  res.writeHead(req.url === '/health' && ok ? 200 : 500).end();
});
let port = 0;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

describe('HTTP checks through the test listener', () => {
  it('GIVEN a good AMI WHEN deploying THEN checks reach green through the test listener before traffic moves', async () => {
    h = awsHarness({ testListenerPort: port });
    account = h.account;
    requests = 0;
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    expect(requests).toBeGreaterThanOrEqual(h.env.healthCheck.healthyThreshold);
    expect(h.account.weights(testListenerArn)).toEqual({ [tgB]: 1 });
    expect(h.account.weights(h.env.listener)).toEqual({ [tgA]: 0, [tgB]: 100 });
    const log = h.account.log;
    expect(log.indexOf('ModifyListener')).toBeLessThan(log.lastIndexOf('ModifyListener'));
  });

  it('GIVEN an AMI that passes the ALB check but not ours WHEN deploying THEN production traffic never moves', async () => {
    h = awsHarness({ testListenerPort: port });
    account = h.account;
    await expect(deploy(h.ctx, { deployment: 'd-1', version: shallowAmi })).rejects.toMatchObject({
      code: 'GREEN_UNHEALTHY',
      message: expect.stringContaining('test listener: GET /health answered 500, expected 200'),
    });
    expect(h.account.weights(h.env.listener)).toEqual({ [tgA]: 1 });
    expect(h.account.deletedOrDeleting('catalog-prod-g1')).toBe(true);
  });

  it('announces in its plan the same changing calls, test listener included, that the deploy makes', async () => {
    h = awsHarness({ testListenerPort: port });
    account = h.account;
    const lines = await planDeploy(h.ctx, goodAmi2);
    const from = h.account.log.length;
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    expect(h.account.log.slice(from).filter((op) => changingOperations.has(op))).toEqual(announced(lines));
    expect(lines.some((l) => l.startsWith(`ModifyListener ${testListenerArn}`))).toBe(true);
  });
});
