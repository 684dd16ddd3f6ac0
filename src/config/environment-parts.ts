import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { defaults } from './defaults.js';
import { parseListen } from './listen.js';
import { notifyList } from './notify.js';
import { strategyConfig } from './strategy.js';

/**
 * The pieces every target's environment schema is built from (durations, health checks, strategy,
 * instance variables), so that the same key means the same thing on every target.
 */

export const duration = (fallback: string) =>
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

export const count = (min: number, max: number) => z.number().int().min(min).max(max);

export const healthCheck = z
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

export const strategy = strategyConfig.prefault(defaults.strategy);

export const listen = z
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
export const instanceEnv = z
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

export type HealthCheckConfig = z.output<typeof healthCheck>;

/** What every target's environment says alike: how green is checked, how traffic moves, how long blue waits, who hears. */
export const deployFields = {
  healthCheck,
  strategy,
  bake: duration(defaults.bake),
  rollbackWindow: duration(defaults.rollbackWindow),
  notify: notifyList,
};
