import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Target } from '../../src/providers/types.js';

export interface ContractSetup {
  target: Target;
  /** Two versions that start and pass health checks on this target. */
  versions: [string, string];
  /** Waits (in real or virtual time) for a fleet to be ready. */
  deadline: () => number;
  cleanup: () => Promise<void>;
}

/**
 * What every target's Fleet and TrafficRouter must do, whatever they drive. Run with describe.each
 * against the local agent and the fake AWS account.
 */
export function describeTargetContract(name: string, setup: () => Promise<ContractSetup>): void {
  describe(`${name} target contract`, () => {
    let s: ContractSetup;
    beforeEach(async () => {
      s = await setup();
    });
    afterEach(async () => {
      await s.cleanup();
    });

    const launched = async (id: string, version: string) => {
      await s.target.fleet.launch({ id, version, deployment: id });
      return s.target.fleet.waitReady(id, s.deadline(), () => {});
    };

    it('starts empty: no fleet, no weights', async () => {
      await s.target.router.ensure();
      expect(await s.target.fleet.list()).toEqual([]);
      expect(await s.target.router.readWeights()).toEqual({});
    });

    it('launches a fleet of the asked capacity and version, and lists it', async () => {
      await s.target.router.ensure();
      const fleet = await launched('d-1', s.versions[0]);
      expect(fleet).toMatchObject({ id: 'd-1', version: s.versions[0], deployment: 'd-1' });
      expect(fleet.instances).toHaveLength(2);
      expect((await s.target.fleet.list()).map((f) => f.id)).toEqual(['d-1']);
    });

    it('replaces all weights in one change and reads back exactly what was set', async () => {
      await s.target.router.ensure();
      await launched('d-1', s.versions[0]);
      await launched('d-2', s.versions[1]);
      await s.target.router.setWeights({ 'd-1': 100 });
      expect(await s.target.router.readWeights()).toEqual({ 'd-1': 100 });
      await s.target.router.setWeights({ 'd-2': 100 });
      expect(await s.target.router.readWeights()).toEqual({ 'd-2': 100 });
    });

    it('refuses to retire a fleet that takes traffic, and retires an idle one', async () => {
      await s.target.router.ensure();
      await launched('d-1', s.versions[0]);
      await launched('d-2', s.versions[1]);
      await s.target.router.setWeights({ 'd-2': 100 });
      await expect(s.target.fleet.retire('d-2')).rejects.toThrow(/takes traffic/);
      await s.target.fleet.retire('d-1');
      expect((await s.target.fleet.list()).map((f) => f.id)).toEqual(['d-2']);
    });

    it('marks a standby with the end of its rollback window', async () => {
      await s.target.router.ensure();
      await launched('d-1', s.versions[0]);
      const until = Date.now() + 3_600_000;
      await s.target.fleet.keepAsStandby('d-1', until);
      expect((await s.target.fleet.list())[0]?.standbyUntil).toBe(until);
    });
  });
}
