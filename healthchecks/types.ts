/** One probe of one instance. A check that cannot run is an `error`, which counts as failed. */
export interface Measurement {
  instance: string;
  outcome: 'pass' | 'fail' | 'error';
  /**
   * The instance says "not yet" rather than "broken": the connection was refused or it answered 503, as
   * a process does while it starts or warms up.
   */
  notReady?: boolean;
  detail: string;
  at: number;
}

export type Verdict = 'healthy' | 'unhealthy' | 'pending';

export interface Thresholds {
  healthyThreshold: number;
  unhealthyThreshold: number;
  /**
   * Until an instance has first passed, a "not yet" measurement counts neither way, so a slow starter
   * has until its ready timeout; any other failure still counts, so a broken version fails fast.
   */
  warmingUp?: boolean;
}

export interface CheckTarget {
  id: string;
  url: string;
}

export type Probe = (target: CheckTarget) => Promise<Measurement>;
