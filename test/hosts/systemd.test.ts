import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeSystemd, type FakeSystemd } from './fake-systemctl.js';
import type { LabHost } from '../helpers/netlab.js';
import { hostsProject, type HostsProject } from './hosts-lab.js';

/**
 * The hosts target's systemd path, through the CLI on the lab: the first app host looks booted with
 * systemd and has a stand-in systemctl (fake-systemctl.ts: this machine runs no systemd), the second
 * has neither. With `supervisor: auto` each host gets what it can: units on the first, the sh
 * supervisor on the second.
 */
let p: HostsProject;
let systemd: FakeSystemd;
/** The host with systemd, and the one without. */
let withUnits: LabHost;
let without: LabHost;
beforeAll(async () => {
  p = await hostsProject(['v1', 'v2']);
  [withUnits, without] = p.apps as [LabHost, LabHost];
  systemd = fakeSystemd(p.lab, withUnits);
}, 60_000);
afterAll(async () => {
  await p?.stop();
});

const words = ['artifact=catalog', 'environment=lab'];
const unit = (slot: number) => `cutover-catalog-lab-${slot}.service`;
const slotDir = (host: LabHost, slot: number) => join(host.root, 'catalog', 'lab', `slot-${slot}`);
const launches = (host: LabHost, slot: number) =>
  readFileSync(join(slotDir(host, slot), 'log'), 'utf8').match(/^cutover: \S+ starting /gm)?.length ?? 0;
/** The calls since the last look. */
let seen = 0;
const newCalls = () => {
  const all = systemd.calls();
  const fresh = all.slice(seen);
  seen = all.length;
  return fresh;
};

describe('hosts: systemd supervises slots where it runs', { timeout: 240_000 }, () => {
  it('GIVEN one host with systemd and one without WHEN v1, v2, a rollback and v2 again are deployed THEN units run the slots on the first (written, reloaded, enabled, restarted, checked, stopped, disabled), the sh supervisor on the second, and HAProxy serves each', async () => {
    const v1 = await p.cli(['deploy', ...words, 'version=v1']);
    expect(v1.code, v1.stderr).toBe(0);
    expect(await p.served()).toBe('v1');
    const first = newCalls();
    expect(first.slice(0, 3)).toEqual(['daemon-reload', `enable ${unit(8001)}`, `restart ${unit(8001)}`]);
    expect(first.slice(3).every((c) => c === `is-active --quiet ${unit(8001)}`)).toBe(true);
    const text = readFileSync(join(systemd.units, unit(8001)), 'utf8');
    expect(text).toContain(`ExecStart="${process.execPath}" "server.mjs"`);
    expect(text).toContain(`WorkingDirectory=${withUnits.root}/catalog/releases/v1`);
    expect(text).toContain(`StandardOutput=append:${slotDir(withUnits, 8001)}/log`);
    expect(text).toContain('TimeoutStopSec=2');
    expect(text).toContain('WantedBy=multi-user.target');
    // Each slot remembers its supervisor: a unit on the first host, a pid on the second.
    expect(readFileSync(join(slotDir(withUnits, 8001), 'unit'), 'utf8')).toBe(`system ${unit(8001)}\n`);
    expect(existsSync(join(slotDir(withUnits, 8001), 'pid'))).toBe(false);
    expect(existsSync(join(slotDir(without, 8001), 'unit'))).toBe(false);
    expect(existsSync(join(slotDir(without, 8001), 'pid'))).toBe(true);
    // The variables reach the app through the unit's EnvironmentFile, readable by its owner only.
    expect(readFileSync(join(slotDir(withUnits, 8001), 'env.systemd'), 'utf8')).toContain('VERSION="v1"');

    const v2 = await p.cli(['deploy', ...words, 'version=v2']);
    expect(v2.code, v2.stderr).toBe(0);
    expect(await p.served()).toBe('v2');
    expect(newCalls()).toContain(`restart ${unit(8002)}`);

    const back = await p.cli(['rollback', ...words]);
    expect(back.code, back.stderr).toBe(0);
    expect(await p.served()).toBe('v1');
    // Rollback starts nothing: traffic goes back to the unit still running.
    expect(newCalls().filter((c) => c.startsWith('restart'))).toEqual([]);

    // v2 again: the standby (v2 in 8002) gives way first, stopped through systemctl, then starts anew.
    const again = await p.cli(['deploy', ...words, 'version=v2']);
    expect(again.code, again.stderr).toBe(0);
    expect(await p.served()).toBe('v2');
    const calls = newCalls();
    const stopAt = calls.indexOf(`stop ${unit(8002)}`);
    expect(stopAt).toBeGreaterThanOrEqual(0);
    expect(calls.slice(stopAt + 1, stopAt + 4)).toEqual([
      `is-active --quiet ${unit(8002)}`,
      `disable ${unit(8002)}`,
      'daemon-reload',
    ]);
    expect(calls.indexOf(`restart ${unit(8002)}`)).toBeGreaterThan(stopAt);
    // A relaunch appends to the slot's log, under either supervisor: both runs' lines are there.
    expect(launches(withUnits, 8002)).toBe(2);
    expect(launches(without, 8002)).toBe(2);
  });

  it('GIVEN supervisor: process WHEN deployed THEN the host with systemd gets the sh supervisor, the unit of the slot it takes is stopped and removed; GIVEN supervisor: systemd THEN a host without it refuses the deploy before anything changes, naming the host and why', async () => {
    const config = join(p.dir, 'cutover.config.yaml');
    const original = readFileSync(config, 'utf8');
    writeFileSync(config, `${original}    supervisor: process\n`);
    // v1 is the standby in 8001, under a unit: it gives way to the new green.
    const v1 = await p.cli(['deploy', ...words, 'version=v1']);
    expect(v1.code, v1.stderr).toBe(0);
    expect(await p.served()).toBe('v1');
    const calls = newCalls();
    expect(calls).toContain(`stop ${unit(8001)}`);
    expect(calls.filter((c) => c.startsWith('restart'))).toEqual([]);
    expect(existsSync(join(systemd.units, unit(8001)))).toBe(false);
    expect(existsSync(join(slotDir(withUnits, 8001), 'unit'))).toBe(false);
    expect(existsSync(join(slotDir(withUnits, 8001), 'pid'))).toBe(true);

    writeFileSync(config, `${original}    supervisor: systemd\n`);
    const forced = await p.cli(['deploy', ...words, 'version=v2']);
    // Found in preflight: bad input (exit 2), before the standby gives way or anything starts.
    expect(forced.code).toBe(2);
    expect(forced.events.at(-1)).toMatchObject({
      code: 'SYSTEMD_UNAVAILABLE',
      message: `${without.address}:22: \`supervisor: systemd\` but cutover cannot manage systemd units there: systemd does not run here (no /run/systemd/system)`,
    });
    expect(newCalls()).toEqual([]);
    expect(await p.served()).toBe('v1');
    const status = await p.cli(['status', ...words]);
    expect(status.stdout).toContain('v2');
  });
});
