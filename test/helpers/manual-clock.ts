import type { Clock } from '../../src/clock.js';

interface Timer {
  at: number;
  resolve: () => void;
}

/**
 * Virtual time that moves only when a test says so: sleeps wait until `advance` passes their end, in
 * order, so several loops sleeping on one clock see one timeline (FakeClock lets each sleep move time).
 */
export class ManualClock implements Clock {
  private timers: Timer[] = [];

  constructor(private time = Date.UTC(2026, 10, 26, 12, 0, 0)) {}

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const timer: Timer = {
        at: this.time + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((t) => t !== timer);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
    });
  }

  /** Moves time on by `ms`, waking each sleeper at its own moment and letting it run before the next. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = next.at;
      next.resolve();
      await settle();
    }
    this.time = end;
    await settle();
  }

  /** Sleeps not yet ended: a stopped watch leaves none. */
  pending(): number {
    return this.timers.length;
  }
}

/** Lets every promise chain that can move without time or I/O move. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}
