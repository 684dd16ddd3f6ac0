import { describe, expect, it } from 'vitest';
import {
  createDeploymentBody,
  inactiveBody,
  stateFor,
  statusBody,
  truncateDescription,
} from '../../src/notify/github-status.js';
import { notification, rollbackNotification } from '../helpers/notification.js';

const links = {
  environmentUrl: 'http://127.0.0.1:8080/',
  logUrl: 'https://github.com/acme/catalog/actions/runs/42',
};

describe('truncateDescription', () => {
  it('GIVEN a text of 140 characters or fewer THEN it is kept whole', () => {
    const text = 'x'.repeat(140);
    expect(truncateDescription(text)).toBe(text);
  });

  it('GIVEN a longer text THEN it is cut to exactly 140 characters ending with …', () => {
    const cut = truncateDescription(`${'a'.repeat(139)}bcdef`);
    expect([...cut]).toHaveLength(140);
    expect(cut).toBe(`${'a'.repeat(139)}…`);
  });

  it('GIVEN emoji (surrogate pairs) at the cut THEN no half character is left', () => {
    const cut = truncateDescription('😀'.repeat(200));
    expect([...cut]).toHaveLength(140);
    expect(cut).toBe(`${'😀'.repeat(139)}…`);
    // A lone surrogate would not survive a round trip through UTF-8.
    expect(Buffer.from(cut, 'utf8').toString('utf8')).toBe(cut);
  });

  it('GIVEN line breaks and runs of spaces THEN they become one line', () => {
    expect(truncateDescription('  health check failed:\n  GET /health   answered 500 \n')).toBe(
      'health check failed: GET /health answered 500',
    );
  });
});

describe('stateFor', () => {
  it('maps each outcome to its GitHub state', () => {
    expect(stateFor(notification('started'))).toBe('in_progress');
    expect(stateFor(notification('succeeded'))).toBe('success');
    expect(stateFor(notification('failed'))).toBe('failure');
    expect(stateFor(notification('aborted'))).toBe('failure');
    expect(stateFor(rollbackNotification('rolled-back'))).toBe('success');
    expect(stateFor(rollbackNotification('rollback-failed'))).toBe('failure');
  });

  it('GIVEN an ending that leaves traffic unsettled THEN error, not failure', () => {
    const n = notification('failed');
    for (const code of ['ROLLBACK_INCOMPLETE', 'PROMOTE_INCOMPLETE']) {
      expect(stateFor({ ...n, deployment: { ...n.deployment, failure: { code, reason: 'r' } } })).toBe(
        'error',
      );
    }
  });

  it('GIVEN steps THEN only a detach (queued) and a promote (in_progress) change the state', () => {
    expect(stateFor(notification('step', { code: 'approval.detached' }))).toBe('queued');
    expect(stateFor(notification('step', { code: 'approval.promoted' }))).toBe('in_progress');
    expect(stateFor(notification('step', { code: 'traffic.shifted' }))).toBeUndefined();
    expect(stateFor(notification('test', { code: 'notify.test' }))).toBeUndefined();
  });
});

describe('createDeploymentBody', () => {
  it('records the commit, the environment and cutover’s ids, with no auto-merge and no required contexts', () => {
    expect(createDeploymentBody(notification('started'), 'abc123')).toEqual({
      ref: 'abc123',
      environment: 'prod',
      description: 'cutover deploy of catalog v2',
      auto_merge: false,
      required_contexts: [],
      payload: { deployment: 'd-1', kind: 'deploy', artifact: 'catalog', version: 'v2' },
    });
  });

  it('GIVEN a rollback THEN it is a deployment of the version rolled back to', () => {
    const body = createDeploymentBody(rollbackNotification('started'), 'abc123');
    expect(body.payload).toEqual({ deployment: 'd-2', kind: 'rollback', artifact: 'catalog', version: 'v1' });
    expect(body.description).toBe('cutover rollback of catalog v1');
    expect(body).not.toHaveProperty('transient_environment');
    expect(body).not.toHaveProperty('production_environment');
  });
});

describe('statusBody', () => {
  it('GIVEN a success THEN the message, the environment URL and the run link', () => {
    expect(
      statusBody(notification('succeeded', { message: 'v2 is live (took 2s)' }), 'success', links),
    ).toEqual({
      state: 'success',
      description: 'v2 is live (took 2s)',
      environment_url: links.environmentUrl,
      log_url: links.logUrl,
    });
  });

  it('GIVEN a failure THEN the description is the failure’s reason, cut to 140 characters', () => {
    const n = notification('failed');
    const long = {
      ...n,
      deployment: {
        ...n.deployment,
        failure: { code: 'GREEN_UNHEALTHY', reason: `GET /health answered 500 ${'x'.repeat(300)}` },
      },
    };
    const body = statusBody(long, 'failure', links);
    expect(body.description.startsWith('GET /health answered 500')).toBe(true);
    expect([...body.description]).toHaveLength(140);
    expect(body.environment_url).toBe(links.environmentUrl);
  });

  it('GIVEN an abort THEN the description says so once', () => {
    const n = notification('aborted');
    const bySignal = {
      ...n,
      deployment: { ...n.deployment, failure: { code: 'ABORTED', reason: 'aborted by SIGTERM' } },
    };
    expect(statusBody(bySignal, 'failure', links).description).toBe('aborted by SIGTERM');
    const byCommand = { ...n, message: 'traffic is back on v1' };
    expect(statusBody(byCommand, 'failure', links).description).toBe('aborted: traffic is back on v1');
  });

  it('GIVEN no links THEN neither field is sent (GitHub would keep an empty one)', () => {
    const body = statusBody(notification('started'), 'in_progress', {});
    expect(body).not.toHaveProperty('environment_url');
    expect(body).not.toHaveProperty('log_url');
  });
});

describe('inactiveBody', () => {
  it('names the rollback and the version back in service, and gives no environment URL', () => {
    expect(inactiveBody(rollbackNotification('rolled-back'), links)).toEqual({
      state: 'inactive',
      description: 'rolled back by d-2: v1 takes the traffic again',
      log_url: links.logUrl,
    });
  });
});
