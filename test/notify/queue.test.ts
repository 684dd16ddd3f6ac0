import { describe, expect, it } from 'vitest';
import type { Notification, Notifier } from '../../src/notify/notification.js';
import { NotifierQueue, type Unsent } from '../../src/notify/queue.js';
import { MemoryRecord } from '../../src/notify/record.js';
import { notification } from '../helpers/notification.js';

describe('NotifierQueue', () => {
  it('GIVEN a notifier that answers at once WHEN a notification is pushed just as the pump runs dry THEN it is still sent', async () => {
    // A push in the microtasks between the pump's last look at the queue and its end found it still
    // running and started none: the notification waited, unsent, until drain gave up on it.
    for (let ticks = 0; ticks < 12; ticks++) {
      const sent: string[] = [];
      const failed: Unsent[] = [];
      const notifier: Notifier = {
        name: 'instant',
        send: async (n: Notification) => {
          sent.push(n.id);
        },
      };
      const queue = new NotifierQueue(notifier, {
        record: new MemoryRecord(),
        budgetMs: 1000,
        limit: 100,
        now: Date.now,
        failed: (u) => failed.push(u),
      });
      queue.push(notification('started'));
      for (let i = 0; i < ticks; i++) await Promise.resolve();
      queue.push(notification('succeeded'));
      await queue.drain(Date.now() + 1000);
      expect({ ticks, sent, failed: failed.map((f) => f.reason) }).toEqual({
        ticks,
        sent: ['d-1:started', 'd-1:end'],
        failed: [],
      });
    }
  });
});
