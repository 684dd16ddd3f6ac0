import type { Step, Strategy } from './types.js';

/** A slice of traffic first, watched; then the next; the last weight is 100. */
export function canary(strategy: Extract<Strategy, { name: 'canary' }>): Step[] {
  return strategy.steps.flatMap((weight): Step[] =>
    weight < 100
      ? [
          { kind: 'setWeight', weight },
          { kind: 'pause', duration: strategy.stepBake },
        ]
      : [{ kind: 'setWeight', weight }],
  );
}
