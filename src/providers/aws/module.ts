import { UserInputError } from '../../errors.js';
import type { TargetModule } from '../target-module.js';
import { awsEnvironment } from './config.js';
import { patterns } from './patterns.js';

export const awsTarget: TargetModule<typeof awsEnvironment> = {
  name: 'aws',
  configSchema: awsEnvironment,
  downElsewhere:
    'its fleets are Auto Scaling groups in your account: scale them to zero there; `cutover rollback` or `deploy` change what runs',
  validateVersion(version) {
    if (!patterns.ami.test(version)) {
      throw new UserInputError(
        'VERSION_INVALID',
        `version \`${version}\` is not an AMI id`,
        'on the aws target a version is the AMI to launch: ami- and 8 or 17 hex digits',
      );
    }
    return version;
  },
  // The SDK clients alone cost about 450 ms of start-up, which a local command has no use for.
  async create({ service, clock, note, retried, signal }) {
    const [{ createAwsPorts }, { defaultRetry }, { createAwsTarget }] = await Promise.all([
      import('./clients.js'),
      import('./retry.js'),
      import('./target.js'),
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
