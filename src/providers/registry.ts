import type { Clock } from '../clock.js';
import type { LoadedConfig } from '../config/load.js';
import type { Service } from '../config/select.js';
import { UserInputError } from '../errors.js';
import type { RetryNotice } from './aws/retry.js';
import type { Target } from './types.js';

export interface TargetDeps {
  loaded: LoadedConfig;
  service: Service;
  stateDir: string;
  clock: Clock;
  note?: (message: string) => void;
  /** Told of each AWS call about to be retried (throttling, a lost response), with the wait. */
  retried?: (notice: RetryNotice) => void;
  /** The command's abort signal: retry waits end when it fires. */
  signal?: AbortSignal;
}

type Factory = (deps: TargetDeps) => Promise<Target>;

/**
 * Maps a config's `target:` to the code that drives it. Each target's code is imported only when an
 * environment uses it: the AWS SDK clients alone cost about 450 ms of start-up, which a local rollback
 * has no use for.
 */
const factories: Record<string, Factory> = {
  local: async ({ loaded, service, stateDir, clock }) => {
    if (service.env.target !== 'local') throw new Error('unreachable: local factory given another target');
    const [{ AgentClient }, { createLocalTarget }] = await Promise.all([
      import('./local/agent-client.js'),
      import('./local/target.js'),
    ]);
    return createLocalTarget({
      client: new AgentClient(stateDir),
      environment: service.environment,
      artifact: service.artifact,
      env: service.env,
      artifactConfig: service.artifactConfig,
      baseDir: loaded.baseDir,
      clock,
    });
  },

  aws: async ({ service, clock, note, retried, signal }) => {
    if (service.env.target !== 'aws') throw new Error('unreachable: aws factory given another target');
    const [{ createAwsPorts }, { defaultRetry }, { createAwsTarget }] = await Promise.all([
      import('./aws/clients.js'),
      import('./aws/retry.js'),
      import('./aws/target.js'),
    ]);
    return createAwsTarget({
      env: service.env,
      artifact: service.artifact,
      environment: service.environment,
      clock,
      ports: createAwsPorts(service.env.region, {
        ...defaultRetry,
        ...(retried ? { onRetry: retried } : {}),
        ...(signal ? { signal } : {}),
      }),
      ...(note ? { note } : {}),
    });
  },
};

export async function createTarget(deps: TargetDeps): Promise<Target> {
  const factory = factories[deps.service.env.target];
  if (!factory) {
    throw new UserInputError(
      'TARGET_UNKNOWN',
      `target \`${deps.service.env.target}\` of environment \`${deps.service.environment}\` is not known`,
      `known targets: ${Object.keys(factories).join(', ')}`,
    );
  }
  return factory(deps);
}
