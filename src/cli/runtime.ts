import { resolve } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import type { ControllerContext } from '../controller/context.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { selectService, type Service } from '../config/select.js';
import { Events } from '../events.js';
import { httpProbe } from '../../healthchecks/http.js';
import { createTarget } from '../providers/registry.js';
import { Journal } from '../state/journal.js';
import { FileIntents } from '../state/intent-file.js';
import { notesIntents } from '../controller/intents.js';
import type { ParsedArgs } from './args.js';
import { UserInputError } from '../errors.js';
import { strategyNamed, strategyNameHelp } from '../../strategies/names.js';
import { planSteps } from '../../strategies/index.js';
import type { Strategy } from '../../strategies/types.js';

/** What every command that acts on one artifact and environment sets up the same way. */
export interface ServiceRuntime {
  loaded: LoadedConfig;
  service: Service;
  stateDir: string;
  journal: Journal;
  ctx: ControllerContext;
}

export function loadFromArgs(args: ParsedArgs): LoadedConfig {
  return loadConfig(args.options.config, process.env, args.words.environment);
}

export function stateDirOf(args: ParsedArgs, loaded: LoadedConfig): string {
  return resolve(loaded.baseDir, args.options['state-dir'] ?? loaded.config.stateDir);
}

export async function serviceRuntime(
  args: ParsedArgs,
  events: Events,
  signal: AbortSignal,
  clock: Clock = systemClock,
): Promise<ServiceRuntime> {
  const loaded = loadFromArgs(args);
  const service = selectService(loaded, args.words.artifact ?? '', args.words.environment ?? '');
  const stateDir = stateDirOf(args, loaded);
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
    strategy: strategyOf(args, env.strategy),
    bake: env.bake,
    rollbackWindow: env.rollbackWindow,
    keepFailed: args.flags.has('keep-failed'),
    signal,
  };
  return { loaded, service, stateDir, journal, ctx };
}

/** `strategy=NAME` on the command line, over the environment's; its options are the name's defaults. */
function strategyOf(args: ParsedArgs, configured: Strategy): Strategy {
  const name = args.words.strategy;
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
