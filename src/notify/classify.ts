import type { CutoverEvent } from '../events.js';
import type { NotificationKind } from './notification.js';

/** What an event tells people, if anything: its kind, the deployment it is about, and its stable id. */
export interface Classified {
  kind: NotificationKind;
  /** The deployment the notification is about (an abort's or a recovery's is the one it undid). */
  deployment: string;
  /** Stable across processes for one fact, so a second process does not tell it again. */
  id: string;
}

/**
 * A deployment has one start and one end: `<deployment>:started` and `<deployment>:end`, whichever
 * process sees it (the deploy itself, `cutover abort`, a recovery). Steps happen in one process only.
 */
export function classify(event: CutoverEvent, step: number, own: string | undefined): Classified | undefined {
  const f = event.fields;
  const end = (kind: NotificationKind, deployment = own) =>
    deployment ? { kind, deployment, id: `${deployment}:end` } : undefined;
  switch (event.code) {
    case 'deploy.started':
    case 'rollback.started':
      return own ? { kind: 'started', deployment: own, id: `${own}:started` } : undefined;
    case 'deploy.succeeded':
      return end('succeeded');
    case 'deploy.failed':
      return end(f.error === 'ABORTED' ? 'aborted' : 'failed');
    case 'rollback.succeeded':
      return end('rolled-back');
    case 'rollback.failed':
      return end('rollback-failed');
    case 'abort.finished':
      // A deploy that went live before the abort reached it told its own end.
      return f.outcome === 'succeeded' ? undefined : end('aborted');
    case 'recovery.finished':
      // An interrupted deploy that recovery undid failed; one it finished went live. Nothing else moved.
      if (f.outcome === 'undone') return end('failed', String(f.interrupted));
      if (f.outcome === 'finished') return end('succeeded', String(f.interrupted));
      return undefined;
    case 'command.failed':
      // The failures the controller already told (deploy.failed) share this id and are not sent twice;
      // bad input and a held lock changed nothing and end no deployment.
      return f.exitCode === 1 ? end('failed') : undefined;
    case 'notify.failed':
    case 'notify.waiting':
    case 'status.not_serving':
    case 'environment.down':
    case 'lock.removed':
      return undefined;
    default:
      return own
        ? { kind: 'step', deployment: own, id: `${own}:${event.code}:${event.time}-${step}` }
        : undefined;
  }
}
