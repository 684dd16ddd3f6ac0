import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { awsChecks, localChecks } from './checks.js';
import { defaults } from './defaults.js';
import { patterns, regionOfArn } from '../providers/aws/patterns.js';
import { isLoopback, parseListen, sameAddress, type ListenAddress } from './listen.js';
import { notifyList } from './notify.js';
import { strategyConfig } from './strategy.js';

/**
 * Names end up in file names, process titles and AWS resource names, so they are kept plain. No `--`:
 * lock and journal files are named `<environment>--<artifact>`, where `a--b` + `c` and `a` + `b--c`
 * would otherwise share one lock and one journal.
 */
export const namePattern = /^(?!.*--)[a-z0-9][a-z0-9-]{0,38}$/;

const duration = (fallback: string) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a duration such as 500ms, 30s, 10m or 1h, got ${JSON.stringify(value)}`,
        });
        return z.NEVER;
      }
      return ms;
    });

const count = (min: number, max: number) => z.number().int().min(min).max(max);

const healthCheck = z
  .object({
    path: z.string().startsWith('/').default(defaults.healthCheck.path),
    expectStatus: count(100, 599).default(defaults.healthCheck.expectStatus),
    timeout: duration(defaults.healthCheck.timeout),
    interval: duration(defaults.healthCheck.interval),
    healthyThreshold: count(1, 10).default(defaults.healthCheck.healthyThreshold),
    unhealthyThreshold: count(1, 10).default(defaults.healthCheck.unhealthyThreshold),
    readyTimeout: duration(defaults.healthCheck.readyTimeout),
  })
  .strict()
  .prefault({});

const strategy = strategyConfig.prefault(defaults.strategy);

const listen = z
  .string()
  .refine(
    (text) => parseListen(text) !== undefined,
    'expected host:port with a port from 1 to 65535, such as 127.0.0.1:8080 or [::1]:8080',
  )
  .default(defaults.local.listen);

/** cutover sets these itself for every instance; a config value would be silently overridden. */
const reservedVariables = ['PORT', 'VERSION', 'HOST'];

const variableName = /^[A-Za-z_][A-Za-z0-9_]*$/;

// Names are checked here rather than by a key schema: zod reports a bad record key only as "Invalid key".
const instanceEnv = z
  // The message names the type only: a value here may be a secret, and errors are printed.
  .record(z.string(), z.string({ error: 'expected a string (quote numbers and booleans)' }))
  .superRefine((env, ctx) => {
    for (const name of Object.keys(env)) {
      if (!variableName.test(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'variable names are letters, digits and _, not starting with a digit',
        });
      } else if (reservedVariables.includes(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'PORT, VERSION and HOST are set by cutover for each instance',
        });
      }
    }
  });

const localEnvironment = z
  .object({
    target: z.literal('local'),
    listen,
    /** What serves `listen`: cutover's own router, or HAProxy driven by the agent (README, `router: haproxy`). */
    router: z
      .enum(['builtin', 'haproxy'], { error: "expected `builtin` (cutover's own router) or `haproxy`" })
      .default(defaults.local.router),
    /** Allows a `listen` address other hosts can reach; the router has no authentication of its own. */
    listenPublic: z.boolean().default(defaults.local.listenPublic),
    /** Variables the instances get beside PORT, VERSION, HOST and a small base; kept out of every output. */
    env: instanceEnv.optional(),
    capacity: count(1, 32).default(defaults.capacity),
    healthCheck,
    strategy,
    /** What watches green while it takes traffic, beside the health checks (src/config/checks.ts). */
    checks: localChecks.optional(),
    bake: duration(defaults.bake),
    rollbackWindow: duration(defaults.rollbackWindow),
    drainTimeout: duration(defaults.local.drainTimeout),
    notify: notifyList,
  })
  .strict()
  .superRefine((env, ctx) => {
    const address = parseListen(env.listen);
    if (address && !isLoopback(address) && !env.listenPublic) {
      ctx.addIssue({
        code: 'custom',
        path: ['listen'],
        message: `${env.listen} is not a loopback address, so other hosts could reach the router; use 127.0.0.1, [::1] or localhost, or set \`listenPublic: true\``,
      });
    }
  });

const arnOf = (pattern: RegExp, what: string) => z.string().regex(pattern, `expected ${what}`);

const awsEnvironment = z
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
    healthCheck,
    strategy,
    checks: awsChecks.optional(),
    bake: duration(defaults.bake),
    rollbackWindow: duration(defaults.rollbackWindow),
    /** How long the old fleet keeps serving after traffic leaves it, before it may be touched (ALB propagation). */
    settle: duration(defaults.aws.settle),
    notify: notifyList,
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

const artifact = z
  .object({
    /** How the local target starts one instance; it is given PORT, VERSION, HOST and its environment's `env`. */
    command: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

const nameKey = z
  .string()
  .refine((name) => !name.includes('--'), {
    error: (issue) =>
      `name ${JSON.stringify(issue.input)} contains \`--\`, which separates environment and artifact in state file names`,
    abort: true,
  })
  .regex(namePattern, 'names are lower-case letters, digits and dashes, at most 39');

export const configSchema = z
  .object({
    stateDir: z.string().min(1).default(defaults.stateDir),
    /** The longest a command waits, at its end, for notifications still being sent. */
    notifyFlushTimeout: duration(defaults.notifyFlushTimeout),
    artifacts: z.record(nameKey, artifact),
    environments: z.record(nameKey, z.discriminatedUnion('target', [localEnvironment, awsEnvironment])),
  })
  .strict()
  .superRefine((config, ctx) => {
    // Two routers cannot share an address: the second deploy would fail only once it tried to bind.
    const seen: [string, ListenAddress][] = [];
    for (const [name, env] of Object.entries(config.environments)) {
      if (env.target !== 'local') continue;
      const address = parseListen(env.listen);
      if (!address) continue;
      const other = seen.find(([, a]) => sameAddress(a, address));
      if (other) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', name, 'listen'],
          message: `${env.listen} is also the address of environment \`${other[0]}\`; environments \`${other[0]}\` and \`${name}\` need different addresses`,
        });
      }
      seen.push([name, address]);
    }
  });

export type Config = z.output<typeof configSchema>;
export type EnvironmentConfig = Config['environments'][string];
export type LocalEnvironmentConfig = z.output<typeof localEnvironment>;
export type HealthCheckConfig = z.output<typeof healthCheck>;
export type AwsEnvironmentConfig = z.output<typeof awsEnvironment>;
export type ArtifactConfig = Config['artifacts'][string];
