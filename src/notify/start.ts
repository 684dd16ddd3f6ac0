import { resolve } from 'node:path';
import { defaults } from '../config/defaults.js';
import type { LoadedConfig } from '../config/load.js';
import { formatDuration } from '../duration.js';
import type { Service } from '../config/select.js';
import type { Events } from '../events.js';
import { Journal } from '../state/journal.js';
import { actorFrom } from './actor.js';
import { notifiersFor } from './from-config.js';
import { GitHubDeploymentsNotifier } from './github-deployments.js';
import { environmentUrlFor, githubSetupFrom } from './github-env.js';
import { NotificationHub, type NotifierEntry } from './hub.js';
import { FileRecord } from './record.js';
import { SharedRecord } from './shared-record.js';
import type { DeploymentNotes } from '../providers/types.js';

export interface NotifyingCommand {
  events: Events;
  /** Run before the CLI exits, after the command's result: the flush, bounded by notifyFlushTimeout. */
  beforeExit: (work: () => Promise<void>) => void;
}

/**
 * Subscribes the environment's notifiers to a command's events (deploy, rollback, abort). A notifier
 * that cannot send is a warning at the end, never an exit code.
 */
export function startNotifying(
  io: NotifyingCommand,
  loaded: LoadedConfig,
  service: Service,
  stateDir: string,
  deployment?: string,
  /** Where the target keeps notes every runner sees (aws tags), besides this runner's record. */
  notes?: DeploymentNotes,
): NotificationHub | undefined {
  const entries = [...notifiersFor(service.env.notify), ...githubFromEnv(io, service)];
  if (entries.length === 0) return undefined;
  const journal = new Journal(stateDir, service.environment, service.artifact);
  const local = new FileRecord(stateDir, service.environment, service.artifact);
  const hub = new NotificationHub(entries, {
    record: notes ? new SharedRecord(local, notes) : local,
    actor: actorFrom(process.env),
    lookup: (id) => {
      const found = journal.deployments().find((d) => d.deployment === id);
      if (!found) return undefined;
      return {
        kind: found.kind,
        phase: found.phase,
        startedAt: new Date(found.startedAt).toISOString(),
        ...(found.version ? { version: found.version } : {}),
      };
    },
    rollbackCommand: rollbackCommandFor(loaded, service, stateDir),
    deployment,
    flushTimeoutMs: loaded.config.notifyFlushTimeout,
    flushing: (pending) =>
      io.events.info(
        'notify.waiting',
        `sending ${pending} notification${pending === 1 ? '' : 's'} still waiting (at most ${formatDuration(loaded.config.notifyFlushTimeout)}; Ctrl-C twice to stop waiting)`,
        { pending, budgetMs: loaded.config.notifyFlushTimeout },
      ),
    failed: ({ notifier, notification, reason }) =>
      io.events.warn(
        'notify.failed',
        `could not notify ${notifier}${notification ? ` of ${notification.kind} (${notification.deployment.id})` : ''}: ${reason}`,
        { notifier, notification: notification?.id ?? '', reason },
      ),
  });
  io.events.subscribe(hub.listener);
  io.beforeExit(() => hub.flush());
  return hub;
}

/**
 * GitHub Deployments, when the process has a token and a repository (a GitHub Actions job that passes
 * `github.token`); no config key. One asked for but unusable is a warning, like any notifier that
 * cannot send, and the command goes on.
 */
function githubFromEnv(io: NotifyingCommand, service: Service): NotifierEntry[] {
  const setup = githubSetupFrom(process.env);
  if (setup === undefined) return [];
  if (!setup.on) {
    const notifier = 'github deployments';
    io.events.warn('notify.failed', `could not notify ${notifier}: ${setup.reason}`, {
      notifier,
      notification: '',
      reason: setup.reason,
    });
    return [];
  }
  const environmentUrl = environmentUrlFor(service.env, process.env);
  // Every kind: steps too, for a deploy detached at its approval gate (queued) and promoted later.
  return [{ kinds: 'all', notifier: new GitHubDeploymentsNotifier({ ...setup.settings, environmentUrl }) }];
}

/** The exact command to paste: with `--config` and `--state-dir` when this run needed them. */
function rollbackCommandFor(loaded: LoadedConfig, service: Service, stateDir: string): string {
  const words = ['cutover', 'rollback', `artifact=${service.artifact}`, `environment=${service.environment}`];
  if (loaded.file !== resolve(defaults.configFile)) words.push('--config', shellQuoted(loaded.file));
  if (stateDir !== resolve(loaded.baseDir, loaded.config.stateDir))
    words.push('--state-dir', shellQuoted(stateDir));
  return words.join(' ');
}

function shellQuoted(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
