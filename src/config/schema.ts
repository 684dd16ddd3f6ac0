import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { defaults } from './defaults.js';

/** Names end up in file names, process titles and AWS resource names, so they are kept plain. */
export const namePattern = /^[a-z0-9][a-z0-9-]{0,38}$/;

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

const strategy = z.enum(['all-at-once']).default(defaults.strategy);

const listen = z
  .string()
  .regex(/^[0-9.]+:\d{1,5}$/, 'expected host:port on a local address, such as 127.0.0.1:8080')
  .default(defaults.local.listen);

const localEnvironment = z
  .object({
    target: z.literal('local'),
    listen,
    capacity: count(1, 32).default(defaults.capacity),
    healthCheck,
    strategy,
    bake: duration(defaults.bake),
    rollbackWindow: duration(defaults.rollbackWindow),
    drainTimeout: duration(defaults.local.drainTimeout),
  })
  .strict();

const artifact = z
  .object({
    /** How the local target starts one instance; it is given PORT and VERSION in its environment. */
    command: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

const nameKey = z.string().regex(namePattern, 'names are lower-case letters, digits and dashes, at most 39');

export const configSchema = z
  .object({
    stateDir: z.string().min(1).default(defaults.stateDir),
    artifacts: z.record(nameKey, artifact),
    environments: z.record(nameKey, z.discriminatedUnion('target', [localEnvironment])),
  })
  .strict();

export type Config = z.output<typeof configSchema>;
export type EnvironmentConfig = Config['environments'][string];
export type LocalEnvironmentConfig = z.output<typeof localEnvironment>;
export type HealthCheckConfig = z.output<typeof healthCheck>;
export type ArtifactConfig = Config['artifacts'][string];
