import type { Result } from '../api/results.js';
import { exitCodeOf } from '../api/results.js';
import type { StatusDocument } from '../controller/status.js';
import type { ServiceOptions } from '../controller/runtime.js';

/**
 * The one JSON document every command prints on stdout with `--json` (docs/json.md). Pipelines read
 * it, so a field is never renamed or given another meaning without raising `schemaVersion`.
 */
export const schemaVersion = 1;

/** A command that is not the library's (down, unlock, notify-test) and ended without an error. */
export interface Done {
  type: 'done';
  exitCode: number;
}

export interface JsonDocument {
  schemaVersion: typeof schemaVersion;
  command: string;
  /** The result's type: `deployed`, `awaiting-approval`, `rolled-back`, `failed`, `rejected`, `locked`, … */
  result: string;
  exitCode: number;
  artifact: string | null;
  environment: string | null;
  deployment: string | null;
  /** The version the command deployed, rolled back to, planned or acted on. */
  version: string | null;
  /** What takes the traffic once the command is done, read back from the target. */
  liveVersion: string | null;
  /** Traffic by version once the command is done (percent). */
  weights: Record<string, number>;
  durationMs: number;
  error: {
    code: string;
    phase: string | null;
    reason: string;
    hint: string | null;
    trafficOn: string | null;
  } | null;
  /** What to do next, as a command line or a sentence. */
  next: string | null;
  /** The command's own result, whole (less `status` and `text`, which have their own places). */
  detail: Record<string, unknown>;
  /** The environment after the command, as `status --json` shows it. */
  status: StatusDocument | null;
}

export function documentOf(
  command: string,
  result: Result | Done,
  started: number,
  status: StatusDocument | null,
  service?: ServiceOptions,
): JsonDocument {
  const detail: Record<string, unknown> = { ...result };
  delete detail.text;
  delete detail.status;
  const weights: Record<string, number> = {};
  for (const fleet of status?.fleets ?? []) {
    if (fleet.weight > 0) weights[fleet.version] = (weights[fleet.version] ?? 0) + fleet.weight;
  }
  const failure =
    result.type === 'failed' || result.type === 'rejected' || result.type === 'locked' ? result : undefined;
  return {
    schemaVersion,
    command,
    result: result.type,
    exitCode: result.type === 'done' ? result.exitCode : exitCodeOf(result),
    artifact: service?.artifact || status?.artifact || null,
    environment: service?.environment || status?.environment || null,
    deployment: deploymentOf(result, status),
    version: versionOf(result, status),
    liveVersion: status?.live?.version ?? null,
    weights,
    durationMs: Date.now() - started,
    error: failure
      ? {
          code: failure.code,
          phase: failure.type === 'failed' ? failure.phase : null,
          reason: failure.reason,
          hint: failure.hint,
          trafficOn: failure.type === 'failed' ? failure.trafficOn : null,
        }
      : null,
    next: nextOf(result, service),
    detail,
    status,
  };
}

function deploymentOf(result: Result | Done, status: StatusDocument | null): string | null {
  if ('deployment' in result && typeof result.deployment === 'string') return result.deployment;
  if (result.type === 'history') return null;
  return status?.deploying?.deployment ?? status?.awaitingApproval?.deployment ?? null;
}

function versionOf(result: Result | Done, status: StatusDocument | null): string | null {
  switch (result.type) {
    case 'deployed':
    case 'awaiting-approval':
    case 'planned':
      return result.version;
    case 'rolled-back':
      return result.to || null;
    case 'failed':
      return result.version ?? status?.deploying?.version ?? null;
    case 'report':
      return result.version;
    case 'history':
      return null;
    default:
      return status?.deploying?.version ?? status?.awaitingApproval?.version ?? null;
  }
}

/** The next command a pipeline or a person runs after this result. */
function nextOf(result: Result | Done, service: ServiceOptions | undefined): string | null {
  const where = service ? ` artifact=${service.artifact} environment=${service.environment}` : '';
  switch (result.type) {
    case 'deployed':
      return result.previous ? `to go back to ${result.previous}: cutover rollback${where}` : null;
    case 'awaiting-approval':
      return `to go on: cutover promote${where}; to undo: cutover abort${where} (before ${result.until})`;
    case 'rolled-back':
      return `to go forward again: cutover rollback${where}`;
    case 'failed':
    case 'rejected':
    case 'locked':
      return result.hint;
    default:
      return null;
  }
}
