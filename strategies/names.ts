import type { Strategy } from './types.js';

const minute = 60_000;

/** What `canary` and `linear` mean without options. */
export const strategyDefaults = {
  canary: { steps: [10, 50, 100], stepBake: minute },
  linear: { step: 10, interval: minute },
  approval: { timeout: 60 * minute },
} as const;

// CodeDeploy writes `Canary10Percent5Minutes` and `Linear10PercentEvery1Minute`, and the plural both ways
// (`Every1Minutes` in its predefined names), with or without the `CodeDeployDefault.` prefix.
const codeDeploy =
  /^(?:CodeDeployDefault\.)?(?:(Canary)([1-9]\d?)Percent([1-9]\d{0,3})Minutes?|(Linear)([1-9]\d?)PercentEvery([1-9]\d{0,3})Minutes?)$/;

/**
 * The strategy a name stands for: ours (`all-at-once`, `canary`, `linear`) or CodeDeploy's; undefined
 * for any other name.
 */
export function strategyNamed(name: string): Strategy | undefined {
  if (name === 'all-at-once' || /^(?:CodeDeployDefault\.)?AllAtOnce$/.test(name))
    return { name: 'all-at-once' };
  if (name === 'canary')
    return { name: 'canary', steps: [...strategyDefaults.canary.steps], stepBake: minute };
  if (name === 'linear') return { name: 'linear', ...strategyDefaults.linear };
  const match = codeDeploy.exec(name);
  if (!match) return undefined;
  const canary = match[1] === 'Canary';
  const percent = Number(canary ? match[2] : match[5]);
  const minutes = Number(canary ? match[3] : match[6]) * minute;
  return canary
    ? { name: 'canary', steps: [percent, 100], stepBake: minutes }
    : { name: 'linear', step: percent, interval: minutes };
}

export const strategyNameHelp =
  'all-at-once, canary, linear, or a CodeDeploy name such as Canary10Percent5Minutes or Linear10PercentEvery1Minute';
