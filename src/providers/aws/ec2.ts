import {
  CreateLaunchTemplateVersionCommand,
  DescribeImagesCommand,
  type EC2Client,
  type Image,
} from '@aws-sdk/client-ec2';
import { call, type RetryOptions } from './retry.js';
import { patterns } from './patterns.js';

/** The EC2 calls cutover makes: check an AMI, and pin it in a new launch template version. */
export class Ec2Port {
  constructor(
    private readonly client: EC2Client,
    private readonly retry: RetryOptions,
  ) {}

  async image(ami: string): Promise<Image | undefined> {
    try {
      const out = await call(
        'DescribeImages',
        () => this.client.send(new DescribeImagesCommand({ ImageIds: [ami] })),
        this.retry,
      );
      return out.Images?.[0];
    } catch (error) {
      if ((error as { name?: string }).name?.startsWith('InvalidAMIID')) return undefined;
      throw error;
    }
  }

  /**
   * A new version of the template with the new AMI; its number is pinned, never $Latest. `clientToken`
   * makes the call idempotent: a retry after a lost response gets the same version back instead of
   * making a second one (the SDK's own token is new for each command we build, so we pass ours).
   */
  async newTemplateVersion(
    template: string,
    sourceVersion: string,
    ami: string,
    description: string,
    clientToken: string,
  ): Promise<number> {
    const byId = patterns.launchTemplateId.test(template);
    const out = await call(
      'CreateLaunchTemplateVersion',
      () =>
        this.client.send(
          new CreateLaunchTemplateVersionCommand({
            ...(byId ? { LaunchTemplateId: template } : { LaunchTemplateName: template }),
            SourceVersion: sourceVersion,
            ClientToken: clientToken.slice(0, 128),
            VersionDescription: description.slice(0, 255),
            LaunchTemplateData: { ImageId: ami },
          }),
        ),
      this.retry,
    );
    const version = out.LaunchTemplateVersion?.VersionNumber;
    if (version === undefined)
      throw new Error(`CreateLaunchTemplateVersion of \`${template}\` returned no version number`);
    return version;
  }
}
