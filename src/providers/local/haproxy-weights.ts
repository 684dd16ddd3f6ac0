import type { RouterTable } from './service-router.js';

/**
 * A routing table as HAProxy servers: one server per instance in one backend, each fleet's percentage
 * split across the instances that serve it, as integer weights from 0 to 256 (HAProxy's range). The
 * built-in router picks a fleet by weight, then an instance round-robin; HAProxy's roundrobin over these
 * weights gives each fleet the same share.
 *
 * The instances that serve a fleet are those not reported down, or all of them when every one is: one
 * believed down may be back, and trying it beats a 503 (the built-in router does the same). The others,
 * and every instance of a fleet without weight, get weight 0: HAProxy sends them nothing new.
 */

export interface HaproxyServer {
  /** Unique in the backend, stable for the life of the instance: the fleet id and the instance's port. */
  name: string;
  fleetId: string;
  /** host:port, as a server line takes it. */
  address: string;
  weight: number;
}

export const maxWeight = 256;

/** Server names are letters, digits and `-_.`; a fleet id with anything else is made to fit. */
export function serverName(fleetId: string, url: string): string {
  const { port } = new URL(url);
  return `${fleetId.replace(/[^A-Za-z0-9_.-]/g, '_')}_${port}`;
}

function address(url: string): string {
  const { hostname, port } = new URL(url);
  return `${hostname}:${port}`;
}

export function desiredServers(table: RouterTable): HaproxyServer[] {
  const down = new Set(table.down);
  const serving = new Map<string, string[]>();
  for (const [fleetId, urls] of Object.entries(table.fleets)) {
    if ((table.weights[fleetId] ?? 0) <= 0 || urls.length === 0) continue;
    const up = urls.filter((url) => !down.has(url));
    serving.set(fleetId, up.length > 0 ? up : urls);
  }
  const weights = fleetServerWeights(
    [...serving].map(([fleetId, urls]) => ({
      fleetId,
      percent: table.weights[fleetId] ?? 0,
      count: urls.length,
    })),
  );
  const servers: HaproxyServer[] = [];
  for (const [fleetId, urls] of Object.entries(table.fleets)) {
    const chosen = serving.get(fleetId) ?? [];
    const own = weights.get(fleetId) ?? [];
    for (const url of urls) {
      const index = chosen.indexOf(url);
      servers.push({
        name: serverName(fleetId, url),
        fleetId,
        address: address(url),
        weight: index < 0 ? 0 : (own[index] ?? 0),
      });
    }
  }
  return servers;
}

interface FleetShare {
  fleetId: string;
  percent: number;
  count: number;
}

/**
 * The weight of each serving instance, fleet by fleet. Exact when it fits: each instance of fleet f
 * weighs percent(f) / count(f), brought to whole numbers over the least common multiple of the counts
 * and reduced by their greatest common divisor (two fleets of two instances at 90/10 weigh 9, 9, 1, 1).
 * When that exceeds 256 (fleets of different sizes at uneven shares), each fleet's total is scaled so
 * that the heaviest instance weighs 256 and is handed out to its instances by largest remainder: the
 * fleets' totals, so their shares, stay within half a unit of 256ths of exact.
 */
export function fleetServerWeights(fleets: FleetShare[]): Map<string, number[]> {
  const result = new Map<string, number[]>();
  if (fleets.length === 0) return result;
  const common = fleets.reduce((l, f) => lcm(l, f.count), 1);
  const exact = fleets.map((f) => (f.percent * common) / f.count);
  const divisor = exact.reduce((g, w) => gcd(g, w), 0);
  if (divisor > 0 && Math.max(...exact) / divisor <= maxWeight) {
    fleets.forEach((f, i) =>
      result.set(f.fleetId, new Array<number>(f.count).fill((exact[i] as number) / divisor)),
    );
    return result;
  }
  const scale = maxWeight / Math.max(...fleets.map((f) => f.percent / f.count));
  for (const f of fleets) {
    const total = Math.max(1, Math.round(f.percent * scale));
    const base = Math.floor(total / f.count);
    const extra = total - base * f.count;
    result.set(
      f.fleetId,
      Array.from({ length: f.count }, (_, i) => Math.min(maxWeight, base + (i < extra ? 1 : 0))),
    );
  }
  return result;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}
