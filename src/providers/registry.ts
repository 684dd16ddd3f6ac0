import type { Clock } from '../clock.js';
import type { LoadedConfig } from '../config/load.js';
import type { Service } from '../config/select.js';
import { UserInputError } from '../errors.js';
import { AgentClient } from './local/agent-client.js';
import { createLocalTarget } from './local/target.js';
import type { Target } from './types.js';
import { createAwsPorts } from './aws/clients.js';
import { defaultRetry } from './aws/retry.js';
import { createAwsTarget } from './aws/target.js';

export interface TargetDeps {
  loaded: LoadedConfig;
  service: Service;
  stateDir: string;
  clock: Clock;
  note?: (message: string) => void;
}

type Factory = (deps: TargetDeps) => Target;

/** Maps a config's `target:` to the code that drives it. */
const factories: Record<string, Factory> = {
  local: ({ loaded, service, stateDir, clock }) => {
    if (service.env.target !== 'local') throw new Error('unreachable: local factory given another target');
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
};

factories.aws = ({ service, clock, note }) => {
  if (service.env.target !== 'aws') throw new Error('unreachable: aws factory given another target');
  return createAwsTarget({
    env: service.env,
    artifact: service.artifact,
    environment: service.environment,
    clock,
    ports: createAwsPorts(service.env.region, defaultRetry),
    note,
  });
};

export function createTarget(deps: TargetDeps): Target {
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
