import type { Measurement } from '../../healthchecks/types.js';

/** The two small interfaces every target implements; the controller depends on nothing else. */

export interface Instance {
  id: string;
  /** Base URL the HTTP health checks use for this instance, when the runner can reach it directly. */
  url?: string;
  /**
   * Whether the target itself counts the instance as up (a local process listening on its port; an
   * instance InService). False rules the instance out of serving; absent means the target cannot say.
   */
  up?: boolean;
}

/**
 * What a fleet is for, recorded by the target and changed only by the controller (src/controller/roles.ts):
 * - `green`: launched by a deploy that has not gone live;
 * - `live`: the fleet the service runs on (traffic moves to green during a deploy, but blue stays live
 *   until green has baked);
 * - `standby`: the fleet a live one replaced, kept warm and guarded until its window closes: the only
 *   rollback target;
 * - `failed`: a green that failed and was kept with `--keep-failed`: never takes traffic again;
 * - `retiring`: being stopped.
 */
export type FleetRole = 'green' | 'live' | 'standby' | 'failed' | 'retiring';

/** A role change and what goes with it: the version a live fleet replaced; the end of a standby's window. */
export type RoleChange =
  | { role: 'live'; previousVersion?: string | undefined }
  | { role: 'standby'; until: number }
  | { role: 'failed' };

export interface FleetInfo {
  id: string;
  version: string;
  instances: Instance[];
  /** The deployment that launched it. */
  deployment: string;
  createdAt: number;
  role: FleetRole;
  /** Set on a standby only: when its rollback window closes and it may be retired. */
  standbyUntil?: number;
  /**
   * Launched by a deploy that has not gone live yet: that deploy is running, or its controller died.
   * Set by targets whose state outlives the runner (aws tags); another deploy must not start meanwhile.
   */
  inProgress?: boolean;
  /** The version that was live before this fleet, where the target records it (aws tags). */
  previousVersion?: string;
  /**
   * Where HTTP checks reach this fleet when not at its instances: an ALB test listener forwarding to it.
   * Without it, checks go to each instance's `url`.
   */
  checkEndpoints?: Instance[];
}

export interface LaunchSpec {
  id: string;
  version: string;
  deployment: string;
  /** Who deploys it: aws keeps it in the launch template version's description, for `history`. */
  by?: string | undefined;
}

/** A deployment a target still knows of without any journal (aws: its launch template versions). */
export interface TargetRecord {
  deployment: string;
  version: string;
  by: string | null;
  startedAt: number;
}

export type Progress = (message: string) => void;

/** A set of instances of one version: an Auto Scaling group, or local processes. */
export interface Fleet {
  /** Starts launching the environment's capacity of `version`; resolves once the launch is accepted. */
  launch(spec: LaunchSpec): Promise<FleetInfo>;
  /** Resolves when every instance runs; rejects with the reason when one cannot start or `deadline` passes. */
  waitReady(fleetId: string, deadline: number, progress: Progress, signal?: AbortSignal): Promise<FleetInfo>;
  /** Every fleet of this artifact and environment, live, standby or otherwise. */
  list(): Promise<FleetInfo[]>;
  /**
   * Records a fleet's new role where the target keeps state, with what the role means there: a live
   * fleet loses any standby window and guard (aws: scale-in protection) and remembers the version it
   * replaced, so any runner can name the version to go back to; a standby is guarded until `until`,
   * when the target may retire it; a failed fleet is never given traffic.
   */
  setRole(fleetId: string, change: RoleChange): Promise<void>;
  /**
   * The fleet's health as the target itself sees it (an ALB's target health), one measurement per
   * instance; empty where the target has no such view and HTTP checks are the whole story.
   */
  health(fleetId: string): Promise<Measurement[]>;
  /** Stops a fleet that takes no traffic, letting requests in flight finish first. */
  retire(fleetId: string): Promise<void>;
  /**
   * Where the target supervises its fleets by itself (the local agent): retire this green, which takes
   * no traffic, once `until` passes, unless its role changes first (a detached deploy's approval gate).
   * Absent elsewhere: there, the next cutover command that sees the closed gate undoes it.
   */
  expireGreen?(fleetId: string, until: number): Promise<void>;
}

/** Fleet id → share of traffic, 0–100. A fleet absent from the map takes no traffic. */
export type Weights = Record<string, number>;

/** What decides where requests go: an ALB listener's weighted forward action, or the local router. */
export interface TrafficRouter {
  /** Creates the router when the target needs one (the local router); a no-op where it already exists. */
  ensure(): Promise<void>;
  /** The weights as the router holds them now: the source of truth for which fleet is live. */
  readWeights(): Promise<Weights>;
  /** Replaces all weights in one atomic change. */
  setWeights(weights: Weights): Promise<void>;
}

/**
 * A few short facts kept with a deployment where every runner sees them (aws: tags on the group the
 * deployment launched), for notifications: what was told, and which Slack message is the deployment's.
 * Keys are plain (`notified-3f9a2c`); values are at most 256 characters.
 */
export interface DeploymentNotes {
  /** The deployment's notes; undefined when it has no place for them (no group of its own, or not yet). */
  read(deployment: string): Promise<Record<string, string> | undefined>;
  /** Adds or replaces notes; false when the deployment has no place for them (yet). */
  write(deployment: string, notes: Record<string, string>): Promise<boolean>;
}

