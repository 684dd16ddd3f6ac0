import { backendName } from './haproxy-config.js';
import { maxWeight, type HaproxyServer } from './haproxy-weights.js';
import { num, type StatRow } from '../haproxy/stat.js';

/**
 * From the servers HAProxy has (`show stat`) to the servers the table wants, as one batch of runtime
 * commands, and the check that the batch took. HAProxy runs a batch's commands one after the other and
 * requests keep arriving between them, so the order is what keeps each in-between state safe:
 * 1. new servers are added (they start in maintenance, so they get nothing until made ready) with
 *    their weight and made ready, and weights that grow are raised;
 * 2. then weights that shrink are lowered;
 * 3. then servers that left the table are put in maintenance and deleted.
 * The total weight therefore never drops to zero on the way from one table with traffic to another, and
 * no server takes traffic the table does not give it, except for the few microseconds in which a fleet
 * that gains traffic already has its new weight and the one that loses it not yet.
 *
 * A server HAProxy will not delete yet (it still holds a connection) stays in maintenance, where it
 * takes nothing, and the next batch tries again.
 */

const server = (name: string) => `${backendName}/${name}`;

/** What a server line in the config has by default, and a dynamic server only when given. */
const idleConnections = 'pool-max-conn -1 pool-purge-delay 5s';

export interface ServerState {
  name: string;
  address: string;
  weight: number;
  maintenance: boolean;
}

export function serverStates(rows: StatRow[]): ServerState[] {
  return rows
    .filter((row) => row.svname !== 'BACKEND' && row.svname !== 'FRONTEND')
    .map((row) => ({
      name: row.svname ?? '',
      address: row.addr ?? '',
      // uweight: the weight set by the config or `set weight`, also while in maintenance.
      weight: num(row, 'uweight'),
      maintenance: (row.status ?? '').startsWith('MAINT'),
    }));
}

export function batch(current: ServerState[], desired: HaproxyServer[]): string[] {
  const have = new Map(current.map((s) => [s.name, s]));
  const wanted = new Set(desired.map((s) => s.name));
  const raise: string[] = [];
  const lower: string[] = [];
  const remove: string[] = [];
  const retire = (name: string, maintenance: boolean) => {
    if (!maintenance) remove.push(`set server ${server(name)} state maint`);
    remove.push(`del server ${server(name)}`);
  };
  for (const want of desired) {
    const weight = Math.max(0, Math.min(maxWeight, Math.round(want.weight)));
    const now = have.get(want.name);
    if (now && now.address !== want.address) {
      // Never the case for names made of a fleet and a port; replaced in place if it ever is.
      if (!now.maintenance) raise.push(`set server ${server(want.name)} state maint`);
      raise.push(`del server ${server(want.name)}`);
    }
    if (!now || now.address !== want.address) {
      // Dynamic servers keep no idle connections unless asked (2.6): without these, every request
      // opened a new connection to its instance, at a third of the throughput.
      raise.push(`add server ${server(want.name)} ${want.address} weight ${weight} ${idleConnections}`);
      raise.push(`set server ${server(want.name)} state ready`);
      continue;
    }
    const setWeight = `set server ${server(want.name)} weight ${weight}`;
    if (now.maintenance) {
      // Weighed before it is back, so that it never takes traffic by the weight it had.
      if (now.weight !== weight) raise.push(setWeight);
      raise.push(`set server ${server(want.name)} state ready`);
    } else if (now.weight !== weight) {
      (weight > now.weight ? raise : lower).push(setWeight);
    }
  }
  for (const now of current) if (!wanted.has(now.name)) retire(now.name, now.maintenance);
  return [...raise, ...lower, ...remove];
}

/** What differs between HAProxy's servers and the table's, in words; empty when the table is served. */
export function differences(current: ServerState[], desired: HaproxyServer[]): string[] {
  const have = new Map(current.map((s) => [s.name, s]));
  const wanted = new Set(desired.map((s) => s.name));
  const problems: string[] = [];
  for (const want of desired) {
    const now = have.get(want.name);
    if (!now) problems.push(`${want.name} is missing`);
    else if (now.address !== want.address)
      problems.push(`${want.name} points at ${now.address}, not ${want.address}`);
    else if (now.maintenance) problems.push(`${want.name} is in maintenance`);
    else if (now.weight !== want.weight)
      problems.push(`${want.name} weighs ${now.weight}, not ${want.weight}`);
  }
  for (const now of current) {
    // Left in maintenance, it takes no traffic: its deletion is only late.
    if (!wanted.has(now.name) && !now.maintenance) problems.push(`${now.name} should be gone`);
  }
  return problems;
}
