import { allAtOnce } from './all-at-once.js';
import type { Step, StrategyName } from './types.js';

const strategies: Record<StrategyName, () => Step[]> = {
  'all-at-once': allAtOnce,
};

/** The steps of a strategy; every plan ends with green at 100%. */
export function planSteps(name: StrategyName): Step[] {
  const steps = strategies[name]();
  const last = steps.filter((s) => s.kind === 'setWeight').at(-1);
  if (!last || last.weight !== 100)
    throw new Error(`strategy \`${name}\` does not end with all traffic on green`);
  return steps;
}
