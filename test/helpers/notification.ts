import type {
  MessageRef,
  MessageStore,
  Notification,
  NotificationKind,
  SendContext,
} from '../../src/notify/notification.js';

const phases: Record<NotificationKind, string> = {
  started: 'started',
  succeeded: 'succeeded',
  failed: 'failed',
  'rolled-back': 'rolled-back',
  'rollback-failed': 'failed',
  aborted: 'aborted',
  step: 'shifting',
  test: 'test',
};

/** A notification as the controller sends it for deployment `d-1` of `catalog` v2 over v1 on `prod`. */
export function notification(kind: NotificationKind, overrides: Partial<Notification> = {}): Notification {
  const failed = kind === 'failed' || kind === 'rollback-failed';
  const base: Notification = {
    schemaVersion: 1,
    id: `d-1:${kind === 'step' ? 'step:1' : kind === 'started' ? 'started' : 'end'}`,
    kind,
    code: `deploy.${kind}`,
    level: failed ? 'error' : 'info',
    time: '2026-11-26T11:32:02.000Z',
    message: failed
      ? 'health check failed on v2; traffic is back on v1'
      : kind === 'step'
        ? 'shifting 10% of traffic to v2'
        : `deployment ${kind}`,
    deployment: {
      id: 'd-1',
      kind: 'deploy',
      artifact: 'catalog',
      environment: 'prod',
      target: 'local',
      version: 'v2',
      previousVersion: 'v1',
      phase: phases[kind],
      weights: kind === 'step' ? { v2: 10, v1: 90 } : kind === 'succeeded' ? { v2: 100 } : { v1: 100 },
      startedAt: '2026-11-26T11:30:02.000Z',
      ...(kind === 'started' || kind === 'step' ? {} : { durationMs: 120_000 }),
      ...(failed ? { failure: { code: 'HEALTH_CHECK_FAILED', reason: 'GET /health answered 503' } } : {}),
      rollbackCommand: 'cutover rollback catalog --env prod',
    },
    actor: {
      name: 'alice',
      source: 'github',
      runUrl: 'https://github.com/acme/catalog/actions/runs/42',
      commit: '3f9a1c2d4e5f',
    },
  };
  return { ...base, ...overrides };
}

/** The rollback `d-2` that undid `d-1`: back from v2 to v1. */
export function rollbackNotification(kind: NotificationKind): Notification {
  const n = notification(kind);
  return {
    ...n,
    id: n.id.replace('d-1', 'd-2'),
    code: `rollback.${kind}`,
    deployment: {
      ...n.deployment,
      id: 'd-2',
      kind: 'rollback',
      version: 'v1',
      previousVersion: 'v2',
      undid: 'd-1',
    },
  };
}

/** A MessageStore in memory; two notifiers sharing one stand for two processes sharing a deployment's store. */
export function memoryMessages(): MessageStore & { saved: Map<string, MessageRef> } {
  const saved = new Map<string, MessageRef>();
  return {
    saved,
    message: async (deployment, notifier) => saved.get(`${deployment} ${notifier}`),
    saveMessage: async (deployment, notifier, ref) => {
      saved.set(`${deployment} ${notifier}`, ref);
    },
  };
}

export function sendContext(messages: MessageStore = memoryMessages(), budgetMs = 2000): SendContext {
  return { deadline: Date.now() + budgetMs, signal: new AbortController().signal, messages };
}
