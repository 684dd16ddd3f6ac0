/**
 * Everything a deployment does is an event with a stable code. The logger, notifiers and tests all
 * subscribe here, so tests assert on codes, not prose.
 */
export const eventCodes = [
  'deploy.started',
  'deploy.succeeded',
  'deploy.failed',
  'recovery.started',
  'recovery.finished',
  'standby.retired',
  'green.launching',
  'green.launched',
  'health.waiting',
  'health.passed',
  'health.failed',
  'traffic.shifting',
  'traffic.shifted',
  'traffic.unchanged',
  'traffic.refused',
  'bake.started',
  'bake.passed',
  'standby.kept',
  'standby.unguarded',
  'roles.repaired',
  'fleet.retired',
  'green.retired',
  'rollback.started',
  'rollback.succeeded',
  'rollback.failed',
  'abort.requested',
  'abort.finished',
  'abort.timed_out',
  'abort.nothing_to_abort',
  'lock.removed',
  'environment.down',
  'status.not_serving',
  'target.note',
  'aws.retry',
] as const;

export type EventCode = (typeof eventCodes)[number];
export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface CutoverEvent {
  code: EventCode;
  level: Level;
  message: string;
  time: number;
  /** Fixed context (deployment, artifact, environment, version, target) and event details. */
  fields: Record<string, unknown>;
}

export type Listener = (event: CutoverEvent) => void;

/** Where a listener's own failure is told, since it cannot be told through the listeners. */
export type ListenerFailed = (error: unknown, event: CutoverEvent) => void;

const toStderr: ListenerFailed = (error, event) => {
  const why = error instanceof Error ? error.message : String(error);
  process.stderr.write(`cutover: a listener failed on ${event.code} (${why}); the command goes on\n`);
};

export class Events {
  constructor(
    private readonly listeners: Listener[] = [],
    private readonly fields: Record<string, unknown> = {},
    private readonly now: () => number = Date.now,
    private readonly onListenerFailed: ListenerFailed = toStderr,
  ) {}

  subscribe(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** Same listeners, more fixed fields: what a winston child logger is to a logger. */
  child(fields: Record<string, unknown>): Events {
    return new Events(this.listeners, { ...this.fields, ...fields }, this.now, this.onListenerFailed);
  }

  info(code: EventCode, message: string, data: Record<string, unknown> = {}): void {
    this.emit('info', code, message, data);
  }

  warn(code: EventCode, message: string, data: Record<string, unknown> = {}): void {
    this.emit('warn', code, message, data);
  }

  error(code: EventCode, message: string, data: Record<string, unknown> = {}): void {
    this.emit('error', code, message, data);
  }

  private emit(level: Level, code: EventCode, message: string, data: Record<string, unknown>): void {
    const event: CutoverEvent = {
      code,
      level,
      message,
      time: this.now(),
      fields: { ...this.fields, ...data },
    };
    // A listener (a log, a notifier) is never a reason for a deploy to fail or for the others to miss it.
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        try {
          this.onListenerFailed(error, event);
        } catch {
          // Nowhere left to say it.
        }
      }
    }
  }
}
