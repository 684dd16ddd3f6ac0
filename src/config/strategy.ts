import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { strategyDefaults, strategyNamed, strategyNameHelp } from '../../strategies/names.js';
import { planSteps } from '../../strategies/index.js';
import type { Approval, Strategy } from '../../strategies/types.js';

/**
 * `strategy:` is a name (ours or CodeDeploy's) or an object with options. Every problem names its key:
 * weights outside 1–100, a plan that does not end at 100, a zero interval, a gate the plan never reaches.
 */
export const strategyConfig = z.unknown().transform((value, ctx): Strategy => {
  const fail = (message: string, path: (string | number)[] = []) => {
    ctx.addIssue({ code: 'custom', message, path });
    return z.NEVER;
  };
  if (typeof value === 'string') {
    return strategyNamed(value) ?? fail(`unknown strategy \`${value}\`; expected ${strategyNameHelp}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail(`expected a strategy name (${strategyNameHelp}) or { name: canary, steps: […] }`);
  }
  const options = value as Record<string, unknown>;
  const known: Record<string, string[]> = {
    'all-at-once': ['name', 'approval'],
    canary: ['name', 'steps', 'stepBake', 'approval'],
    linear: ['name', 'step', 'interval', 'approval'],
  };
  const name = options.name;
  if (typeof name !== 'string' || !(name in known)) {
    return fail('expected `name`: all-at-once, canary or linear', ['name']);
  }
  for (const key of Object.keys(options)) {
    if (!known[name]?.includes(key)) return fail(`\`${key}\` is not an option of ${name}`, [key]);
  }
  const durationOf = (key: string, fallback: number): number | undefined => {
    const raw = options[key];
    if (raw === undefined) return fallback;
    const ms = typeof raw === 'string' || typeof raw === 'number' ? parseDuration(raw) : undefined;
    if (ms === undefined) return fail(`expected a duration such as 30s or 5m`, [key]);
    if (ms <= 0) return fail('must be longer than 0', [key]);
    return ms;
  };
  const strategy = ((): Strategy | undefined => {
    if (name === 'all-at-once') return { name };
    if (name === 'canary') {
      const steps = options.steps ?? [...strategyDefaults.canary.steps];
      if (!Array.isArray(steps) || steps.length === 0)
        return fail('expected a list of weights such as [10, 50, 100]', ['steps']);
      for (const [i, weight] of steps.entries()) {
        if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > 100)
          return fail('each weight is a whole percent from 1 to 100', ['steps', i]);
        if (i > 0 && weight <= (steps[i - 1] as number)) return fail('weights must rise', ['steps', i]);
      }
      if (steps.at(-1) !== 100)
        return fail('the last weight must be 100: a canary ends with all traffic on green', ['steps']);
      const stepBake = durationOf('stepBake', strategyDefaults.canary.stepBake);
      return stepBake === undefined ? undefined : { name, steps: steps as number[], stepBake };
    }
    const step = options.step ?? strategyDefaults.linear.step;
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 1 || step > 100)
      return fail('expected a whole percent from 1 to 100', ['step']);
    const interval = durationOf('interval', strategyDefaults.linear.interval);
    return interval === undefined ? undefined : { name: 'linear', step, interval };
  })();
  if (strategy === undefined || options.approval === undefined) return strategy ?? z.NEVER;
  const approval = approvalOf(options.approval, strategy, fail);
  return approval === undefined ? z.NEVER : { ...strategy, approval };
});

/** `approval: { atWeight: 0, timeout: 1h, onTimeout: abort }`; the gate must sit where the plan goes. */
function approvalOf(
  raw: unknown,
  strategy: Strategy,
  fail: (message: string, path: (string | number)[]) => never,
): Approval | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return fail('expected { atWeight: 0, timeout: 1h }', ['approval']);
  const options = raw as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!['atWeight', 'timeout', 'onTimeout'].includes(key))
      return fail(`\`${key}\` is not an option of approval (atWeight, timeout, onTimeout)`, [
        'approval',
        key,
      ]);
  }
  const atWeight = options.atWeight ?? 0;
  const weights = planSteps(strategy).flatMap((s) => (s.kind === 'setWeight' ? [s.weight] : []));
  if (typeof atWeight !== 'number' || !(atWeight === 0 || weights.includes(atWeight)))
    return fail(
      `expected 0 (before green takes traffic) or a weight the plan reaches: ${weights.join(', ')}`,
      ['approval', 'atWeight'],
    );
  const rawTimeout = options.timeout ?? strategyDefaults.approval.timeout;
  const timeout =
    typeof rawTimeout === 'string' || typeof rawTimeout === 'number' ? parseDuration(rawTimeout) : undefined;
  if (timeout === undefined) return fail('expected a duration such as 30m or 1h', ['approval', 'timeout']);
  if (timeout <= 0) return fail('must be longer than 0', ['approval', 'timeout']);
  const onTimeout = options.onTimeout ?? 'abort';
  if (onTimeout !== 'abort' && onTimeout !== 'promote')
    return fail('expected abort (the default) or promote', ['approval', 'onTimeout']);
  return { atWeight, timeout, onTimeout };
}
