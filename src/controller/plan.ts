import { formatDuration } from '../duration.js';
import { unhandled } from '../../strategies/index.js';
import { stepsToRun } from './steps.js';
import type { ControllerContext } from './context.js';

/**
 * The calls a deploy of `version` would make from the current state, in order, one line each: the
 * target's launch, then the strategy's steps as the deploy runs them, the bake, and the target's
 * promotion. Reads only.
 */
export async function planDeploy(ctx: ControllerContext, version: string): Promise<string[]> {
  const target = await ctx.target.plan(version);
  const lines = [...target.launch];
  let weight = 0;
  for (const [index, step] of stepsToRun(ctx.strategy, target.live)) {
    switch (step.kind) {
      case 'setWeight':
        weight = step.weight;
        if (target.noteStep) lines.push(target.noteStep(index));
        lines.push(target.setWeight(step.weight));
        break;
      case 'pause':
        lines.push(`(watch ${version} at ${weight}% for ${formatDuration(step.duration)}: health checks)`);
        break;
      case 'approval':
        lines.push(
          `(wait for approval at ${weight}%: cutover promote, or ${step.onTimeout} after ${formatDuration(step.timeout)})`,
        );
        break;
      default:
        unhandled(step);
    }
  }
  lines.push(`(bake ${formatDuration(ctx.bake)})`, ...target.promote);
  return lines;
}
