import { UserInputError } from '../errors.js';
import type { LoadedConfig } from './load.js';
import { patterns } from '../providers/aws/patterns.js';
import type { ArtifactConfig, EnvironmentConfig } from './schema.js';

/** Local versions are labels (`v2`, `1.4.0-rc.1`); no path or shell characters can get through. */
const localVersionPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

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
  if (service.env.target === 'aws') {
    if (!patterns.ami.test(version)) {
      throw new UserInputError(
        'VERSION_INVALID',
        `version \`${version}\` is not an AMI id`,
        'on the aws target a version is the AMI to launch: ami- and 8 or 17 hex digits',
      );
    }
    return version;
  }
  if (!localVersionPattern.test(version)) {
    throw new UserInputError(
      'VERSION_INVALID',
      `version \`${version}\` is not a valid version label`,
      'use letters, digits, dots, dashes and underscores (at most 64), starting with a letter or digit',
    );
  }
  if (service.env.target === 'local' && !service.artifactConfig.command) {
    throw new UserInputError(
      'ARTIFACT_NO_COMMAND',
      `artifact \`${service.artifact}\` has no \`command\`, which the local target needs to start it`,
    );
  }
  return version;
}
