import {
  CreateLaunchTemplateVersionCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplateVersionsCommand,
  type EC2Client,
  type Image,
} from '@aws-sdk/client-ec2';
import { call, type RetryOptions } from './retry.js';
import { patterns } from './patterns.js';

/** A launch template version as `cutover history` reads it: its description says which deploy made it. */
export interface TemplateVersion {
  number: number;
  description: string;
  createdAt: number;
  ami: string;
}

/** The EC2 calls cutover makes: check an AMI, pin it in a new launch template version, list those. */
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

  /** Every version of the template, newest first, read page by page (at most `limit` versions). */
  async templateVersions(template: string, limit = 1000): Promise<TemplateVersion[]> {
    const byId = patterns.launchTemplateId.test(template);
    const found: TemplateVersion[] = [];
    let token: string | undefined;
    do {
      const out = await call(
        'DescribeLaunchTemplateVersions',
        () =>
          this.client.send(
            new DescribeLaunchTemplateVersionsCommand({
              ...(byId ? { LaunchTemplateId: template } : { LaunchTemplateName: template }),
              MaxResults: 200,
              ...(token ? { NextToken: token } : {}),
            }),
          ),
        this.retry,
      );
      for (const v of out.LaunchTemplateVersions ?? []) {
        if (v.VersionNumber === undefined) continue;
        found.push({
          number: v.VersionNumber,
          description: v.VersionDescription ?? '',
          createdAt: v.CreateTime?.getTime() ?? 0,
          ami: v.LaunchTemplateData?.ImageId ?? '',
        });
      }
      token = out.NextToken;
    } while (token && found.length < limit);
    return found;
  }
}
