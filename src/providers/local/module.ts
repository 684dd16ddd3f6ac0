import { UserInputError } from '../../errors.js';
import type { TargetModule } from '../target-module.js';
import { listenClashes, localEnvironment } from './config.js';

/** Local versions are labels (`v2`, `1.4.0-rc.1`); no path or shell characters can get through. */
export const versionLabelPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Checks a version label as every target that names versions by label does (local, hosts). */
export function checkVersionLabel(version: string): string {
  if (!versionLabelPattern.test(version)) {
    throw new UserInputError(
      'VERSION_INVALID',
      `version \`${version}\` is not a valid version label`,
      'use letters, digits, dots, dashes and underscores (at most 64), starting with a letter or digit',
    );
  }
  return version;
}

export const localTarget: TargetModule<typeof localEnvironment> = {
  name: 'local',
  configSchema: localEnvironment,
  validateVersion(version, { artifact, artifactConfig }) {
    checkVersionLabel(version);
    if (!artifactConfig.command) {
      throw new UserInputError(
        'ARTIFACT_NO_COMMAND',
        `artifact \`${artifact}\` has no \`command\`, which the local target needs to start it`,
      );
    }
    return version;
  },
  async create({ loaded, service, stateDir, clock }) {
    const [{ AgentClient }, { createLocalTarget }] = await Promise.all([
      import('./agent-client.js'),
      import('./target.js'),
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
  publicUrl: (env) => `http://${env.listen}/`,
  checkEnvironments: listenClashes,
  async down({ loaded, environment, stateDir, events }) {
    const { downLocalEnvironment } = await import('./down.js');
    await downLocalEnvironment(loaded, environment, stateDir, events);
  },
};
