import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { UserInputError } from '../../src/errors.js';
import { planSteps } from '../../strategies/index.js';
import { strategyNamed } from '../../strategies/names.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir();
afterAll(() => dir.remove());
const minute = 60_000;

const weights = (name: string) =>
  planSteps(strategyNamed(name) ?? { name: 'all-at-once' }).map((s) =>
    s.kind === 'setWeight'
      ? s.weight
      : s.kind === 'pause'
        ? `pause ${s.duration / minute}m`
        : `approval ${s.timeout / minute}m ${s.onTimeout}`,
  );

describe('strategies by name', () => {
  it.each([
    ['all-at-once', [100]],
    ['AllAtOnce', [100]],
    ['CodeDeployDefault.AllAtOnce', [100]],
    ['canary', [10, 'pause 1m', 50, 'pause 1m', 100]],
    ['Canary10Percent5Minutes', [10, 'pause 5m', 100]],
    ['CodeDeployDefault.Canary10Percent15Minutes', [10, 'pause 15m', 100]],
    [
      'Linear10PercentEvery1Minute',
      [
        10,
        'pause 1m',
        20,
        'pause 1m',
        30,
        'pause 1m',
        40,
        'pause 1m',
        50,
        'pause 1m',
        60,
        'pause 1m',
        70,
        'pause 1m',
        80,
        'pause 1m',
        90,
        'pause 1m',
        100,
      ],
    ],
    ['CodeDeployDefault.Linear10PercentEvery1Minutes', expect.arrayContaining([10, 90, 100])],
    ['Linear10PercentEvery3Minutes', expect.arrayContaining([10, 'pause 3m', 100])],
    ['Linear30PercentEvery1Minute', [30, 'pause 1m', 60, 'pause 1m', 90, 'pause 1m', 100]],
  ])('%s', (name, expected) => {
    expect(weights(name)).toEqual(expected);
  });

  it.each([
    'Canary10PercentEvery5Minutes',
    'Linear10Percent1Minute',
    'Canary010Percent05Minutes',
    'Canary0Percent5Minutes',
    'Canary100Percent5Minutes',
    'Linear10PercentEvery0Minutes',
    'blue-green',
    'CodeDeployDefault.OneAtATime',
  ])('refuses %s', (name) => {
    expect(strategyNamed(name)).toBeUndefined();
  });
});

describe('strategy in the config', () => {
  const load = (strategy: string) => {
    const file = join(dir.path, `s-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      file,
      `artifacts:\n  catalog:\n    command: [node, server.mjs]\nenvironments:\n  local:\n    target: local\n    strategy: ${strategy}\n`,
    );
    return loadConfig(file).config.environments.local?.strategy;
  };

  it('takes a name or an object with options', () => {
    expect(load('canary')).toEqual({ name: 'canary', steps: [10, 50, 100], stepBake: minute });
    expect(load('{ name: canary, steps: [5, 25, 100], stepBake: 30s }')).toEqual({
      name: 'canary',
      steps: [5, 25, 100],
      stepBake: 30_000,
    });
    expect(load('{ name: linear, step: 25, interval: 2m }')).toEqual({
      name: 'linear',
      step: 25,
      interval: 2 * minute,
    });
    expect(load('Linear10PercentEvery3Minutes')).toEqual({ name: 'linear', step: 10, interval: 3 * minute });
  });

  it('places an approval gate before any traffic, or after the watch at its weight', () => {
    const gated = (strategy: string) => {
      const loaded = load(strategy);
      return loaded
        ? planSteps(loaded).map((s) => s.kind + (s.kind === 'setWeight' ? ` ${s.weight}` : ''))
        : [];
    };
    expect(load('{ name: canary, approval: {} }')).toMatchObject({
      approval: { atWeight: 0, timeout: 60 * minute, onTimeout: 'abort' },
    });
    expect(gated('{ name: canary, approval: { atWeight: 0 } }')).toEqual([
      'approval',
      'setWeight 10',
      'pause',
      'setWeight 50',
      'pause',
      'setWeight 100',
    ]);
    expect(
      gated(
        '{ name: canary, steps: [10, 100], approval: { atWeight: 10, timeout: 5m, onTimeout: promote } }',
      ),
    ).toEqual(['setWeight 10', 'pause', 'approval', 'setWeight 100']);
    expect(gated('{ name: all-at-once, approval: { atWeight: 100 } }')).toEqual([
      'setWeight 100',
      'approval',
    ]);
    expect(gated('{ name: linear, step: 50, approval: { atWeight: 50 } }')).toEqual([
      'setWeight 50',
      'pause',
      'approval',
      'setWeight 100',
    ]);
  });

  it.each([
    ['{ name: canary, steps: [10, 50] }', /strategy\.steps`: the last weight must be 100/],
    [
      '{ name: canary, steps: [10, 150, 100] }',
      /strategy\.steps\.1`: each weight is a whole percent from 1 to 100/,
    ],
    ['{ name: canary, steps: [50, 10, 100] }', /strategy\.steps\.1`: weights must rise/],
    ['{ name: linear, interval: 0s }', /strategy\.interval`: must be longer than 0/],
    ['{ name: linear, step: 0 }', /strategy\.step`: expected a whole percent/],
    ['{ name: canary, interval: 1m }', /strategy\.interval`: `interval` is not an option of canary/],
    ['{ name: rainbow }', /strategy\.name`: expected `name`/],
    ['Canary10Percent', /unknown strategy `Canary10Percent`/],
    [
      '{ name: canary, approval: { atWeight: 20 } }',
      /strategy\.approval\.atWeight`: expected 0 \(before green takes traffic\) or a weight the plan reaches: 10, 50, 100/,
    ],
    ['{ name: canary, approval: { timeout: 0s } }', /strategy\.approval\.timeout`: must be longer than 0/],
    ['{ name: canary, approval: { onTimeout: rollback } }', /strategy\.approval\.onTimeout`: expected abort/],
    ['{ name: canary, approval: { when: now } }', /strategy\.approval\.when`: `when` is not an option/],
    ['{ name: canary, approval: yes }', /strategy\.approval`: expected \{ atWeight/],
  ])('refuses %s, naming the key', (strategy, message) => {
    let error: unknown;
    try {
      load(strategy);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as Error).message).toMatch(message);
  });
});
