import { z } from 'zod';
import { crossEnvironmentIssues, environmentSchema } from '../providers/registry.js';
import { defaults } from './defaults.js';
import { duration } from './environment-parts.js';

/**
 * Names end up in file names, process titles and AWS resource names, so they are kept plain. No `--`:
 * lock and journal files are named `<environment>--<artifact>`, where `a--b` + `c` and `a` + `b--c`
 * would otherwise share one lock and one journal.
 */
export const namePattern = /^(?!.*--)[a-z0-9][a-z0-9-]{0,38}$/;

const artifact = z
  .object({
    /** How the local target starts one instance; it is given PORT, VERSION, HOST and its environment's `env`. */
    command: z.array(z.string().min(1)).min(1).optional(),
    /**
     * The hosts target's release tarball of a version, relative to the config file, with `${version}`
     * standing for the version (dist/catalog-${version}.tgz).
     */
    package: z
      .string()
      .min(1)
      .refine(
        (p) => p.includes('${version}'),
        'expected a path with ${version} in it, such as dist/catalog-${version}.tgz',
      )
      .optional(),
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
    environments: z.record(nameKey, environmentSchema),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const issue of crossEnvironmentIssues(config.environments)) {
      ctx.addIssue({
        code: 'custom',
        path: ['environments', issue.environment, issue.key],
        message: issue.message,
      });
    }
  });

export type Config = z.output<typeof configSchema>;
export type { EnvironmentConfig } from '../providers/registry.js';
export type { LocalEnvironmentConfig } from '../providers/local/config.js';
export type { AwsEnvironmentConfig } from '../providers/aws/config.js';
export type { HealthCheckConfig } from './environment-parts.js';
export type ArtifactConfig = Config['artifacts'][string];
