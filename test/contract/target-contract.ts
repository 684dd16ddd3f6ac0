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

    /** Launches and waits; the target names the fleet (an Auto Scaling group's name on aws). */
    const launched = async (deployment: string, version: string) => {
      const fleet = await s.target.fleet.launch({ id: deployment, version, deployment });
      return s.target.fleet.waitReady(fleet.id, s.deadline(), () => {});
    };

    it('starts empty: no fleet, no weights', async () => {
      await s.target.router.ensure();
      expect(await s.target.fleet.list()).toEqual([]);
      expect(await s.target.router.readWeights()).toEqual({});
    });

    it('launches a fleet of the asked capacity and version, and lists it', async () => {
      await s.target.router.ensure();
      const fleet = await launched('d-1', s.versions[0]);
      expect(fleet).toMatchObject({ version: s.versions[0], deployment: 'd-1' });
      expect(fleet.instances).toHaveLength(2);
      expect((await s.target.fleet.list()).map((f) => f.id)).toEqual([fleet.id]);
    });

    it('replaces all weights in one change and reads back exactly what was set', async () => {
      await s.target.router.ensure();
      const one = await launched('d-1', s.versions[0]);
      await s.target.router.setWeights({ [one.id]: 100 });
      const two = await launched('d-2', s.versions[1]);
      expect(await s.target.router.readWeights()).toEqual({ [one.id]: 100 });
      await s.target.router.setWeights({ [two.id]: 100 });
      expect(await s.target.router.readWeights()).toEqual({ [two.id]: 100 });
    });

    it('refuses to retire a fleet that takes traffic, and retires an idle one', async () => {
      await s.target.router.ensure();
      const one = await launched('d-1', s.versions[0]);
      await s.target.router.setWeights({ [one.id]: 100 });
      const two = await launched('d-2', s.versions[1]);
      await s.target.router.setWeights({ [two.id]: 100 });
      await expect(s.target.fleet.retire(two.id)).rejects.toThrow(/takes traffic/);
      await s.target.fleet.retire(one.id);
      expect((await s.target.fleet.list()).map((f) => f.id)).toEqual([two.id]);
    });

    it('marks a standby with the end of its rollback window', async () => {
      await s.target.router.ensure();
      const one = await launched('d-1', s.versions[0]);
      const until = Date.UTC(2030, 0, 1);
      await s.target.fleet.setRole(one.id, { role: 'standby', until });
      expect((await s.target.fleet.list())[0]).toMatchObject({ role: 'standby', standbyUntil: until });
    });

    it('records the roles a fleet goes through, and a fleet made live again has no window', async () => {
      await s.target.router.ensure();
      const one = await launched('d-1', s.versions[0]);
      expect((await s.target.fleet.list())[0]?.role).toBe('green');
      await s.target.fleet.setRole(one.id, { role: 'standby', until: Date.UTC(2030, 0, 1) });
      await s.target.fleet.setRole(one.id, { role: 'live', previousVersion: s.versions[1] });
      const live = (await s.target.fleet.list())[0];
      expect(live?.role).toBe('live');
      expect(live?.standbyUntil).toBeUndefined();
      await s.target.fleet.setRole(one.id, { role: 'failed' });
      expect((await s.target.fleet.list())[0]?.role).toBe('failed');
    });
  });
}
