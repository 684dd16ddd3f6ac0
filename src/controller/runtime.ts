import { resolve } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import type { ControllerContext } from './context.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { selectService, type Service } from '../config/select.js';
import type { Events } from '../events.js';
import { httpProbe } from '../../healthchecks/http.js';
import { createTarget } from '../providers/registry.js';
import { Journal } from '../state/journal.js';
import { FileIntents } from '../state/intent-file.js';
import { notesIntents } from './intents.js';
import { UserInputError } from '../errors.js';
import { actorFrom } from '../notify/actor.js';
import { strategyNamed, strategyNameHelp } from '../../strategies/names.js';
import { planSteps } from '../../strategies/index.js';
import type { Strategy } from '../../strategies/types.js';

/** Where a command finds its config and state: what `--config` and `--state-dir` say on the CLI. */
export interface ConfigOptions {
  /** The config file (default `cutover.config.yaml` in the current folder). */
  config?: string | undefined;
  /** Where locks, the journal and the local agent live (default: the config's `stateDir`). */
  stateDir?: string | undefined;
  /** The variables `${…}` in the config reads (default `process.env`). */
  env?: Record<string, string | undefined> | undefined;
}

/** One artifact in one environment, as every command that acts on it names it. */
export interface ServiceOptions extends ConfigOptions {
  artifact: string;
  environment: string;
  /** `strategy=NAME`: instead of the environment's (its approval gate is kept). */
  strategy?: string | undefined;
  /** Keep a failed green fleet running to debug it. */
  keepFailed?: boolean | undefined;
}

/** What every command that acts on one artifact and environment sets up the same way. */
export interface ServiceRuntime {
  loaded: LoadedConfig;
  service: Service;
  stateDir: string;
  journal: Journal;
  ctx: ControllerContext;
  /** The lock this process takes says whether SIGTERM stops it (the CLI) or only a request does. */
  stopsOnSignal: boolean;
}

/**
 * The library's callers are not all held to its types (JavaScript): every word that names something
 * must be a string, or the call is rejected before anything is read.
 */
export function checkServiceOptions(options: ServiceOptions, more: string[] = []): void {
  if (typeof options !== 'object' || options === null) {
    throw new UserInputError('OPTION_INVALID', 'the options must be an object: { artifact, environment, … }');
  }
  const record = options as unknown as Record<string, unknown>;
  for (const key of ['artifact', 'environment', ...more]) {
    if (typeof record[key] !== 'string') {
      throw new UserInputError(
        'OPTION_INVALID',
        `\`${key}\` must be a string${record[key] === undefined ? ', and is missing' : `, not ${typeof record[key]}`}`,
      );
    }
  }
  for (const key of ['config', 'stateDir', 'strategy']) {
    if (record[key] !== undefined && typeof record[key] !== 'string') {
      throw new UserInputError('OPTION_INVALID', `\`${key}\` must be a string when given`);
    }
  }
}

export function loadFromOptions(options: ConfigOptions, environment?: string): LoadedConfig {
  return loadConfig(options.config, options.env ?? process.env, environment);
}

export function stateDirOf(options: ConfigOptions, loaded: LoadedConfig): string {
  return resolve(loaded.baseDir, options.stateDir ?? loaded.config.stateDir);
}

export async function serviceRuntime(
  options: ServiceOptions,
  events: Events,
  signal: AbortSignal,
  clock: Clock = systemClock,
  stopsOnSignal = false,
): Promise<ServiceRuntime> {
  checkServiceOptions(options);
  const loaded = loadFromOptions(options, options.environment);
  const service = selectService(loaded, options.artifact, options.environment);
  const stateDir = stateDirOf(options, loaded);
  const journal = new Journal(stateDir, service.environment, service.artifact);
  const env = service.env;
  const scoped = events.child({
    artifact: service.artifact,
    environment: service.environment,
    target: env.target,
  });
  const target = await createTarget({
    loaded,
    service,
    stateDir,
    clock,
    note: (message) => scoped.warn('target.note', message),
    retried: ({ operation, attempt, waitMs, error }) =>
      scoped.info(
        'aws.retry',
        `${operation} failed (${error.name}: ${error.message}); trying again in ${waitMs} ms`,
        { operation, attempt, waitMs, error: error.name },
      ),
    signal,
  });
  const ctx: ControllerContext = {
    target,
    // Where the target keeps notes every runner reads (aws), requests go there too; on one machine, a file.
    intents: target.notes
      ? notesIntents(target.notes)
      : new FileIntents(stateDir, service.environment, service.artifact),
    journal,
    events: scoped,
    clock,
    probe: httpProbe(env.healthCheck, clock.now),
    healthCheck: env.healthCheck,
    ...(env.checks
      ? { checks: { config: env.checks, artifact: service.artifact, environment: service.environment } }
      : {}),
    strategy: strategyOf(options.strategy, env.strategy),
    bake: env.bake,
    rollbackWindow: env.rollbackWindow,
    keepFailed: options.keepFailed ?? false,
    actor: actorFrom(options.env ?? process.env).name,
    signal,
  };
  return { loaded, service, stateDir, journal, ctx, stopsOnSignal };
}

/** `strategy=NAME` on the command line, over the environment's; its options are the name's defaults. */
function strategyOf(name: string | undefined, configured: Strategy): Strategy {
  if (name === undefined) return configured;
  const named = strategyNamed(name);
  if (!named) {
    throw new UserInputError(
      'STRATEGY_UNKNOWN',
      `unknown strategy \`${name}\``,
      `expected ${strategyNameHelp}`,
    );
  }
  // The environment's options for the same strategy (its steps, its bake) win over the defaults.
  const chosen =
    configured.name === named.name && !/^(?:CodeDeployDefault\.)?(?:Canary|Linear)\d/.test(name)
      ? configured
      : named;
  // The environment's approval gate is a rule of the environment, not of one strategy: a name given on
  // the command line must not skip it. It keeps its place where the new plan has one.
  const approval = configured.approval;
  if (!approval || chosen.approval) return chosen;
  const weights = planSteps(chosen).flatMap((s) => (s.kind === 'setWeight' ? [s.weight] : []));
  if (approval.atWeight !== 0 && !weights.includes(approval.atWeight)) {
    throw new UserInputError(
      'STRATEGY_SKIPS_APPROVAL',
      `strategy=${name} never sends ${approval.atWeight}% to green, where the environment's approval gate (strategy.approval.atWeight) sits: it would skip the gate`,
      `choose a strategy whose steps include ${approval.atWeight}%, or deploy with the environment's own strategy`,
    );
  }
  return { ...chosen, approval };
}
