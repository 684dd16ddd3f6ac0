import {
  appendFileSync,
  closeSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Strategy } from '../../strategies/types.js';

/**
 * Every transition of a deployment is written here before it is acted on, so a controller that was
 * killed can be re-run and finish or undo. One append-only JSON-lines file per artifact and environment.
 */

export type Phase =
  | 'started'
  | 'launching'
  | 'checking'
  | 'shifting'
  /** Detached at the pre-traffic gate (`deploy --detach`): left alone until promoted, aborted or expired. */
  | 'awaiting-approval'
  | 'baking'
  | 'live'
  | 'rolling-back'
  | 'succeeded'
  | 'failed';

/** What can happen to a running deploy from outside it: drawn as moments on its report. */
export type MomentKind = 'promote' | 'promote-full' | 'pause' | 'resume' | 'abort' | 'approval-timeout';

export const terminalPhases: ReadonlySet<Phase> = new Set(['succeeded', 'failed']);

export interface JournalEntry {
  deployment: string;
  kind: 'deploy' | 'rollback';
  phase: Phase;
  at: number;
  version?: string;
  blue?: string;
  /** The deployment that launched blue: a fleet's name alone may be reused (aws generations). */
  blueDeployment?: string;
  /** The version blue ran, for the report's legend. */
  blueVersion?: string;
  green?: string;
  weights?: Record<string, number>;
  /** The index, in the strategy's steps, of the step the deployment is at. */
  step?: number;
  /** A detached deploy's gate closes then (epoch ms). */
  gateUntil?: number;
  /** The strategy a detached deploy goes on with when promoted. */
  strategy?: Strategy;
  reason?: string;
  /** The phase a failed deployment was in when it failed (its record then says `failed`). */
  failedIn?: Phase;
  /** Who started it (CUTOVER_ACTOR, the CI's actor, or the local user), for `cutover history`. */
  by?: string;
  /** The strategy's name a deploy started with, for `cutover history`. */
  strategyName?: string;
  /** Something a person (or the gate's timer) did to a running deploy, for the report. */
  moment?: { kind: MomentKind; by?: string | undefined };
  /** The latest reading of each shift check, for `status --watch` and the report. */
  checks?: Record<
    string,
    {
      outcome: string;
      detail: string;
      at: number;
      value?: number | undefined;
      threshold?: number | undefined;
      counted?: { requests: number; failed: number } | undefined;
    }
  >;
}

/** A deployment as the journal knows it: its entries folded, newest fields winning. */
export type DeploymentRecord = JournalEntry & { startedAt: number };

export class Journal {
  private readonly dir: string;
  private readonly file: string;

  /** Creates nothing until the first record: reading or validating must leave no trace. */
  constructor(stateDir: string, environment: string, artifact: string) {
    this.dir = join(stateDir, 'journal');
    this.file = join(this.dir, `${environment}--${artifact}.jsonl`);
  }

  record(entry: JournalEntry): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const fd = openSync(this.file, 'a+', 0o600);
    try {
      // A crash mid-write can leave a last line with no newline; appended to it, this record would be
      // torn too and skipped when read.
      const separator = endsWithNewline(fd) ? '' : '\n';
      appendFileSync(fd, `${separator}${JSON.stringify(entry)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Every record, oldest first: one deployment's transitions over time, for its report. */
  entries(deployment?: string): JournalEntry[] {
    let text = '';
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    const entries: JournalEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as unknown;
        // A line edited by hand into something else is skipped like a torn one: it must not hide the rest.
        if (!isEntry(entry)) continue;
        if (deployment === undefined || entry.deployment === deployment) entries.push(entry);
      } catch {
        // A line torn by a crash mid-write carries nothing we acted on.
      }
    }
    return entries;
  }

  /** Deployments, oldest first. */
  deployments(): DeploymentRecord[] {
    const byId = new Map<string, DeploymentRecord>();
    for (const entry of this.entries()) {
      const previous = byId.get(entry.deployment);
      byId.set(entry.deployment, { ...previous, ...entry, startedAt: previous?.startedAt ?? entry.at });
    }
    return [...byId.values()];
  }

  latest(): DeploymentRecord | undefined {
    return this.deployments().at(-1);
  }
}

function isEntry(value: unknown): value is JournalEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Partial<JournalEntry>;
  return (
    typeof entry.deployment === 'string' &&
    (entry.kind === 'deploy' || entry.kind === 'rollback') &&
    typeof entry.phase === 'string' &&
    typeof entry.at === 'number' &&
    Number.isFinite(entry.at) &&
    Math.abs(entry.at) < 8.64e15
  );
}

/** Whether the file is empty or its last byte is a newline. */
function endsWithNewline(fd: number): boolean {
  const { size } = fstatSync(fd);
  if (size === 0) return true;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] === 0x0a;
}
