/** One probe of one instance. A check that cannot run is an `error`, which counts as failed. */
export interface Measurement {
  instance: string;
  outcome: 'pass' | 'fail' | 'error';
  detail: string;
  at: number;
}

export type Verdict = 'healthy' | 'unhealthy' | 'pending';

export interface Thresholds {
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface CheckTarget {
  id: string;
  url: string;
}

export type Probe = (target: CheckTarget) => Promise<Measurement>;
