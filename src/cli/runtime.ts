import { resolve } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import type { ControllerContext } from '../controller/context.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { selectService, type Service } from '../config/select.js';
import { Events } from '../events.js';
import { httpProbe } from '../../healthchecks/http.js';
import { createTarget } from '../providers/registry.js';
import { Journal } from '../state/journal.js';
import type { ParsedArgs } from './args.js';

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
  const ctx: ControllerContext = {
    target: await createTarget({
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
    }),
    journal,
    events: scoped,
    clock,
    probe: httpProbe(env.healthCheck, clock.now),
    healthCheck: env.healthCheck,
    strategy: env.strategy,
    bake: env.bake,
    rollbackWindow: env.rollbackWindow,
    keepFailed: args.flags.has('keep-failed'),
    signal,
  };
  return { loaded, service, stateDir, journal, ctx };
}
