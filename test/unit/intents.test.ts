import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import type { IntentKind } from '../../src/controller/intents.js';
import { FileIntents } from '../../src/state/intent-file.js';
import type { Strategy } from '../../strategies/types.js';
import { controllerHarness } from '../helpers/controller.js';
import { timelineOf } from '../../src/report/timeline.js';
import { reportHtml } from '../../src/report/html.js';

/**
 * Approval gates and requests from other processes (promote, pause, resume, abort) on the in-memory
 * target, in virtual time; the requests go through the real file store the local target uses.
 */

let harness: ReturnType<typeof controllerHarness>;
afterEach(() => harness.cleanup());

const minute = 60_000;

function setup(strategy: Strategy, bake = 5 * minute) {
  harness = controllerHarness({ strategy, bake });
  const intents = new FileIntents(harness.stateDir, 'test', 'catalog');
  harness.ctx.intents = intents;
  return intents;
}

async function v1Live(): Promise<void> {
  await deploy({ ...harness.ctx, strategy: { name: 'all-at-once' } }, { deployment: 'd-v1', version: 'v1' });
  harness.target.calls = [];
  harness.events.length = 0;
}

/** Sends each request once virtual time reaches its moment (probes run once a check interval). */
function requests(intents: FileIntents, plan: [afterMs: number, kind: IntentKind][]) {
  const start = harness.clock.now();
  const sent = new Set<number>();
  harness.script((_version, at) => {
    for (const [i, [after, kind]] of plan.entries()) {
      if (!sent.has(i) && at - start >= after) {
        sent.add(i);
        void intents.send('d-v2', { id: `i-${i}`, kind, at, by: 'ops' });
      }
    }
    return 'pass';
  });
}

/** What the report will draw as moments of d-v2, from its journal. */
const moments = () =>
  (timelineOf(harness.ctx.journal.entries('d-v2'))?.moments ?? []).map((m) => [m.kind, m.by]);

const shifts = () => harness.target.calls.filter((c) => c.startsWith('weights'));
const deployV2 = () => deploy(harness.ctx, { deployment: 'd-v2', version: 'v2' });

