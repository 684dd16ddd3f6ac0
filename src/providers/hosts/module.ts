import type { TargetModule } from '../target-module.js';
import { checkVersionLabel } from '../local/module.js';
import { UserInputError } from '../../errors.js';
import { hostsClashes, hostsEnvironment } from './config.js';
import { haproxyConfig } from './haproxy-servers.js';

export const hostsTarget: TargetModule<typeof hostsEnvironment> = {
  name: 'hosts',
  configSchema: hostsEnvironment,
  validateVersion(version, { artifact, artifactConfig }) {
    checkVersionLabel(version);
    if (!artifactConfig.command || !artifactConfig.package) {
      throw new UserInputError(
        'ARTIFACT_INCOMPLETE',
        `artifact \`${artifact}\` needs \`package\` (the release tarball of a version, such as dist/${artifact}-\${version}.tgz) and \`command\` (how to start it in the release folder) for the hosts target`,
      );
    }
    return version;
  },
  async create(deps) {
    const { createHostsTarget } = await import('./target.js');
    return createHostsTarget(deps);
  },
  publicUrl: (env) => env.haproxy.publicUrl,
  checkEnvironments: hostsClashes,
  downElsewhere:
    "its fleets run on its hosts, each under a supervisor whose pid is in <root>/<artifact>/<environment>/slot-<port>/pid: set the backend's servers to weight 0 in HAProxy, then `kill -s TERM -- -PID` on each host; `cutover rollback` or `deploy` change what runs",
  routerConfig: (env, { artifact, environment }) => haproxyConfig(env, artifact, environment),
};
