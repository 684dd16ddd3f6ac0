import { describe, expect, it } from 'vitest';
import { whyNotServing } from '../../src/controller/serving.js';
import type { FleetInfo } from '../../src/providers/types.js';

const fleet = (id: string, version: string, running: (boolean | undefined)[]): FleetInfo => ({
  id,
  version,
  deployment: id,
  createdAt: 0,
  role: 'live',
  instances: running.map((r, i) => ({ id: `${id}-${i}`, ...(r === undefined ? {} : { up: r }) })),
});

describe('whether something serves an environment', () => {
  it('GIVEN no fleet THEN nothing is deployed', () => {
    expect(whyNotServing([], {})).toBe('nothing is deployed here');
  });

  it('GIVEN fleets but no weight on any THEN no fleet takes traffic, naming them', () => {
    expect(whyNotServing([fleet('a', 'v1', [true])], { a: 0 })).toBe('no fleet takes traffic (fleets: v1)');
  });

  it('GIVEN the live fleet has no running instance THEN it says so, naming the version', () => {
    expect(whyNotServing([fleet('a', 'v1', [false, false])], { a: 100 })).toMatch(
      /live fleet `v1` has no running instance/,
    );
    expect(whyNotServing([fleet('a', 'v1', [])], { a: 100 })).toMatch(/no running instance \(0 instances\)/);
  });

  it('GIVEN the live fleet has one running instance of two THEN it serves', () => {
    expect(whyNotServing([fleet('a', 'v1', [false, true])], { a: 100 })).toBeUndefined();
  });

  it('GIVEN a target that does not report instance state THEN its instances count as running', () => {
    expect(whyNotServing([fleet('a', 'v1', [undefined])], { a: 100 })).toBeUndefined();
  });

  it('GIVEN the target says its router is down THEN that is the reason, whatever the fleets', () => {
    expect(whyNotServing([fleet('a', 'v1', [true])], { a: 100 }, 'the agent is not running')).toBe(
      'the agent is not running',
    );
  });
});
