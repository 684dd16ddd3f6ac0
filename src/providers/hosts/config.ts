import { z } from 'zod';
import { localChecks } from '../../config/checks.js';
import { count, deployFields, duration, instanceEnv } from '../../config/environment-parts.js';
import { defaults } from '../../config/defaults.js';

/**
 * A hosts environment: the user's own machines reached over SSH, one process of the artifact per host
 * in one of two port slots that blue and green alternate between, behind the user's HAProxy, whose
 * runtime API cutover drives over SSH as well.
 */

const address = z
  .string({ error: 'expected a host name or IP address' })
  .min(1)
  .max(253)
  // A leading dash would read as an option to any tool that takes the address.
  .regex(/^[A-Za-z0-9][A-Za-z0-9.:-]*$/, 'expected a host name or IP address');

const absolutePath = z
  .string()
  .regex(/^\/[A-Za-z0-9._/-]*$/, 'expected an absolute path of letters, digits, . _ - and /');

const sshHost = z
  .object({
    address,
    port: count(1, 65535).default(22),
    /** Where cutover keeps releases, logs and state on the host. */
    root: absolutePath.default('/opt/cutover'),
  })
  .strict();

const port = count(1, 65535);

export const hostsEnvironment = z
  .object({
    target: z.literal('hosts'),
    hosts: z
      .array(sshHost)
      .min(1, 'expected at least one host')
      .max(64)
      .refine(
        (hosts) => new Set(hosts.map((h) => `${h.address}:${h.port}`)).size === hosts.length,
        'each host is listed once',
      ),
    ssh: z
      .object({
        user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'expected a user name such as deploy'),
        /**
         * The private key itself (usually `${SSH_KEY}` from the CI's secrets), never a path in the config;
         * without it the agent at SSH_AUTH_SOCK signs.
         */
        key: z.string().optional(),
        /** OpenSSH known_hosts file every host's key is checked against (default ~/.ssh/known_hosts). */
        knownHosts: z.string().min(1).optional(),
        /** Off only for a first try on throwaway machines: a host key that is not known is then accepted. */
        checkHostKeys: z.boolean().default(true),
        connectTimeout: duration('10s'),
      })
      .strict(),
    /** The two ports blue and green alternate between on every host. */
    slots: z
      .tuple([port, port], { error: 'expected two ports, such as [8001, 8002]' })
      .refine(([a, b]) => a !== b, 'the two slots must differ'),
    haproxy: z
      .object({
        /** The load balancer host, reached over SSH like the others. */
        host: sshHost,
        /** HAProxy's runtime API socket on that host (`stats socket … level admin`). */
        socket: absolutePath.default('/run/haproxy/admin.sock'),
        backend: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a backend name'),
        /** Where cutover saves the servers' state, for `load-server-state-from-file` across reloads. */
        stateFile: absolutePath.default('/var/lib/haproxy/server-state'),
        /** Where users reach the service through HAProxy, for the probe check and `status`. */
        publicUrl: z.url({ protocol: /^https?$/ }).optional(),
      })
      .strict(),
    /**
     * What keeps each host's process running: `systemd` units where cutover can manage them (as root,
     * or a lingering user), the sh supervisor (`process`), or `auto` (default): systemd on each host
     * where it can, else the sh supervisor. `systemd` fails a launch on a host where it cannot.
     */
    supervisor: z
      .enum(['auto', 'systemd', 'process'], { error: 'expected auto, systemd or process' })
      .default('auto'),
    /** Variables the instances get beside PORT, VERSION, HOST. */
    env: instanceEnv.optional(),
    ...deployFields,
    checks: localChecks.optional(),
    drainTimeout: duration(defaults.local.drainTimeout),
  })
  .strict();

export type HostsEnvironmentConfig = z.output<typeof hostsEnvironment>;
export type SshHostConfig = z.output<typeof sshHost>;

/**
 * Environments that would fight over the same machines: a port of one's slots on a host the other uses
 * too (each deploy would stop the other's process), or the same HAProxy backend (each would zero the
 * other's servers). Different environments on the same hosts need different slots and backends.
 */
export function hostsClashes(
  environments: [string, HostsEnvironmentConfig][],
): { environment: string; key: string; message: string }[] {
  const clashes: { environment: string; key: string; message: string }[] = [];
  environments.forEach(([name, env], index) => {
    for (const [otherName, other] of environments.slice(0, index)) {
      const shared = env.hosts
        .filter((h) => other.hosts.some((o) => o.address === h.address))
        .map((h) => h.address);
      const ports = env.slots.filter((s) => other.slots.includes(s));
      if (shared.length > 0 && ports.length > 0) {
        clashes.push({
          environment: name,
          key: 'slots',
          message: `port ${ports.join(' and ')} on ${shared.join(', ')} is also a slot of environment \`${otherName}\`; environments \`${otherName}\` and \`${name}\` on the same hosts need different slots`,
        });
      }
      if (
        env.haproxy.host.address === other.haproxy.host.address &&
        env.haproxy.backend === other.haproxy.backend
      ) {
        clashes.push({
          environment: name,
          key: 'haproxy',
          message: `backend \`${env.haproxy.backend}\` on ${env.haproxy.host.address} is also environment \`${otherName}\`'s; each environment needs a backend of its own`,
        });
      }
    }
  });
  return clashes;
}
