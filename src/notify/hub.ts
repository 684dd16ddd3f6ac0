import type { CutoverEvent, Listener } from '../events.js';
import { classify } from './classify.js';
import {
  notificationSchemaVersion,
  type Actor,
  type Notification,
  type NotificationKind,
  type Notifier,
} from './notification.js';
import { NotifierQueue, type Unsent } from './queue.js';
import type { SentRecord } from './record.js';
import { Summaries, type KnownDeployment } from './summaries.js';

const minSendBudgetMs = 10_000;

export interface NotifierEntry {
  notifier: Notifier;
  kinds: 'all' | ReadonlySet<NotificationKind>;
}

export interface HubOptions {
  record: SentRecord;
  actor: Actor;
  /** What the journal knows of a deployment another process ran. */
  lookup: (deployment: string) => KnownDeployment | undefined;
  /** The exact command that rolls this artifact and environment back. */
  rollbackCommand: string;
  /** The command's own deployment: a failure that ends the command before any event named it is its. */
  deployment?: string | undefined;
  flushTimeoutMs: number;
  failed: (unsent: Unsent) => void;
  /** Told when the command ends with notifications still to send, before it waits for them. */
  flushing?: (pending: number) => void;
  now?: () => number;
  queueLimit?: number;
}

/**
 * Turns a command's events into notifications for each notifier that wants them, queued per notifier so
 * that a slow or dead endpoint never holds the deploy up. `flush` is the one wait, bounded.
 */
export class NotificationHub {
  readonly listener: Listener = (event) => this.onEvent(event);
  private readonly queues: { queue: NotifierQueue; kinds: NotifierEntry['kinds'] }[];
  private readonly summaries: Summaries;
  private readonly told = new Set<string>();
  private steps = 0;
  /** The interrupted deployment a recovery is settling, between recovery.started and .finished. */
  private recovering: string | undefined;
  private readonly now: () => number;

  constructor(
    entries: NotifierEntry[],
    private readonly options: HubOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.summaries = new Summaries(options.lookup, options.rollbackCommand);
    this.queues = entries.map(({ notifier, kinds }) => ({
      kinds,
      queue: new NotifierQueue(notifier, {
        record: options.record,
        // The flush budget bounds the wait at exit; while the command runs, a send may take longer, so
        // that a short (or zero) flush budget does not mean nothing is ever sent.
        budgetMs: Math.max(options.flushTimeoutMs, minSendBudgetMs),
        limit: options.queueLimit ?? 100,
        now: this.now,
        failed: options.failed,
      }),
    }));
  }

  /** Waits for every queue to empty, up to the flush budget in total. */
  async flush(): Promise<void> {
    const deadline = this.now() + this.options.flushTimeoutMs;
    const pending = this.queues.reduce((sum, { queue }) => sum + queue.pending(), 0);
    if (pending > 0) this.options.flushing?.(pending);
    await Promise.all(this.queues.map(({ queue }) => queue.drain(deadline)));
  }

  private onEvent(event: CutoverEvent): void {
    const named = typeof event.fields.deployment === 'string' ? event.fields.deployment : undefined;
    if (event.code === 'recovery.started') this.recovering = String(event.fields.interrupted);
    // What a recovery does, it does for the deployment it settles, not for the command that runs it;
    // a failure that ends the command before any event named a deployment is the command's own.
    const owner =
      this.recovering ?? named ?? (event.code === 'command.failed' ? this.options.deployment : undefined);
    if (event.code === 'recovery.finished') this.recovering = undefined;
    if (event.code === 'green.launched' && named) void this.options.record.settle?.(named);
    const classified = classify(event, (this.steps += 1), owner);
    if (!classified) return;
    const deployment = this.summaries.update(event, classified.deployment);
    // A rollback command that failed is a failed rollback, whichever event said so.
    const kind: NotificationKind =
      classified.kind === 'failed' && deployment.kind === 'rollback' ? 'rollback-failed' : classified.kind;
    if (this.told.has(classified.id)) return;
    this.told.add(classified.id);
    const notification: Notification = {
      schemaVersion: notificationSchemaVersion,
      id: classified.id,
      kind,
      code: event.code,
      level: event.level === 'debug' ? 'info' : event.level,
      time: new Date(event.time).toISOString(),
      message: event.message,
      deployment,
      actor: this.options.actor,
    };
    for (const { queue, kinds } of this.queues) {
      if (kinds === 'all' || kinds.has(kind)) queue.push(notification);
    }
  }
}
