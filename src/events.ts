/**
 * Everything a deployment does is an event with a stable code. The logger, notifiers and tests all
 * subscribe here, so tests assert on codes, not prose.
 */
import type { Weights } from './providers/types.js';

type Fleet = { fleet: string };

/**
 * Every code cutover emits, with its one meaning and the details it carries beside the fixed fields
 * (deployment, artifact, environment, version, target). Notifiers and tests read these, so a code is
 * never reused for another meaning: add one instead.
 */
export interface EventPayloads {
  /** A deploy begins; `blue` is the version taking traffic. */
  'deploy.started': { blue?: string | undefined };
  'deploy.succeeded': { ms: number };
  /** A deploy failed and traffic is back where it was; `error` is the failure's code. */
  'deploy.failed': { error: string; reason: string };
  /** A command found a deployment interrupted by a killed controller and settles it. */
  'recovery.started': { interrupted: string };
  'recovery.finished': { interrupted: string; outcome: 'finished' | 'undone' | 'nothing-moved' };
  /** The standby gave way to a new green (aws: its target group). */
  'standby.retired': Fleet;
  'green.launching': Record<string, never>;
  'green.launched': Fleet;
  'health.waiting': Fleet & { healthy?: number; total?: number };
  'health.passed': Fleet;
  'health.failed': Fleet;
  /** Instances the target holds out of serving (a host that is down) were not checked; `down` names them. */
  'health.skipped': Fleet & { down: string[] };
  'traffic.shifting': { from: Weights; to: Weights };
  /** `versions`: the same weights by version, for people. */
  'traffic.shifted': { weights: Weights; versions: Record<string, number>; ms: number };
  'traffic.unchanged': { weights: Weights };
  'traffic.refused': { from: Weights; to: Weights };
  /** A failed deploy puts traffic back on blue (not the `rollback` command). */
  'traffic.restoring': { reason: string };
  'traffic.restored': { weights: Weights };
  /** A progressive strategy holds green at `weight`% for `ms`, watching it, before its next step. */
  'shift.watching': { weight: number; ms: number; step: number };
  /** An approval gate holds green at `weight`% until `cutover promote`, `abort`, or `timeoutMs`. */
  'approval.waiting': { weight: number; step: number; timeoutMs: number; leftMs: number };
  /** A gate or step ended early: `full` skips the rest to 100%. */
  'approval.promoted': { weight: number; step: number; by: string; full: boolean };
  /** `deploy --detach` left green checked at its pre-traffic gate, for `promote` to go on from. */
  'approval.detached': { until: number };
  'approval.timed_out': { weight: number; step: number; onTimeout: 'abort' | 'promote' };
  /** `cutover pause` / `resume` reached the deploy: its step timer stops, green stays watched. */
  'shift.paused': { weight: number; step: number; by: string };
  'shift.resumed': { weight: number; step: number; by: string };
  /** A request the deploy could not act on (`promote` during the bake, `resume` when not paused). */
  /** `cutover promote`/`pause`/`resume` recorded a request and waits for the deploy's answer. */
  'intent.sent': { intent: string; deployment: string };
  'intent.answered': { intent: string; deployment: string; done: boolean };
  'intent.unanswered': { intent: string; deployment: string };
  'intent.declined': { intent: string; by: string; reason: string };
  /** A shift check failed: green goes back to blue. */
  'check.failed': { check: string; weight: number; detail: string; value?: number; threshold?: number };
  /** A shift check's outcome changed (pass, fail, inconclusive), with what it measured. */
  'check.reading': { check: string; outcome: string; detail: string; weight: number };
  'bake.started': Record<string, never>;
  'bake.passed': Record<string, never>;
  'standby.kept': Fleet & { until: number };
  /** A fleet could not be guarded or recorded; a rollback to it may not be possible. */
  'standby.unguarded': Fleet & { hint?: string };
  'roles.repaired': Fleet;
  'fleet.retired': Fleet;
  'green.retired': Fleet;
  /** The `rollback` command: traffic goes back to the standby. `undid` is the deployment it undoes. */
  'rollback.started': { from?: string | undefined; undid?: string | undefined };
  'rollback.succeeded': { ms?: number; undid?: string | undefined };
  'rollback.failed': { error: string; reason: string };
  /** SIGINT or SIGTERM reached a running command, or `cutover abort` asked a deploy to stop. */
  'abort.requested': { pid?: number };
  /**
   * `deployment` is the deployment the abort stopped or undid; `outcome: 'succeeded'` when it had gone
   * live before the abort reached it (nothing was undone).
   */
  'abort.finished': { deployment: string; outcome?: 'succeeded' | 'stopped' };
  'abort.timed_out': { deployment: string; pid: number };
  'lock.removed': { artifact: string; environment: string };
  'environment.down': { environment: string; stopped: string[] };
  'status.not_serving': { reason: string };
  'target.note': Record<string, never>;
  'aws.retry': { operation: string; attempt: number; waitMs: number; error: string };
  /** An error ended the command: bad input (exit 2), a lock held (3), a failure (1). */
  'command.failed': { error: string; exitCode: number; hint?: string };
  /** The command is done and waits (at most `budgetMs`) for notifications still being sent. */
  'notify.waiting': { pending: number; budgetMs: number };
  /** A notifier could not send; the command's exit code does not change. */
  'notify.failed': { notifier: string; notification: string; reason: string };
}

export type EventCode = keyof EventPayloads;

/** The details argument: optional where the code carries none. */
type DataArg<C extends EventCode> =
  Record<string, never> extends EventPayloads[C] ? [data?: EventPayloads[C]] : [data: EventPayloads[C]];

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

  info<C extends EventCode>(code: C, message: string, ...[data]: DataArg<C>): void {
    this.emit('info', code, message, data ?? {});
  }

  warn<C extends EventCode>(code: C, message: string, ...[data]: DataArg<C>): void {
    this.emit('warn', code, message, data ?? {});
  }

  error<C extends EventCode>(code: C, message: string, ...[data]: DataArg<C>): void {
    this.emit('error', code, message, data ?? {});
  }

  private emit(level: Level, code: EventCode, message: string, data: object): void {
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
