import type { JournalEntry } from '../../src/state/journal.js';

type Reading = NonNullable<JournalEntry['checks']>[string];

/**
 * A canary of v2 at 10% whose error-rate check failed, as the controller journals it: started, launched,
 * checked, 10% shifted, the given readings (each in its own record), back to blue, failed with `reason`.
 */
export function failedCanary(readings: Reading[], reason: string): JournalEntry[] {
  const entry = (
    phase: JournalEntry['phase'],
    at: number,
    extra: Partial<JournalEntry> = {},
  ): JournalEntry => ({
    deployment: 'd-1',
    kind: 'deploy',
    phase,
    at,
    version: 'v2',
    ...extra,
  });
  return [
    entry('started', 1000, { blue: 'd-0', by: 'alice', strategyName: 'canary' }),
    entry('launching', 1100, { green: 'd-1' }),
    entry('checking', 2000),
    entry('shifting', 3000, { weights: { 'd-1': 10, 'd-0': 90 }, step: 0 }),
    ...readings.map((reading) => entry('shifting', reading.at + 100, { checks: { errorRate: reading } })),
    {
      deployment: 'd-1',
      kind: 'deploy',
      phase: 'rolling-back',
      at: 5100,
      weights: { 'd-0': 100 },
      reason: 'check errorRate failed',
    },
    entry('failed', 5300, { reason, failedIn: 'shifting' }),
  ];
}
