import { z } from 'zod';
import { localChecks } from '../../config/checks.js';
import { defaults } from '../../config/defaults.js';
import { count, deployFields, duration, instanceEnv, listen } from '../../config/environment-parts.js';
import { isLoopback, parseListen, sameAddress, type ListenAddress } from '../../config/listen.js';

/** A local environment: fleets of processes on this machine behind cutover's own router. */
export const localEnvironment = z
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
    ...deployFields,
    /** What watches green while it takes traffic, beside the health checks (src/config/checks.ts). */
    checks: localChecks.optional(),
    drainTimeout: duration(defaults.local.drainTimeout),
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

export type LocalEnvironmentConfig = z.output<typeof localEnvironment>;

/** Two routers cannot share an address: the second deploy would fail only once it tried to bind. */
export function listenClashes(
  environments: [string, LocalEnvironmentConfig][],
): { environment: string; key: string; message: string }[] {
  const seen: [string, ListenAddress][] = [];
  const clashes: { environment: string; key: string; message: string }[] = [];
  for (const [name, env] of environments) {
    const address = parseListen(env.listen);
    if (!address) continue;
    const other = seen.find(([, a]) => sameAddress(a, address));
    if (other) {
      clashes.push({
        environment: name,
        key: 'listen',
        message: `${env.listen} is also the address of environment \`${other[0]}\`; environments \`${other[0]}\` and \`${name}\` need different addresses`,
      });
    }
    seen.push([name, address]);
  }
  return clashes;
}
