import { describe, expect, it } from 'vitest';
import { Events } from '../../src/events.js';
import { NotificationHub, type HubOptions, type NotifierEntry } from '../../src/notify/hub.js';
import type { Notification, Notifier, SendContext } from '../../src/notify/notification.js';
import { defaultKinds } from '../../src/notify/notification.js';
import { MemoryRecord } from '../../src/notify/record.js';
import type { Unsent } from '../../src/notify/queue.js';

/** A notifier that records what it was given, and can be told to fail or to hang. */
class Recording implements Notifier {
  readonly got: Notification[] = [];
  behaviour: 'ok' | 'throw' | 'hang' = 'ok';
  constructor(readonly name: string) {}
  async send(n: Notification, context: SendContext): Promise<void> {
    // As postJson does: no attempt once the deadline has passed.
    if (Date.now() >= context.deadline) throw new Error('no time left');
    if (this.behaviour === 'throw') throw new Error('slack said no');
    if (this.behaviour === 'hang') {
      await new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve()));
      throw new Error('aborted');
    }
    this.got.push(n);
  }
}

function setup(entries: NotifierEntry[], record = new MemoryRecord(), flushTimeoutMs = 200) {
  const failures: Unsent[] = [];
  const hub = new NotificationHub(entries, {
    record,
    actor: { name: 'ana', source: 'CUTOVER_ACTOR' },
    lookup: (id) => (id === 'd-old' ? { kind: 'deploy', version: 'v0', phase: 'checking' } : undefined),
    rollbackCommand: 'cutover rollback artifact=catalog environment=prod',
    deployment: 'd-1',
    flushTimeoutMs,
    failed: (u) => failures.push(u),
  });
  const root = new Events([hub.listener]);
  const events = root.child({ artifact: 'catalog', environment: 'prod', target: 'local' });
  return { hub, root, events, failures };
}

