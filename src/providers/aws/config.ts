import { z } from 'zod';
import { awsChecks } from '../../config/checks.js';
import { defaults } from '../../config/defaults.js';
import { count, deployFields, duration } from '../../config/environment-parts.js';
import { patterns, regionOfArn } from './patterns.js';

/** An aws environment: Auto Scaling groups behind an Application Load Balancer listener's target groups. */
const arnOf = (pattern: RegExp, what: string) => z.string().regex(pattern, `expected ${what}`);

export const awsEnvironment = z
  .object({
    target: z.literal('aws'),
    region: z.string().regex(patterns.region, 'expected an AWS Region such as eu-west-1'),
    listener: z.union(
      [
        arnOf(patterns.listener, 'an Application Load Balancer listener ARN'),
        arnOf(patterns.listenerRule, 'a listener rule ARN'),
      ],
      {
        error:
          'expected the ARN of an Application Load Balancer listener (…:listener/app/…) or of a listener rule (…:listener-rule/app/…)',
      },
    ),
    testListener: arnOf(
      patterns.listener,
      'an Application Load Balancer listener ARN (…:listener/app/…)',
    ).optional(),
    targetGroups: z
      .array(arnOf(patterns.targetGroup, 'a target group ARN (…:targetgroup/NAME/ID)'))
      .length(2, 'expected exactly two target groups: the fleets alternate between them')
      .refine((arns) => arns[0] !== arns[1], 'the two target groups must differ'),
    launchTemplate: z
      .string()
      .refine(
        (v) => patterns.launchTemplateId.test(v) || patterns.launchTemplateName.test(v),
        'expected a launch template id (lt-…) or name',
      ),
    baseGroup: z.string().regex(patterns.autoScalingGroupName, 'expected an Auto Scaling group name'),
    capacity: z
      .object({ min: count(0, 1000), max: count(1, 1000), desired: count(0, 1000) })
      .strict()
      .refine((c) => c.min <= c.desired && c.desired <= c.max, 'expected min ≤ desired ≤ max')
      .optional(),
    ...deployFields,
    checks: awsChecks.optional(),
    /** How long the old fleet keeps serving after traffic leaves it, before it may be touched (ALB propagation). */
    settle: duration(defaults.aws.settle),
  })
  .strict()
  .superRefine((env, ctx) => {
    for (const [key, arn] of [
      ['listener', env.listener],
      ['testListener', env.testListener],
      ...env.targetGroups.map((a, i) => [`targetGroups.${i}`, a] as const),
    ] as const) {
      if (arn && regionOfArn(arn) !== env.region) {
        ctx.addIssue({
          code: 'custom',
          path: key.split('.'),
          message: `is in ${regionOfArn(arn)}, not in region ${env.region}`,
        });
      }
    }
  });

export type AwsEnvironmentConfig = z.output<typeof awsEnvironment>;
