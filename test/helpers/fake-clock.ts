import type { Clock } from '../../src/clock.js';

/** Virtual time: every sleep advances the clock at once, so a 10-minute bake costs microseconds. */
export class FakeClock implements Clock {
  constructor(private time = Date.UTC(2026, 10, 26, 12, 0, 0)) {}

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    await new Promise((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw signal.reason;
    this.time += ms;
  }
}