describe('approval gates', () => {
  it('GIVEN a gate at 10% WHEN promote comes 20 minutes in THEN green waits at 10% until then, and the deploy answers it', async () => {
    const intents = setup({
      name: 'canary',
      steps: [10, 100],
      stepBake: minute,
      approval: { atWeight: 10, timeout: 60 * minute, onTimeout: 'abort' },
    });
    await v1Live();
    const started = harness.clock.now();
    requests(intents, [[20 * minute, 'promote']]);
    await deployV2();
    expect(moments()).toEqual([['promote', 'ops']]);
    expect(shifts()).toEqual(['weights v2=10,v1=90', 'weights v2=100']);
    expect(harness.clock.now() - started).toBeGreaterThanOrEqual(20 * minute + harness.ctx.bake);
    expect(harness.clock.now() - started).toBeLessThan(30 * minute);
    expect(harness.codes()).toContain('approval.waiting');
    expect(harness.events.find((e) => e.code === 'approval.promoted')?.fields).toMatchObject({
      weight: 10,
      by: 'ops',
      full: false,
    });
    expect((await intents.read('d-v2')).reply).toMatchObject({ id: 'i-0', done: true });
    expect(harness.target.liveVersion()).toBe('v2');
  });

  it('GIVEN a promote sent while green is still being checked WHEN the pre-traffic gate opens THEN it does not approve it: declined, and the gate times out', async () => {
    const intents = setup({
      name: 'all-at-once',
      approval: { atWeight: 0, timeout: 30 * minute, onTimeout: 'abort' },
    });
    await v1Live();
    // Sent at green's first health check, before the gate exists: nobody has looked at the gate yet.
    requests(intents, [[0, 'promote']]);
    await expect(deployV2()).rejects.toMatchObject({ code: 'APPROVAL_TIMED_OUT' });
    expect(harness.events.find((e) => e.code === 'intent.declined')?.fields.reason).toBe(
      'sent before the gate opened',
    );
    expect(harness.target.liveVersion()).toBe('v1');
  });

  it('GIVEN a promote its command withdrew (it gave up waiting) WHEN the gate opens THEN the deploy does not act on it', async () => {
    const intents = setup({
      name: 'canary',
      steps: [10, 100],
      stepBake: minute,
      approval: { atWeight: 10, timeout: 30 * minute, onTimeout: 'abort' },
    });
    await v1Live();
    await intents.send('d-v2', {
      id: 'i-early',
      kind: 'promote',
      at: harness.clock.now() + 10 * minute,
      by: 'ops',
    });
    await intents.reply('d-v2', {
      id: 'i-early',
      done: false,
      message: 'withdrawn: its command gave up waiting',
    });
    await expect(deployV2()).rejects.toMatchObject({ code: 'APPROVAL_TIMED_OUT' });
  });

  it('GIVEN a gate nobody answers WHEN its timeout passes THEN traffic goes back to blue and the deploy fails', async () => {
    setup({
      name: 'canary',
      steps: [10, 100],
      stepBake: minute,
      approval: { atWeight: 10, timeout: 30 * minute, onTimeout: 'abort' },
    });
    await v1Live();
    await expect(deployV2()).rejects.toMatchObject({ code: 'APPROVAL_TIMED_OUT' });
    expect(shifts()).toEqual(['weights v2=10,v1=90', 'weights v1=100']);
    expect(harness.target.liveVersion()).toBe('v1');
    expect(moments()).toEqual([['approval-timeout', null]]);
  });

  it('GIVEN a gate with onTimeout: promote WHEN nobody answers THEN the deploy goes on', async () => {
    setup({
      name: 'canary',
      steps: [10, 100],
      stepBake: minute,
      approval: { atWeight: 10, timeout: 30 * minute, onTimeout: 'promote' },
    });
    await v1Live();
    await deployV2();
    expect(harness.codes()).toContain('approval.timed_out');
    expect(harness.target.liveVersion()).toBe('v2');
  });

  it('GIVEN a gate at 0% WHEN it is a first deploy THEN it still waits, with no traffic on green', async () => {
    const intents = setup({
      name: 'all-at-once',
      approval: { atWeight: 0, timeout: minute, onTimeout: 'abort' },
    });
    requests(intents, [[10 * 1000, 'promote']]);
    await deployV2();
    expect(harness.target.calls.filter((c) => c.startsWith('weights'))).toEqual(['weights v2=100']);
    expect(harness.events.find((e) => e.code === 'approval.waiting')?.fields).toMatchObject({ weight: 0 });
  });

  it('GIVEN a gate WHEN green turns unhealthy while it waits THEN traffic goes back to blue at once', async () => {
    setup({
      name: 'canary',
      steps: [10, 100],
      stepBake: minute,
      approval: { atWeight: 10, timeout: 60 * minute, onTimeout: 'promote' },
    });
    await v1Live();
    const start = harness.clock.now();
    harness.script((version, at) => (version === 'v2' && at - start > 10 * minute ? 'fail' : 'pass'));
    await expect(deployV2()).rejects.toMatchObject({ code: 'GREEN_UNHEALTHY' });
    expect(harness.clock.now() - start).toBeLessThan(15 * minute);
    expect(harness.target.liveVersion()).toBe('v1');
  });
});