/** A notifier that holds every send until `release()`, recording what it then sends. */
function gated() {
  const got: Notification[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const notifier: Notifier = {
    name: 'gated',
    send: async (n) => {
      await gate;
      got.push(n);
    },
  };
  return { notifier, got, release: () => release() };
}

/** A hub with one notifier taking every event, reporting failures into `failures`. */
function hubFor(notifier: Notifier, failures: Unsent[], extra: Partial<HubOptions> = {}) {
  return new NotificationHub([{ notifier, kinds: 'all' }], {
    record: new MemoryRecord(),
    actor: { name: 'ana', source: 'local' },
    lookup: () => undefined,
    rollbackCommand: 'cutover rollback',
    flushTimeoutMs: 1000,
    failed: (u) => failures.push(u),
    ...extra,
  });
}

const defaults = new Set(defaultKinds);

function deployAndSucceed(events: Events): void {
  const run = events.child({ deployment: 'd-1', version: 'v2' });
  run.info('deploy.started', 'deploying v2', { blue: 'v1' });
  run.info('green.launching', 'starting');
  run.info('traffic.shifted', 'traffic goes to v2 100%', {
    weights: { 'd-1': 100 },
    versions: { v2: 100 },
    ms: 3,
  });
  run.info('deploy.succeeded', 'v2 is live', { ms: 1234 });
}

describe('notification hub', () => {
  it('GIVEN default events WHEN a deploy succeeds THEN started and succeeded are sent, with versions, weights and the rollback command, and no step', async () => {
    const slack = new Recording('slack');
    const { hub, events } = setup([{ notifier: slack, kinds: defaults }]);
    deployAndSucceed(events);
    await hub.flush();
    expect(slack.got.map((n) => [n.kind, n.id])).toEqual([
      ['started', 'd-1:started'],
      ['succeeded', 'd-1:end'],
    ]);
    expect(slack.got[1]?.deployment).toMatchObject({
      id: 'd-1',
      artifact: 'catalog',
      environment: 'prod',
      version: 'v2',
      previousVersion: 'v1',
      weights: { v2: 100 },
      durationMs: 1234,
      phase: 'succeeded',
      rollbackCommand: 'cutover rollback artifact=catalog environment=prod',
    });
    expect(slack.got[0]?.deployment.rollbackCommand).toBeUndefined();
    expect(slack.got[1]).toMatchObject({
      schemaVersion: 1,
      code: 'deploy.succeeded',
      actor: { name: 'ana' },
    });
  });

  it('GIVEN events: all WHEN a deploy runs THEN every step is sent too, in order', async () => {
    const all = new Recording('all');
    const { hub, events } = setup([{ notifier: all, kinds: 'all' }]);
    deployAndSucceed(events);
    await hub.flush();
    expect(all.got.map((n) => n.code)).toEqual([
      'deploy.started',
      'green.launching',
      'traffic.shifted',
      'deploy.succeeded',
    ]);
    expect(new Set(all.got.map((n) => n.id)).size).toBe(4);
  });

  it('GIVEN a deploy that failed WHEN the command then fails with the same error THEN one failed notification is sent', async () => {
    const slack = new Recording('slack');
    const { hub, root, events } = setup([{ notifier: slack, kinds: defaults }]);
    const run = events.child({ deployment: 'd-1', version: 'v2' });
    run.info('deploy.started', 'deploying v2', { blue: 'v1' });
    run.error('deploy.failed', 'deploy of v2 failed', {
      error: 'GREEN_UNHEALTHY',
      reason: 'health check failed',
    });
    root.error('command.failed', 'version v2 failed its health check', {
      error: 'GREEN_UNHEALTHY',
      exitCode: 1,
    });
    await hub.flush();
    expect(slack.got.map((n) => n.kind)).toEqual(['started', 'failed']);
    expect(slack.got[1]?.deployment.failure).toEqual({
      code: 'GREEN_UNHEALTHY',
      reason: 'health check failed',
    });
  });

  it('GIVEN a failure before any deploy event WHEN the command fails THEN the command deployment is told failed; bad input and a held lock are not told', async () => {
    const slack = new Recording('slack');
    const { hub, root } = setup([{ notifier: slack, kinds: defaults }]);
    root.error('command.failed', 'the config is invalid', { error: 'CONFIG_INVALID', exitCode: 2 });
    root.error('command.failed', 'locked', { error: 'LOCK_HELD', exitCode: 3 });
    root.error('command.failed', 'the agent did not answer', { error: 'AGENT_UNREACHABLE', exitCode: 1 });
    await hub.flush();
    expect(slack.got.map((n) => [n.kind, n.id, n.deployment.failure?.code])).toEqual([
      ['failed', 'd-1:end', 'AGENT_UNREACHABLE'],
    ]);
  });

  it('GIVEN a deploy stopped by SIGTERM WHEN it fails with ABORTED THEN it is told aborted; an abort from another process of the same deployment is not told again', async () => {
    const record = new MemoryRecord();
    const first = new Recording('slack');
    const one = setup([{ notifier: first, kinds: defaults }], record);
    const run = one.events.child({ deployment: 'd-1', version: 'v2' });
    run.info('deploy.started', 'deploying v2', { blue: 'v1' });
    run.error('deploy.failed', 'aborted', { error: 'ABORTED', reason: 'aborted by SIGTERM' });
    await one.hub.flush();
    expect(first.got.map((n) => n.kind)).toEqual(['started', 'aborted']);

    // `cutover abort`, a second process sharing the record: its abort.finished is the same end.
    const second = new Recording('slack');
    const two = setup([{ notifier: second, kinds: defaults }], record);
    two.events
      .child({ deployment: 'd-abort' })
      .info('abort.finished', 'd-1 has stopped', { deployment: 'd-1' });
    await two.hub.flush();
    expect(second.got).toEqual([]);
  });

  it('GIVEN a deploy killed before it ended WHEN a later abort undoes it THEN aborted is told once, about that deployment, with what the journal knows', async () => {
    const slack = new Recording('slack');
    const { hub, events } = setup([{ notifier: slack, kinds: defaults }]);
    events.child({ deployment: 'd-abort' }).info('abort.finished', 'undid d-old', { deployment: 'd-old' });
    await hub.flush();
    expect(slack.got.map((n) => [n.kind, n.id])).toEqual([['aborted', 'd-old:end']]);
    expect(slack.got[0]?.deployment).toMatchObject({ id: 'd-old', version: 'v0', phase: 'aborted' });
  });

  it('GIVEN a deploy that went live just before an abort reached it WHEN the abort finishes THEN it tells nothing (the deploy told its own end)', async () => {
    const slack = new Recording('slack');
    const { hub, events } = setup([{ notifier: slack, kinds: defaults }]);
    events
      .child({ deployment: 'd-abort' })
      .info('abort.finished', 'd-old had gone live', { deployment: 'd-old', outcome: 'succeeded' });
    await hub.flush();
    expect(slack.got).toEqual([]);
  });

  it('GIVEN a deploy that first recovers an interrupted one WHEN it runs THEN the recovery is told about the interrupted deployment, not the new one', async () => {
    const all = new Recording('all');
    const { hub, events } = setup([{ notifier: all, kinds: 'all' }]);
    const run = events.child({ deployment: 'd-new', version: 'v3' });
    run.warn('recovery.started', 'deploy d-old was interrupted during baking; finishing it', {
      interrupted: 'd-old',
    });
    run.warn('traffic.restoring', 'rolling back: traffic returns to v1', { reason: 'controller stopped' });
    run.info('recovery.finished', 'd-old rolled back', { interrupted: 'd-old', outcome: 'undone' });
    run.info('deploy.started', 'deploying v3', { blue: 'v1' });
    await hub.flush();
    expect(all.got.map((n) => [n.deployment.id, n.kind, n.deployment.version])).toEqual([
      ['d-old', 'step', 'v0'],
      ['d-old', 'step', 'v0'],
      ['d-old', 'failed', 'v0'],
      ['d-new', 'started', 'v3'],
    ]);
  });

  it('GIVEN a rollback command WHEN it runs THEN it is a deployment of its own that names the one it undid', async () => {
    const slack = new Recording('slack');
    const { hub, events } = setup([{ notifier: slack, kinds: defaults }]);
    const run = events.child({ deployment: 'r-1' });
    run.info('rollback.started', 'rolling back from v2 to v1', { from: 'v2', undid: 'd-1' });
    run.info('rollback.succeeded', 'v1 takes all traffic again', { ms: 900, undid: 'd-1' });
    await hub.flush();
    expect(slack.got.map((n) => [n.kind, n.id])).toEqual([
      ['started', 'r-1:started'],
      ['rolled-back', 'r-1:end'],
    ]);
    expect(slack.got[1]?.deployment).toMatchObject({ kind: 'rollback', undid: 'd-1', previousVersion: 'v2' });
  });

  it('GIVEN one notifier that throws and one that hangs WHEN the command flushes THEN the other still gets everything, the flush ends within its budget, and both are reported', async () => {
    const broken = new Recording('broken');
    broken.behaviour = 'throw';
    const stuck = new Recording('stuck');
    stuck.behaviour = 'hang';
    const fine = new Recording('fine');
    const { hub, events, failures } = setup(
      [
        { notifier: broken, kinds: defaults },
        { notifier: stuck, kinds: defaults },
        { notifier: fine, kinds: defaults },
      ],
      new MemoryRecord(),
      300,
    );
    deployAndSucceed(events);
    const started = Date.now();
    await hub.flush();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(fine.got.map((n) => n.kind)).toEqual(['started', 'succeeded']);
    expect(failures.map((f) => f.notifier).sort()).toEqual(['broken', 'broken', 'stuck', 'stuck']);
    expect(failures.find((f) => f.notifier === 'broken')?.reason).toBe('slack said no');
  });

  it('GIVEN a receiver that fell behind on steps WHEN the deployment ends THEN its outcome goes next and the waiting steps are dropped, and said so', async () => {
    let now = 0;
    const { notifier, got, release } = gated();
    const failures: Unsent[] = [];
    const hub = hubFor(notifier, failures, { now: () => now });
    const run = new Events([hub.listener], {}, () => now).child({ deployment: 'd-1', version: 'v2' });
    run.info('deploy.started', 'deploying v2');
    for (let i = 0; i < 5; i += 1) run.info('green.launching', `waiting ${i}`);
    now = 5000;
    run.info('deploy.succeeded', 'v2 is live', { ms: 5000 });
    release();
    await hub.flush();
    expect(got.map((n) => n.kind)).toEqual(['started', 'succeeded']);
    expect(failures.map((f) => f.reason)).toEqual([
      '5 step notifications were not sent: the receiver fell behind (more than 100 waited, or the deployment had ended)',
    ]);
  });

  it('GIVEN notifyFlushTimeout 0 WHEN a command runs THEN its notifications are still sent while it runs', async () => {
    const slack = new Recording('slack');
    const { hub, events } = setup([{ notifier: slack, kinds: defaults }], new MemoryRecord(), 0);
    deployAndSucceed(events);
    await new Promise((r) => setTimeout(r, 50));
    await hub.flush();
    expect(slack.got.map((n) => n.kind)).toEqual(['started', 'succeeded']);
  });

  it('GIVEN a full queue of steps WHEN more come THEN the oldest steps are dropped, never the start or the end, and the drop is reported', async () => {
    const { notifier, got, release } = gated();
    const failures: Unsent[] = [];
    const hub = hubFor(notifier, failures, { queueLimit: 3 });
    const run = new Events([hub.listener]).child({ deployment: 'd-1', version: 'v2' });
    run.info('deploy.started', 'deploying v2');
    for (let i = 0; i < 10; i += 1) run.info('green.launching', `waiting ${i}`);
    run.info('deploy.succeeded', 'v2 is live', { ms: 1 });
    release();
    await hub.flush();
    const kinds = got.map((n) => n.kind);
    expect(kinds[0]).toBe('started');
    expect(kinds.at(-1)).toBe('succeeded');
    expect(kinds.length).toBeLessThanOrEqual(4);
    expect(failures.some((f) => /not sent: the receiver fell behind/.test(f.reason))).toBe(true);
  });
});
