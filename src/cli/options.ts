import type { LoadedConfig } from '../config/load.js';
import {
  loadFromOptions,
  stateDirOf as stateDirOfOptions,
  type ConfigOptions,
  type ServiceOptions,
} from '../controller/runtime.js';
import type { Host } from '../api/perform.js';
import type { ParsedArgs } from './args.js';
import type { CommandIO } from './command.js';

/** `--config` and `--state-dir`, as the library names them. */
export function configOptionsOf(args: ParsedArgs): ConfigOptions {
  return { config: args.options.config, stateDir: args.options['state-dir'] };
}

/** The words every command about one artifact and environment takes, as the library names them. */
export function serviceOptionsOf(args: ParsedArgs): ServiceOptions {
  return {
    ...configOptionsOf(args),
    artifact: args.words.artifact ?? '',
    environment: args.words.environment ?? '',
    strategy: args.words.strategy,
    keepFailed: args.flags.has('keep-failed'),
  };
}

/** The CLI's event bus (its log), its signal, and its wait for notifications after the result. */
export function hostOf(io: CommandIO): Host & { signal: AbortSignal } {
  return { events: io.events, signal: io.signal, afterResult: io.beforeExit, stopsOnSignal: true };
}

export function loadFromArgs(args: ParsedArgs): LoadedConfig {
  return loadFromOptions(configOptionsOf(args), args.words.environment);
}

export function stateDirOf(args: ParsedArgs, loaded: LoadedConfig): string {
  return stateDirOfOptions(configOptionsOf(args), loaded);
}
