import type { Notification, Notifier } from './notification.js';
import type { SentRecord } from './record.js';

/** Steps waiting longer than this when their deployment ends mean the receiver is behind. */
const behindMs = 1000;

/** Why a notification was not sent, for the warning a command prints. */
export interface Unsent {
  notifier: string;
  /** Absent when the reason covers several (steps dropped from a full queue). */
  notification?: Notification;
  reason: string;
}

export interface QueueOptions {
  record: SentRecord;
  /** How long one notification may take, retries included, when the command is not yet ending. */
  budgetMs: number;
  /** Steps beyond this many waiting are dropped (oldest first); a start or an outcome never is. */
  limit: number;
  now: () => number;
  failed: (unsent: Unsent) => void;
}

/**
 * One notifier's notifications, sent one at a time in order (a Slack message is posted before it is
 * updated), in the background: a deploy never waits for Slack. `drain` is what the CLI waits for before
 * it exits, up to a deadline; what is still waiting then is reported, never raised.
 */
export class NotifierQueue {
  private readonly waiting: { notification: Notification; queuedAt: number }[] = [];
  private pumping: Promise<void> | undefined;
  private deadline = Number.POSITIVE_INFINITY;
  private readonly stop = new AbortController();
  private dropped = 0;

  constructor(
    readonly notifier: Notifier,
    private readonly options: QueueOptions,
  ) {}

  push(notification: Notification): void {
    if (this.stop.signal.aborted) return;
    const now = this.options.now();
    if (notification.id.endsWith(':end') && this.waiting.some((w) => now - w.queuedAt > behindMs)) {
      // A receiver that fell behind would get the outcome only after every step before it, maybe never
      // within the budget; and a Slack message updated by an old step after its outcome would go back
      // in time. The deployment's waiting steps are dropped (and reported), so the outcome goes next.
      const id = notification.deployment.id;
      const stale = (w: (typeof this.waiting)[number]) =>
        w.notification.kind === 'step' && w.notification.deployment.id === id;
      this.dropped += this.waiting.filter(stale).length;
      this.waiting.splice(0, this.waiting.length, ...this.waiting.filter((w) => !stale(w)));
    }
    this.waiting.push({ notification, queuedAt: now });
    if (this.waiting.length > this.options.limit) {
      const oldestStep = this.waiting.findIndex((w) => w.notification.kind === 'step');
      if (oldestStep >= 0) {
        this.waiting.splice(oldestStep, 1);
        this.dropped += 1;
      }
    }
    this.startPump();
  }

  private startPump(): void {
    this.pumping ??= this.pump().finally(() => {
      this.pumping = undefined;
      // A push between the pump's last look at `waiting` and here found it still running and started
      // none; left alone, that notification would wait unsent until drain gave up on it.
      if (this.waiting.length > 0 && !this.stop.signal.aborted) this.startPump();
    });
  }

  /** Notifications not sent yet, the one being sent included. */
  pending(): number {
    return this.waiting.length + (this.pumping ? 1 : 0);
  }

  /** Sends what waits, giving up at `deadline`; everything not sent is reported through `failed`. */
  async drain(deadline: number): Promise<void> {
    this.deadline = deadline;
    const left = deadline - this.options.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, left));
    });
    await Promise.race([this.idle(), timedOut]);
    clearTimeout(timer);
    this.stop.abort();
    // An in-flight send gets a moment to see the abort and say why it stopped.
    await Promise.race([this.idle(), new Promise((r) => setTimeout(r, 50))]);
    for (const { notification } of this.waiting.splice(0)) {
      this.options.failed({
        notifier: this.notifier.name,
        notification,
        reason: 'the notification budget (notifyFlushTimeout) ran out before it was sent',
      });
    }
    if (this.dropped) {
      this.options.failed({
        notifier: this.notifier.name,
        reason: `${this.dropped} step notification${this.dropped === 1 ? ' was' : 's were'} not sent: the receiver fell behind (more than ${this.options.limit} waited, or the deployment had ended)`,
      });
    }
  }

  private async idle(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private async pump(): Promise<void> {
    for (let next = this.waiting.shift(); next; next = this.waiting.shift()) {
      if (this.stop.signal.aborted) {
        this.waiting.unshift(next);
        return;
      }
      const { notification, queuedAt } = next;
      const name = this.notifier.name;
      // Only a start or an outcome can be told by two processes; a step's id is its own, so recording it
      // would be a write and an fsync a step for nothing.
      const shared = notification.kind !== 'step';
      try {
        if (shared && (await this.options.record.wasSent(notification.id, name))) continue;
        await this.notifier.send(notification, {
          deadline: Math.min(queuedAt + this.options.budgetMs, this.deadline),
          signal: this.stop.signal,
          messages: this.options.record,
        });
        if (shared) await this.options.record.markSent(notification.id, name);
      } catch (error) {
        this.options.failed({
          notifier: name,
          notification,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
}
