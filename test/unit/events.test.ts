import { describe, expect, it } from 'vitest';
import { Events, type CutoverEvent } from '../../src/events.js';

describe('event bus', () => {
  it('GIVEN a listener that throws WHEN events are emitted THEN the emitter goes on, later listeners still hear every event, and the failure is reported once per event', () => {
    const heard: string[] = [];
    const failures: string[] = [];
    const events = new Events(
      [
        () => {
          throw new Error('slack is down');
        },
        (event: CutoverEvent) => heard.push(event.code),
      ],
      {},
      () => 0,
      (error, event) => failures.push(`${event.code}: ${(error as Error).message}`),
    );
    const child = events.child({ deployment: 'd-1' });
    expect(() => child.info('deploy.started', 'starting')).not.toThrow();
    child.error('deploy.failed', 'failed', { error: 'GREEN_UNHEALTHY', reason: 'health check failed' });
    expect(heard).toEqual(['deploy.started', 'deploy.failed']);
    expect(failures).toEqual(['deploy.started: slack is down', 'deploy.failed: slack is down']);
  });

  it('GIVEN the failure reporter itself throws WHEN a listener fails THEN the emitter still does not throw', () => {
    const events = new Events(
      [
        () => {
          throw new Error('first');
        },
      ],
      {},
      () => 0,
      () => {
        throw new Error('second');
      },
    );
    expect(() => events.warn('target.note', 'note')).not.toThrow();
  });
});
