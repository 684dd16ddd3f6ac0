import { UserInputError } from '../errors.js';
import type { LoadedConfig } from './load.js';
import { moduleOf } from '../providers/registry.js';
import type { ArtifactConfig, EnvironmentConfig } from './schema.js';

export interface Service {
  artifact: string;
  environment: string;
  artifactConfig: ArtifactConfig;
  env: EnvironmentConfig;
}

export function selectService(loaded: LoadedConfig, artifact: string, environment: string): Service {
  const { config, file } = loaded;
  const artifactConfig = config.artifacts[artifact];
  if (!artifactConfig) {
    throw new UserInputError(
      'ARTIFACT_UNKNOWN',
      `artifact \`${artifact}\` is not in \`${file}\``,
      `known artifacts: ${Object.keys(config.artifacts).join(', ') || '(none)'}`,
    );
  }
  return { artifact, environment, artifactConfig, env: selectEnvironment(loaded, environment) };
}

export function selectEnvironment(loaded: LoadedConfig, environment: string): EnvironmentConfig {
  const env = loaded.config.environments[environment];
  if (!env) {
    throw new UserInputError(
      'ENVIRONMENT_UNKNOWN',
      `environment \`${environment}\` is not in \`${loaded.file}\``,
      `known environments: ${Object.keys(loaded.config.environments).join(', ') || '(none)'}`,
    );
  }
  return env;
}

export function validateVersion(service: Service, version: string | undefined): string {
  if (version === undefined || version.trim() === '') {
    throw new UserInputError('VERSION_MISSING', 'a version is needed: `version=…`');
  }
  return moduleOf(service.env).validateVersion(version, service);
}
