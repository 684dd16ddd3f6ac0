import { describe, expect, it } from 'vitest';
import {
  defaultRestartPolicy,
  restartDelayMs,
  streakAfterExit,
} from '../../src/providers/local/restart-policy.js';

describe('restart policy', () => {
  it('GIVEN crashes in a row THEN the delay doubles from half a second up to 30 s and stays there', () => {
    let streak = 0;
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      streak = streakAfterExit(streak, 100, defaultRestartPolicy);
      delays.push(restartDelayMs(streak, defaultRestartPolicy));
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('GIVEN the streak is at the ceiling WHEN a run lasts a stable minute THEN the next crash waits half a second again', () => {
    const streak = streakAfterExit(9, 60_000, defaultRestartPolicy);
    expect(restartDelayMs(streak, defaultRestartPolicy)).toBe(500);
    expect(restartDelayMs(streakAfterExit(9, 59_999, defaultRestartPolicy), defaultRestartPolicy)).toBe(
      30_000,
    );
  });
});
