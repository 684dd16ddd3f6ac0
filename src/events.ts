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
  'lock.removed',
  'agent.started',
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

export class Events {
  constructor(
    private readonly listeners: Listener[] = [],
    private readonly fields: Record<string, unknown> = {},
    private readonly now: () => number = Date.now,
  ) {}

  subscribe(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** Same listeners, more fixed fields: what a winston child logger is to a logger. */
  child(fields: Record<string, unknown>): Events {
    return new Events(this.listeners, { ...this.fields, ...fields }, this.now);
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
    for (const listener of this.listeners) listener(event);
  }
}
