import type { Step } from './types.js';

/** Every request moves to green in one atomic change; the bake that follows watches it. */
export function allAtOnce(): Step[] {
  return [{ kind: 'setWeight', weight: 100 }];
}
