/** How traffic moves, as data. The controller does the I/O; a strategy only says what to do next. */
export type Step =
  /** Send `weight` percent of traffic to green, the rest to blue. */
  | { kind: 'setWeight'; weight: number }
  /** Hold the current weights for `duration` ms, watching green's health. */
  | { kind: 'pause'; duration: number }
  /**
   * Hold the current weights, watching green, until a person runs `cutover promote` (or `abort`), or
   * `timeout` ms pass: then `onTimeout` decides.
   */
  | { kind: 'approval'; timeout: number; onTimeout: ApprovalTimeout };

/** What an approval gate does when nobody answered in time; `abort` unless configured. */
export type ApprovalTimeout = 'abort' | 'promote';

/** A gate in a strategy: after green is watched at `atWeight` (0: before it takes any traffic). */
export interface Approval {
  atWeight: number;
  timeout: number;
  onTimeout: ApprovalTimeout;
}

/** A strategy with its options, as the config (or `strategy=NAME`) gives it. */
export type Strategy = (
  | { name: 'all-at-once' }
  /** Each weight in turn, watched for `stepBake` ms at every weight below 100. */
  | { name: 'canary'; steps: number[]; stepBake: number }
  /** `step` more percent every `interval` ms until 100. */
  | { name: 'linear'; step: number; interval: number }
) & { approval?: Approval };

export type StrategyName = Strategy['name'];
