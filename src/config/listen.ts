import { isIP } from 'node:net';

/**
 * A local router's `listen` address: `host:port`, the host an IPv4 address, `[IPv6]` or a name.
 * Parsed in one place so that the config check, the conflict check and the agent's bind agree.
 */
export interface ListenAddress {
  /** As `net.Server.listen` wants it: an IPv6 address without its brackets. */
  host: string;
  port: number;
}

export function parseListen(text: string): ListenAddress | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const [, v6, name, digits] = match;
  const port = Number(digits);
  if (port < 1 || port > 65535) return undefined;
  if (v6 !== undefined) return isIP(v6) === 6 ? { host: v6, port } : undefined;
  const host = (name as string).toLowerCase();
  // Dotted digits that are not an IPv4 address (999.1.1.1) would otherwise be taken for a host name.
  if (/^[0-9.]+$/.test(host) && isIP(host) !== 4) return undefined;
  return { host, port };
}

/** Loopback only: the router then answers this host's own clients and nobody else's. */
export function isLoopback({ host }: ListenAddress): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

const wildcards = new Set(['0.0.0.0', '::']);

/**
 * Whether two routers could not both bind: same port, and the same host, a wildcard on either side,
 * or `localhost` beside one of the loopback addresses it resolves to.
 */
export function sameAddress(a: ListenAddress, b: ListenAddress): boolean {
  if (a.port !== b.port) return false;
  if (a.host === b.host || wildcards.has(a.host) || wildcards.has(b.host)) return true;
  const localhostPair = (x: string, y: string) => x === 'localhost' && (y === '127.0.0.1' || y === '::1');
  return localhostPair(a.host, b.host) || localhostPair(b.host, a.host);
}
