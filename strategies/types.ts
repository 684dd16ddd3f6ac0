/** How traffic moves, as data. The controller does the I/O; a strategy only says what to do next. */
export type Step =
  /** Send `weight` percent of traffic to green, the rest to blue. */
  | { kind: 'setWeight'; weight: number }
  /** Hold the current weights for `duration` ms, watching green's health. */
  | { kind: 'pause'; duration: number };

export type StrategyName = 'all-at-once';