/** Responses a fleet served in a window; `errors` are 5xx, including the router's own for the fleet. */
export interface RequestCounts {
  requests: number;
  errors: number;
}

/** Where a target counts responses per fleet: the local router's counters, CloudWatch on aws. */
export interface TrafficMetrics {
  /**
   * Each fleet's responses between `from` and `to` (epoch ms), over the whole periods the target measures
   * in that lie within them (local: seconds; aws: CloudWatch's 60-second periods). A fleet maps to
   * undefined where the target has no data for it in that span (no whole period yet, or nothing
   * published): the caller counts that as inconclusive, never as a pass.
   */
  requestCounts(
    fleetIds: string[],
    from: number,
    to: number,
  ): Promise<Record<string, RequestCounts | undefined>>;
}

/** A named alarm as the target's monitoring holds it (CloudWatch), or why it could not be read. */
export type AlarmReading =
  | { name: string; state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'; reason?: string }
  | { name: string; unreadable: string };

export interface Alarms {
  /** One reading per name, in the order asked; an alarm that does not exist is unreadable. */
  read(names: string[]): Promise<AlarmReading[]>;
}

export interface TargetPlan {
  /** Retiring what is no rollback target, launching green, waiting until it is ready and checked. */
  launch: string[];
  /** Whether a fleet takes traffic now: without one, a deploy gives green all of it at once. */
  live: boolean;
  /** The call that records the step a deploy is at where every runner sees it (aws: a tag), if any. */
  noteStep?(step: number): string;
  /** The one change that gives green `percent`% of traffic and blue the rest. */
  setWeight(percent: number): string;
  /** Recording green live and blue standby, retiring what the deploy replaced. */
  promote: string[];
}

/** A lock every runner sees (hosts: a folder on the load balancer host), as its holder recorded it. */
export interface SharedLockHolder {
  /** Where the lock is, for people: `host:/path`. */
  where: string;
  /** Absent when the lock names no holder. */
  holder?: { deployment: string; command: string; startedAt: number; host: string; pid: number };
  /** Its holder ran on this machine and is gone: the next command takes the lock over. */
  stale: boolean;
}

export interface Target {
  name: string;
  /** Where the target keeps deployment notes for other runners; absent where one runner's journal is all (local). */
  notes?: DeploymentNotes;
  /**
   * Green takes the standby's place (aws: its target group), so a deploy retires the standby before it
   * launches and says so. Where false (local), the standby stays until green is live.
   */
  standbyGivesWay: boolean;
  fleet: Fleet;
  router: TrafficRouter;
  /** Responses per fleet, for the error-rate check; absent where the target cannot count them. */
  metrics?: TrafficMetrics;
  /** Named alarms, for the alarms check; absent where the target has none (local). */
  alarms?: Alarms;
  /**
   * Takes the environment's lock where every runner sees it (hosts: a folder on the load balancer host),
   * after this runner's own; resolves to its release. LockHeld when another runner holds it. Absent
   * where the runner's lock is all (local) or the target claims its fleets by itself (aws generations).
   */
  lock?(holder: { deployment: string; command: string; startedAt: number }): Promise<() => Promise<void>>;
  /**
   * Lets go of what the target holds open for a command (hosts: its SSH sessions), so the process can
   * end at once; the target opens them again if used afterwards. Absent where it holds nothing open.
   */
  close?(): Promise<void>;
  /** Who holds the lock `lock` takes, for `status`; undefined when it is free. */
  lockHolder?(): Promise<SharedLockHolder | undefined>;
  /**
   * `cutover unlock` of that lock: removes it when `deployment` holds it (or it names no holder) and
   * the holder does not run on this machine; false when it was free. UserInputError otherwise.
   */
  unlock?(deployment: string): Promise<boolean>;
  /** The address users reach the service at (the local router; the ALB listener), for the probe check. */
  publicUrl?(): Promise<string | undefined>;
  /**
   * The deploys the target itself still records, newest first, for `cutover history` on a runner whose
   * journal lacks them (aws: its launch template versions); absent where only the journal knows (local).
   */
  deployments?(): Promise<TargetRecord[]>;
  /**
   * The target's own operations in a deploy of `version` from the current state, one line each, making
   * only reads; the controller puts them in order around the strategy's steps (src/controller/plan.ts).
   * Changing calls start with their operation name; waits are in parentheses.
   */
  plan(version: string): Promise<TargetPlan>;
  /** Checks what a deploy of `version` needs before anything changes; a UserInputError when it is not there. */
  preflight(version: string): Promise<void>;
  /**
   * Checks that the router can be changed safely, before any traffic change that is not a deploy (a
   * rollback): a UserInputError when it cannot (aws: the listener forwards to a target group outside
   * `targetGroups`, or one of those cannot be read). A no-op where the target owns its router.
   */
  checkRouting(): Promise<void>;
  /**
   * Facts about the target itself for `status`; `warning` when something needs a person's attention;
   * `down` when the target knows nothing can answer (the local agent, which holds the router, is not running).
   */
  describe(): Promise<{ details: Record<string, unknown>; warning?: string; down?: string }>;
}
