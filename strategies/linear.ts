import type { Step, Strategy } from './types.js';

/** `step` percent more every `interval`, watched in between, up to 100. */
export function linear(strategy: Extract<Strategy, { name: 'linear' }>): Step[] {
  const steps: Step[] = [];
  for (let weight = strategy.step; weight < 100; weight += strategy.step) {
    steps.push({ kind: 'setWeight', weight }, { kind: 'pause', duration: strategy.interval });
  }
  steps.push({ kind: 'setWeight', weight: 100 });
  return steps;
}
