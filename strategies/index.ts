import { allAtOnce } from './all-at-once.js';
import { withApproval } from './approval.js';
import { canary } from './canary.js';
import { linear } from './linear.js';
import type { Step, Strategy } from './types.js';

/** The steps of a strategy, its approval gate among them; every plan ends with green at 100%. */
export function planSteps(strategy: Strategy): Step[] {
  const steps = withApproval(stepsOf(strategy), strategy.approval);
  const last = steps.filter((s) => s.kind === 'setWeight').at(-1);
  if (!last || last.weight !== 100)
    throw new Error(`strategy \`${strategy.name}\` does not end with all traffic on green`);
  return steps;
}

function stepsOf(strategy: Strategy): Step[] {
  switch (strategy.name) {
    case 'all-at-once':
      return allAtOnce();
    case 'canary':
      return canary(strategy);
    case 'linear':
      return linear(strategy);
    default:
      return unhandled(strategy);
  }
}

/** A new strategy or step kind does not compile until every switch over it handles it. */
export function unhandled(value: never): never {
  throw new Error(`unhandled: ${JSON.stringify(value)}`);
}