describe('requests to a running deploy', () => {
  const canary: Strategy = { name: 'canary', steps: [10, 50, 100], stepBake: 5 * minute };

  it('GIVEN pause 1 minute into a step WHEN resume comes 30 minutes later THEN the step timer stopped meanwhile', async () => {
    const intents = setup(canary);
    await v1Live();
    const started = harness.clock.now();
    requests(intents, [
      [minute, 'pause'],
      [31 * minute, 'resume'],
    ]);
    await deployV2();
    // Two 5-minute steps, the 5-minute bake, and the 30 minutes paused.
    expect(harness.clock.now() - started).toBeGreaterThanOrEqual(45 * minute);
    expect(harness.clock.now() - started).toBeLessThan(47 * minute);
    expect(harness.codes()).toEqual(expect.arrayContaining(['shift.paused', 'shift.resumed']));
    expect(harness.target.liveVersion()).toBe('v2');
    // The journal keeps both moments, 30 minutes apart, and the report draws them.
    const timeline = timelineOf(harness.ctx.journal.entries('d-v2'));
    expect(timeline?.moments.map((m) => [m.kind, m.by])).toEqual([
      ['pause', 'ops'],
      ['resume', 'ops'],
    ]);
    const [paused, resumed] = timeline?.moments ?? [];
    expect((resumed?.at ?? 0) - (paused?.at ?? 0)).toBeGreaterThanOrEqual(30 * minute);
    expect((resumed?.at ?? 0) - (paused?.at ?? 0)).toBeLessThan(31 * minute);
    if (!timeline) throw new Error('no timeline');
    const html = reportHtml(timeline, { artifact: 'catalog', environment: 'test' });
    expect(html).toContain(`data-moment="pause" data-at="${paused?.at}" data-by="ops"`);
    expect(html).toContain('paused by ops');
    expect(html).toContain('resumed by ops');
  });

  it('GIVEN promote --full at 10% THEN the deploy skips 50% and goes to 100%, and still bakes', async () => {
    const intents = setup(canary);
    await v1Live();
    const started = harness.clock.now();
    requests(intents, [[minute, 'promote-full']]);
    await deployV2();
    expect(shifts()).toEqual(['weights v2=10,v1=90', 'weights v2=100']);
    expect(harness.clock.now() - started).toBeGreaterThanOrEqual(minute + harness.ctx.bake);
    expect(moments()).toEqual([['promote-full', 'ops']]);
  });

  it('GIVEN promote during the bake THEN the deploy declines it and bakes its full time', async () => {
    const intents = setup({ name: 'all-at-once' }, 10 * minute);
    await v1Live();
    const started = harness.clock.now();
    requests(intents, [[minute, 'promote']]);
    await deployV2();
    expect(harness.clock.now() - started).toBeGreaterThanOrEqual(10 * minute);
    expect((await intents.read('d-v2')).reply).toMatchObject({ done: false });
    expect(harness.codes()).toContain('intent.declined');
  });

  it('GIVEN resume when not paused, and pause twice THEN both are declined and the deploy goes on', async () => {
    const intents = setup(canary);
    await v1Live();
    requests(intents, [
      [minute, 'resume'],
      [2 * minute, 'pause'],
      [3 * minute, 'pause'],
      [4 * minute, 'resume'],
    ]);
    await deployV2();
    expect(harness.events.filter((e) => e.code === 'intent.declined').map((e) => e.fields.reason)).toEqual([
      'not paused',
      'already paused',
    ]);
    expect(harness.target.liveVersion()).toBe('v2');
    // Only what the deploy acted on is a moment: declined requests changed nothing.
    expect(moments()).toEqual([
      ['pause', 'ops'],
      ['resume', 'ops'],
    ]);
  });

  it('GIVEN abort mid-bake from another process THEN traffic goes back to blue and the deploy fails', async () => {
    const intents = setup(canary);
    await v1Live();
    requests(intents, [[12 * minute, 'abort']]);
    await expect(deployV2()).rejects.toMatchObject({ code: 'ABORTED' });
    expect(shifts().at(-1)).toBe('weights v1=100');
    expect(harness.target.liveVersion()).toBe('v1');
    expect((await intents.read('d-v2')).reply).toMatchObject({ done: true });
    expect(moments()).toEqual([['abort', 'ops']]);
    expect(timelineOf(harness.ctx.journal.entries('d-v2'))?.phases.map((p) => p.phase)).toEqual(
      expect.arrayContaining(['baking', 'rolling-back', 'failed']),
    );
  });
});
