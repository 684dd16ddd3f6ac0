import { planSteps } from '../../strategies/index.js';
import type { Step, Strategy } from '../../strategies/types.js';

/**
 * The steps a deploy runs, with their indexes in the strategy's plan. With nothing taking traffic there
 * is no one to share it with: a first deploy gives green all of it at once (its bake still watches it).
 * An approval gate still applies: a person asked to decide before anything new takes traffic.
 */
export function stepsToRun(strategy: Strategy, somethingLive: boolean): [number, Step][] {
  const steps = [...planSteps(strategy).entries()];
  return somethingLive
    ? steps
    : steps.filter(
        ([, step]) => step.kind === 'approval' || (step.kind === 'setWeight' && step.weight === 100),
      );
}
