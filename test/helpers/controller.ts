import type { ControllerContext } from '../../src/controller/context.js';
import { Events, type CutoverEvent } from '../../src/events.js';
import { Journal } from '../../src/state/journal.js';
import type { Measurement, Probe } from '../../healthchecks/types.js';
import { FakeClock } from './fake-clock.js';
import { MemoryTarget } from './memory-target.js';
import { tempDir } from './tmp.js';

export type ProbeAnswer = 'pass' | 'fail' | 'error';

/**
 * A controller wired to an in-memory target, virtual time and a scripted probe. `answer(version, at)`
 * decides each probe from the instance URL's version and the virtual time.
 */
export function controllerHarness(overrides: Partial<ControllerContext> = {}) {
  const clock = new FakeClock();
  const target = new MemoryTarget(() => clock.now());
  const dir = tempDir();
  const journal = new Journal(dir.path, 'test', 'catalog');
  const events: CutoverEvent[] = [];
  const abort = new AbortController();
  let answer: (version: string, at: number) => ProbeAnswer = () => 'pass';
  const probe: Probe = async (t): Promise<Measurement> => {
    const version = new URL(t.url).hostname.replace(/\.invalid$/, '');
    const outcome = answer(version, clock.now());
    return { instance: t.id, outcome, detail: `scripted ${outcome}`, at: clock.now() };
  };
  const ctx: ControllerContext = {
    target,
    journal,
    events: new Events([(e) => events.push(e)], {}, () => clock.now()),
    clock,
    probe,
    healthCheck: {
      path: '/health',
      expectStatus: 200,
      timeout: 1000,
      interval: 1000,
      healthyThreshold: 2,
      unhealthyThreshold: 2,
      readyTimeout: 30_000,
    },
    strategy: { name: 'all-at-once' },
    bake: 600_000,
    rollbackWindow: 3_600_000,
    keepFailed: false,
    signal: abort.signal,
    ...overrides,
  };
  return {
    ctx,
    clock,
    target,
    journal,
    stateDir: dir.path,
    events,
    abort,
    codes: () => events.map((e) => e.code),
    script(fn: (version: string, at: number) => ProbeAnswer) {
      answer = fn;
    },
    cleanup: dir.remove,
  };
}
