import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batch, differences, type ServerState } from '../../src/providers/local/haproxy-batch.js';
import { desiredServers, fleetServerWeights, maxWeight } from '../../src/providers/local/haproxy-weights.js';
import type { RouterTable } from '../../src/providers/local/service-router.js';

const urls = (first: number, count: number) =>
  Array.from({ length: count }, (_, i) => `http://127.0.0.1:${first + i}`);

/** Each fleet's share of the total weight, in percent. */
function shares(table: RouterTable): Record<string, number> {
  const servers = desiredServers(table);
  const total = servers.reduce((sum, s) => sum + s.weight, 0);
  const byFleet: Record<string, number> = {};
  for (const s of servers) byFleet[s.fleetId] = (byFleet[s.fleetId] ?? 0) + (100 * s.weight) / total;
  return byFleet;
}

describe('HAProxy server weights from a routing table', () => {
  it('GIVEN two fleets of two at 90/10 THEN the instances weigh 9, 9, 1, 1: exact, in small numbers', () => {
    const table: RouterTable = {
      fleets: { blue: urls(20_000, 2), green: urls(20_100, 2) },
      weights: { blue: 90, green: 10 },
      down: [],
    };
    expect(desiredServers(table).map((s) => [s.name, s.address, s.weight])).toEqual([
      ['blue_20000', '127.0.0.1:20000', 9],
      ['blue_20001', '127.0.0.1:20001', 9],
      ['green_20100', '127.0.0.1:20100', 1],
      ['green_20101', '127.0.0.1:20101', 1],
    ]);
  });

  it('GIVEN an instance reported down WHEN its sibling is up THEN it weighs 0 and the sibling carries the fleet; WHEN both are down THEN both are tried', () => {
    const table: RouterTable = {
      fleets: { blue: urls(20_000, 2), green: urls(20_100, 2) },
      weights: { blue: 50, green: 50 },
      down: ['http://127.0.0.1:20000'],
    };
    expect(desiredServers(table).map((s) => s.weight)).toEqual([0, 2, 1, 1]);
    expect(shares(table)).toEqual({ blue: 50, green: 50 });
    const allDown = { ...table, down: urls(20_000, 2) };
    expect(desiredServers(allDown).map((s) => s.weight)).toEqual([1, 1, 1, 1]);
  });

  it('GIVEN a fleet without weight THEN its instances are servers of weight 0, ready for the switch', () => {
    const table: RouterTable = {
      fleets: { blue: urls(20_000, 2), green: urls(20_100, 3) },
      weights: { blue: 100 },
      down: [],
    };
    expect(desiredServers(table).map((s) => s.weight)).toEqual([1, 1, 0, 0, 0]);
  });

  it('GIVEN any fleets of 1 to 32 instances and whole percentages THEN every weight is 0 to 256 and each fleet with weight gets its share within a tenth of a point or one weight unit an instance', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ percent: fc.integer({ min: 1, max: 100 }), count: fc.integer({ min: 1, max: 32 }) }),
          {
            minLength: 1,
            maxLength: 3,
          },
        ),
        (fleets) => {
          const total = fleets.reduce((sum, f) => sum + f.percent, 0);
          const table: RouterTable = { fleets: {}, weights: {}, down: [] };
          fleets.forEach((f, i) => {
            table.fleets[`f${i}`] = urls(20_000 + 100 * i, f.count);
            table.weights[`f${i}`] = f.percent;
          });
          for (const s of desiredServers(table)) {
            expect(s.weight).toBeGreaterThanOrEqual(0);
            expect(s.weight).toBeLessThanOrEqual(maxWeight);
            expect(Number.isInteger(s.weight)).toBe(true);
          }
          const got = shares(table);
          // Whole weights of at most 256 cannot split every share finely: 2% over 12 instances beside 44% on
          // one is 1 a server at best. A fleet is off by less than a tenth of a point, or by less than one
          // weight unit on each of its instances, whichever is looser.
          const weightSum = desiredServers(table).reduce((sum, s) => sum + s.weight, 0);
          fleets.forEach((f, i) =>
            expect(Math.abs((got[`f${i}`] ?? 0) - (100 * f.percent) / total)).toBeLessThan(
              Math.max(0.1, (100 * f.count) / weightSum),
            ),
          );
        },
      ),
    );
  });

  it('GIVEN a split that does not fit exactly THEN the fleet totals are scaled to 256 and handed out by largest remainder', () => {
    const weights = fleetServerWeights([
      { fleetId: 'a', percent: 97, count: 3 },
      { fleetId: 'b', percent: 3, count: 32 },
    ]);
    expect(weights.get('a')).toEqual([256, 256, 256]);
    // 3% of 768 is about 23.75: 24 split over 32 instances, 24 of them at 1.
    expect(weights.get('b')?.reduce((sum, w) => sum + w, 0)).toBe(24);
  });
});

describe('the runtime batch that brings HAProxy to the table', () => {
  const state = (name: string, port: number, weight: number, maintenance = false): ServerState => ({
    name,
    address: `127.0.0.1:${port}`,
    weight,
    maintenance,
  });

  it('GIVEN blue live WHEN green takes all THEN green is added and raised before blue is lowered, and a retired fleet goes last', () => {
    const current = [state('blue_1', 1, 1), state('blue_2', 2, 1), state('old_9', 9, 0)];
    const table: RouterTable = {
      fleets: { blue: urls(1, 2), green: urls(3, 2) },
      weights: { green: 100 },
      down: [],
    };
    expect(batch(current, desiredServers(table))).toEqual([
      'add server fleets/green_3 127.0.0.1:3 weight 1 pool-max-conn -1 pool-purge-delay 5s',
      'set server fleets/green_3 state ready',
      'add server fleets/green_4 127.0.0.1:4 weight 1 pool-max-conn -1 pool-purge-delay 5s',
      'set server fleets/green_4 state ready',
      'set server fleets/blue_1 weight 0',
      'set server fleets/blue_2 weight 0',
      'set server fleets/old_9 state maint',
      'del server fleets/old_9',
    ]);
  });

  it('GIVEN a server left in maintenance by a deletion HAProxy refused THEN the next batch only deletes it, and it counts as no difference meanwhile', () => {
    const current = [state('blue_1', 1, 1), state('old_9', 9, 0, true)];
    const table: RouterTable = { fleets: { blue: urls(1, 1) }, weights: { blue: 100 }, down: [] };
    const desired = desiredServers(table);
    expect(batch(current, desired)).toEqual(['del server fleets/old_9']);
    expect(differences(current, desired)).toEqual([]);
    expect(differences([state('blue_1', 1, 3), state('old_9', 9, 0)], desired)).toEqual([
      'blue_1 weighs 3, not 1',
      'old_9 should be gone',
    ]);
  });

  it('GIVEN a server of the table in maintenance THEN it is weighed before it is made ready', () => {
    const table: RouterTable = { fleets: { blue: urls(1, 1) }, weights: { blue: 100 }, down: [] };
    expect(batch([state('blue_1', 1, 0, true)], desiredServers(table))).toEqual([
      'set server fleets/blue_1 weight 1',
      'set server fleets/blue_1 state ready',
    ]);
  });
});
