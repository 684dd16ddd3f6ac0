import type { CutoverEvent } from '../events.js';
import type { DeploymentSummary } from './notification.js';

/** What the journal knows of a deployment this process did not run (an abort's, a recovery's). */
export type KnownDeployment = Partial<Pick<DeploymentSummary, 'kind' | 'version' | 'startedAt' | 'phase'>>;

const phaseOf: Partial<Record<CutoverEvent['code'], string>> = {
  'deploy.started': 'started',
  'rollback.started': 'shifting',
  'green.launching': 'launching',
  'green.launched': 'launched',
  'health.waiting': 'checking',
  'health.passed': 'checked',
  'traffic.shifting': 'shifting',
  'traffic.shifted': 'shifted',
  'shift.watching': 'watching',
  'approval.waiting': 'awaiting-approval',
  'shift.paused': 'paused',
  'shift.resumed': 'watching',
  'bake.started': 'baking',
  'bake.passed': 'baked',
  'traffic.restoring': 'rolling-back',
  'traffic.restored': 'rolled-back',
  'deploy.succeeded': 'succeeded',
  'deploy.failed': 'failed',
  'rollback.succeeded': 'succeeded',
  'rollback.failed': 'failed',
  'abort.finished': 'aborted',
  'command.failed': 'failed',
};

/**
 * Folds a deployment's events into what a notification says about it: phase, versions, weights, result.
 * The rollback command to paste is offered once there is a standby to go back to.
 */
export class Summaries {
  private readonly byId = new Map<string, DeploymentSummary>();

  constructor(
    private readonly lookup: (deployment: string) => KnownDeployment | undefined,
    private readonly rollbackCommand: string,
  ) {}

  update(event: CutoverEvent, deployment: string): DeploymentSummary {
    const f = event.fields;
    const text = (key: string) => (typeof f[key] === 'string' ? (f[key] as string) : undefined);
    const known = this.byId.get(deployment) ?? this.fresh(event, deployment);
    // The way back moves traffic too, but the deployment is rolling back, not shifting forward.
    const phase = phaseOf[event.code];
    const goingBack = known.phase === 'rolling-back' && (phase === 'shifting' || phase === 'shifted');
    const next: DeploymentSummary = { ...known, phase: phase && !goingBack ? phase : known.phase };
    // Fixed fields name the running command's deployment; an abort's or recovery's target differs.
    if (text('deployment') === deployment && text('version')) next.version = text('version');
    switch (event.code) {
      case 'deploy.started':
        next.kind = 'deploy';
        if (text('blue')) next.previousVersion = text('blue');
        break;
      case 'rollback.started':
        next.kind = 'rollback';
        if (text('from')) next.previousVersion = text('from');
        if (text('undid')) next.undid = text('undid');
        break;
      case 'traffic.shifted':
        next.weights = { ...(f.versions as Record<string, number>) };
        break;
      case 'deploy.failed':
      case 'rollback.failed':
      case 'command.failed':
        next.failure = { code: text('error') ?? 'FAILED', reason: text('reason') ?? event.message };
        break;
      case 'deploy.succeeded':
      case 'rollback.succeeded':
        if (typeof f.ms === 'number') next.durationMs = f.ms;
        if (next.previousVersion || next.kind === 'rollback') next.rollbackCommand = this.rollbackCommand;
        break;
    }
    if (next.durationMs === undefined && /succeeded|failed|aborted|rolled-back/.test(next.phase)) {
      next.durationMs = Math.max(0, event.time - Date.parse(next.startedAt));
    }
    this.byId.set(deployment, next);
    return next;
  }

  private fresh(event: CutoverEvent, deployment: string): DeploymentSummary {
    const known = this.lookup(deployment) ?? {};
    const f = event.fields;
    return {
      id: deployment,
      kind: known.kind ?? (event.code.startsWith('rollback.') ? 'rollback' : 'deploy'),
      artifact: String(f.artifact ?? ''),
      environment: String(f.environment ?? ''),
      target: String(f.target ?? ''),
      ...(known.version ? { version: known.version } : {}),
      phase: known.phase ?? 'started',
      startedAt: known.startedAt ?? new Date(event.time).toISOString(),
    };
  }
}
