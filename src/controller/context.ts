import type { Clock } from '../clock.js';
import type { HealthCheckConfig } from '../config/schema.js';
import type { Events } from '../events.js';
import type { Probe } from '../../healthchecks/types.js';
import type { Target } from '../providers/types.js';
import type { Journal } from '../state/journal.js';
import type { IntentStore } from './intents.js';
import type { ChecksConfig } from '../config/checks.js';
import type { Strategy } from '../../strategies/types.js';

/** Everything the controller needs, passed in: it depends on interfaces only. */
export interface ControllerContext {
  target: Target;
  journal: Journal;
  events: Events;
  clock: Clock;
  probe: Probe;
  healthCheck: HealthCheckConfig;
  strategy: Strategy;
  bake: number;
  rollbackWindow: number;
  /** Who runs this command, as the journal records it for `cutover history`. */
  actor?: string;
  /** Keep a failed green fleet running for debugging instead of retiring it. */
  keepFailed: boolean;
  /** The environment's `checks:` that watch green while it takes traffic, and whose deploy they watch. */
  checks?: { config: ChecksConfig; artifact: string; environment: string };
  /** Where `promote`, `pause`, `resume` and `abort` from other processes reach a running deploy. */
  intents?: IntentStore;
  /** Aborts waits: `cutover abort`, SIGINT or SIGTERM. The rollback that follows is not abortable. */
  signal: AbortSignal;
}
