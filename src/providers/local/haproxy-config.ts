import { createHash } from 'node:crypto';
import type { HaproxyServer } from './haproxy-weights.js';

/**
 * The configuration file HAProxy starts from when it serves a local environment (`router: haproxy`):
 * one frontend on the environment's `listen` address, one backend whose servers are the instances with
 * their weights at the moment it starts. Later changes go through the runtime API (haproxy-runtime.ts);
 * a HAProxy started again after it died gets a fresh file with the table as it is then.
 *
 * It behaves as the built-in router does where a client could tell: keep-alive on both sides, the
 * X-Forwarded-For/-Proto/-Host headers set by the router (a client's own -Proto and -Host are dropped),
 * and a GET or HEAD whose instance refused the connection or closed it without answering is sent again,
 * to another instance (`retry-on`, `redispatch`), while any other request is retried only when nothing
 * of it reached an instance.
 */

export const backendName = 'fleets';
const frontendName = 'cutover';

export interface HaproxyConfigOptions {
  host: string;
  port: number;
  /** The runtime API's unix socket, in a folder only the agent's user can enter. */
  socket: string;
  servers: HaproxyServer[];
}

/** `bind` takes IPv6 in brackets; `::` also accepts IPv4, as Node's listen on `::` does. */
function bindLine(host: string, port: number): string {
  if (host === '::') return `bind [::]:${port} v4v6`;
  return host.includes(':') ? `bind [${host}]:${port}` : `bind ${host}:${port}`;
}

export function serverLine(server: HaproxyServer): string {
  return `server ${server.name} ${server.address} weight ${server.weight}`;
}

/** Everything but the servers: what must match for the agent to take over a HAProxy already running. */
function staticPart(options: Omit<HaproxyConfigOptions, 'servers'>): string {
  return `# Written by the cutover agent each time it starts HAProxy; edits are lost.
global
  # Plain bind: a second HAProxy on this address fails to start rather than share it.
  noreuseport
  # A stop lets requests in flight finish, for at most this long.
  hard-stop-after 5s
  stats socket ${options.socket} mode 600 level admin

defaults
  mode http
  option http-keep-alive
  option forwardfor
  timeout connect 5s
  timeout client 65s
  timeout http-keep-alive 65s
  timeout http-request 60s
  timeout server 300s
  timeout tunnel 1h
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response

frontend ${frontendName}
  ${bindLine(options.host, options.port)}
  http-request disable-l7-retry unless METH_GET
  http-request set-header X-Forwarded-Proto http
  http-request del-header X-Forwarded-Host
  http-request set-header X-Forwarded-Host %[req.hdr(host)] if { req.hdr(host) -m found }
  default_backend ${backendName}

backend ${backendName}
  balance roundrobin
`;
}

export function haproxyConfig(options: HaproxyConfigOptions): string {
  return `${staticPart(options)}${options.servers.map((s) => `  ${serverLine(s)}\n`).join('')}`;
}

/** Names the static part: a HAProxy started from another one (an older cutover's) is not taken over. */
export function configHash(options: Omit<HaproxyConfigOptions, 'servers'>): string {
  return createHash('sha256').update(staticPart(options)).digest('hex').slice(0, 16);
}
