import { describe, expect, it } from 'vitest';
import { unsafeTrafficChange } from '../../src/controller/safety.js';
import type { FleetInfo, FleetRole } from '../../src/providers/types.js';

const fleet = (id: string, role: FleetRole, up: boolean[] = [true, true]): FleetInfo => ({
  id,
  version: id,
  deployment: id,
  createdAt: 0,
  role,
  instances: up.map((u, i) => ({ id: `${id}-${i}`, up: u })),
});

const fleets = [
  fleet('blue', 'live'),
  fleet('green', 'green'),
  fleet('old', 'standby'),
  fleet('kept', 'failed'),
  fleet('going', 'retiring'),
  fleet('dead', 'standby', [false, false]),
  fleet('empty', 'standby', []),
];

describe('the safety check before every traffic change', () => {
  it.each([
    ['all to green', { green: 100 }, { blue: 100 }, undefined],
    ['split blue and green', { green: 10, blue: 90 }, { blue: 100 }, undefined],
    ['back to the standby', { old: 100 }, { blue: 100 }, undefined],
    ['from nothing to blue', { blue: 100 }, {}, undefined],
  ])('allows %s', (_label, next, current, leaving) => {
    expect(unsafeTrafficChange({ next, current, fleets, leaving })).toBeUndefined();
  });

  it.each([
    ['a fleet that does not exist', { gone: 100 }, { blue: 100 }, /does not exist/],
    ['a failed fleet', { kept: 100 }, { blue: 100 }, /failed its deploy/],
    ['a retiring fleet', { going: 100 }, { blue: 100 }, /being retired/],
    ['a fleet with no instance up', { dead: 100 }, { blue: 100 }, /no running instance/],
    ['a fleet with no instance at all', { empty: 100 }, { blue: 100 }, /no running instance/],
    ['weights that do not add up to 100', { blue: 50, green: 40 }, { blue: 100 }, /add up to 90/],
    ['a weight above 100', { blue: 150 }, { blue: 100 }, /outside 0–100/],
    ['nothing while blue serves', {}, { blue: 100 }, /leave nothing/],
  ])('refuses %s', (_label, next, current, reason) => {
    expect(unsafeTrafficChange({ next, current, fleets })).toMatch(reason);
  });

  it('allows nothing when the only fleet serving is the failed one being left, as a first deploy that failed', () => {
    expect(
      unsafeTrafficChange({ next: {}, current: { green: 100 }, fleets, leaving: 'green' }),
    ).toBeUndefined();
  });

  it('allows nothing when what serves has no instance up, and refuses it when blue still could', () => {
    expect(unsafeTrafficChange({ next: {}, current: { dead: 100 }, fleets })).toBeUndefined();
    expect(unsafeTrafficChange({ next: {}, current: { dead: 50, blue: 50 }, fleets })).toMatch(/blue/);
  });
});
