/**
 * What every notifier is given: one versioned document per notification, the same for Slack and for the
 * generic webhook (whose receivers rely on its shape: bump `schemaVersion` on any incompatible change).
 */

export const notificationSchemaVersion = 1;

/**
 * What a person hears about. `step` is every other event of a deployment (launch, checks, shift, bake),
 * sent only to notifiers with `events: all`; `test` is `cutover notify-test`.
 */
export const notificationKinds = [
  'started',
  'succeeded',
  'failed',
  'rolled-back',
  'rollback-failed',
  'aborted',
  'step',
  'test',
] as const;
export type NotificationKind = (typeof notificationKinds)[number];

/** The kinds a notifier gets when its config names none: everything but per-step chatter. */
export const defaultKinds: readonly NotificationKind[] = notificationKinds.filter(
  (kind) => kind !== 'step' && kind !== 'test',
);

export interface DeploymentSummary {
  /** The deployment id (`d-20261126T113002-3f9a`); a rollback has its own. */
  id: string;
  kind: 'deploy' | 'rollback';
  artifact: string;
  environment: string;
  target: string;
  /** The version this deployment moves traffic to. */
  version?: string;
  /** The version that took traffic before it. */
  previousVersion?: string;
  /** Where it is now: `started`, `checking`, `shifting`, `baking`, `live`, `succeeded`, `failed`, … */
  phase: string;
  /** Version → share of traffic, 0–100, as last set. */
  weights?: Record<string, number>;
  /** ISO 8601. */
  startedAt: string;
  durationMs?: number;
  failure?: { code: string; reason: string };
  /** The command that puts traffic back, once a standby exists to go back to. */
  rollbackCommand?: string;
  /** For a rollback: the deployment it undid. */
  undid?: string;
}

export interface Actor {
  /** Who ran it: `CUTOVER_ACTOR`, the CI's user, or the local user. */
  name: string;
  /** Where the name came from. */
  source: 'CUTOVER_ACTOR' | 'github' | 'gitlab' | 'jenkins' | 'local';
  /** The CI run (job) that ran cutover. */
  runUrl?: string;
  commit?: string;
}

export interface Notification {
  schemaVersion: typeof notificationSchemaVersion;
  /**
   * Stable across processes for the same thing told: `<deployment>:started`, `<deployment>:end` for the
   * one outcome of a deployment, `<deployment>:<code>:<time>-<n>` for steps. A notifier that already sent an id
   * (recorded with the deployment) does not send it again.
   */
  id: string;
  kind: NotificationKind;
  /** The cutover event code it came from (`deploy.failed`, …) or `notify.test`. */
  code: string;
  level: 'info' | 'warn' | 'error';
  /** ISO 8601. */
  time: string;
  /** One line for a person, as the log says it. */
  message: string;
  deployment: DeploymentSummary;
  actor: Actor;
}

/** A Slack message a bot notifier posted for a deployment, kept so any runner can update it. */
export interface MessageRef {
  channel: string;
  ts: string;
}

/**
 * Where notifiers keep what they need across processes, stored with the deployment (the journal folder
 * on local; tags on the fleet's group on aws). Keys are non-secret notifier names.
 */
export interface MessageStore {
  message(deployment: string, notifier: string): Promise<MessageRef | undefined>;
  saveMessage(deployment: string, notifier: string, ref: MessageRef): Promise<void>;
}

export interface SendContext {
  /** Epoch ms by which the send gives up, retries included. */
  deadline: number;
  /** Aborted when the CLI's flush budget runs out. */
  signal: AbortSignal;
  messages: MessageStore;
}

export interface Notifier {
  /** Names it in warnings and `notify-test` output; never holds a secret (`slack webhook #1`, `slack #deploys`). */
  readonly name: string;
  /** Sends one notification; rejects (with a message free of secrets) when it could not by the deadline. */
  send(notification: Notification, context: SendContext): Promise<void>;
}
