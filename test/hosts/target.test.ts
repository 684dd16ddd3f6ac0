import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { status } from '../../src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostsProject, type HostsProject } from './hosts-lab.js';

/**
 * The hosts target through the CLI, on real hosts: network namespaces with their own sshd, and Debian's
 * HAProxy on a load balancer host, all driven over SSH.
 */
let p: HostsProject;
beforeAll(async () => {
  p = await hostsProject();
}, 60_000);
afterAll(async () => {
  await p?.stop();
});

const words = ['artifact=catalog', 'environment=lab'];
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => p.cli(args, env);

const served = () => p.served();

describe(
  'hosts: deploy, rollback and a broken version through HAProxy, over SSH',
  { timeout: 120_000 },
  () => {
    it('GIVEN two hosts behind HAProxy WHEN v1, v2, a rollback and a broken version are deployed THEN HAProxy serves each, the broken one never takes traffic, and plan says the standby gives way', async () => {
      const v1 = await run(['deploy', ...words, 'version=v1']);
      expect(v1.code, v1.stderr).toBe(0);
      expect(await served()).toBe('v1');

      const v2 = await run(['deploy', ...words, 'version=v2']);
      expect(v2.code, v2.stderr).toBe(0);
      expect(await served()).toBe('v2');

      const plan = await run(['plan', ...words, 'version=v3']);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain('the new green takes its slot');

      const back = await run(['rollback', ...words]);
      expect(back.code, back.stderr).toBe(0);
      expect(await served()).toBe('v1');

      const broken = await run(['deploy', ...words, 'version=broken']);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toContain('broken');
      expect(await served()).toBe('v1');

      const status = await run(['status', ...words]);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toContain('v1');
    });

    it('GIVEN a version whose tarball is not gzip THEN its deploy fails saying so, leaves nothing behind, and the next deploy goes ahead', async () => {
      writeFileSync(join(p.dir, 'dist', 'catalog-corrupt.tgz'), 'not a tarball');
      const corrupt = await run(['deploy', ...words, 'version=corrupt']);
      expect(corrupt.code).toBe(1);
      expect(corrupt.stderr).toContain('unpacking');
      for (const host of p.apps)
        expect(
          readdirSync(join(host.root, 'catalog', 'releases')).filter((f) => f.startsWith('corrupt')),
        ).toEqual([]);
      const next = await run(['deploy', ...words, 'version=v3']);
      expect(next.code, next.stderr).toBe(0);
      expect(await served()).toBe('v3');
    });

    it('GIVEN catalog live in the environment WHEN another artifact of the config is deployed there THEN it is refused before anything changes, naming catalog', async () => {
      const configFile = join(p.dir, 'cutover.config.yaml');
      const config = readFileSync(configFile, 'utf8');
      const catalog = /^ {2}catalog:\n(?: {4}.*\n)+/m.exec(config)?.[0] ?? '';
      writeFileSync(configFile, config.replace(catalog, catalog + catalog.replace('catalog:', 'search:')));
      const other = await run(['deploy', 'artifact=search', 'environment=lab', 'version=v1']);
      expect(other.code).toBe(2);
      expect(other.stderr).toContain('ENVIRONMENT_TAKEN');
      expect(other.stderr).toContain('runs artifact `catalog`');
      expect(p.apps.map((h) => existsSync(join(h.root, 'search')))).toEqual([false, false]);
      expect(await served()).toBe('v3');
    });

    it('GIVEN deploys run from this runner WHEN another runner asks for history and a report THEN it lists them from the load balancer host, with who ran them', async () => {
      const other = ['--state-dir', join(p.dir, 'runner-2')];
      const history = await run(['history', ...words, '--json', ...other], { CUTOVER_ACTOR: 'ignored' });
      expect(history.code, history.stderr).toBe(0);
      const entries = (
        JSON.parse(history.stdout) as {
          detail: { entries: { version: string; source: string; by: string | null; result: string }[] };
        }
      ).detail.entries;
      expect(entries.map((e) => e.version)).toEqual(['v3', 'corrupt', 'broken', 'v2', 'v1']);
      expect(entries.every((e) => e.source === 'target')).toBe(true);
      expect(entries[0]).toMatchObject({
        by: expect.any(String),
        result: expect.stringMatching(/live|succeeded/),
      });
      const out = join(p.dir, 'other-runner.html');
      const report = await run(['report', ...words, '--out', out, ...other]);
      expect(report.code, report.stderr).toBe(0);
      expect(readFileSync(out, 'utf8')).toContain('data-source="target"');
    });

    it('GIVEN the library WHEN status resolves THEN no SSH session it opened keeps the process alive', async () => {
      const labNet = p.lb.address.split('.').slice(0, 3).join('.') + '.';
      const toLab = () =>
        (process as unknown as { _getActiveHandles(): unknown[] })
          ._getActiveHandles()
          .filter((h) => h instanceof Socket && (h.remoteAddress ?? '').startsWith(labNet)).length;
      const result = await status({
        artifact: 'catalog',
        environment: 'lab',
        config: join(p.dir, 'cutover.config.yaml'),
        stateDir: join(p.dir, 'runner-library'),
        env: { ...process.env, ...p.env },
      });
      expect(result.type).toBe('status');
      await new Promise((resolve) => setImmediate(resolve));
      expect(toLab()).toBe(0);
    });

    it('GIVEN a standby whose retire was cut short (a host unreachable) WHEN status and deploy run THEN status shows it retiring, and the deploy stops it and goes ahead', async () => {
      const file = join(p.lb.root, 'catalog', 'lab', 'fleets.json');
      const recorded = JSON.parse(readFileSync(file, 'utf8')) as {
        fleets: { role: string; version: string }[];
      };
      const standby = recorded.fleets.find((f) => f.role === 'standby');
      expect(standby?.version).toBe('v1');
      if (standby) standby.role = 'retiring';
      writeFileSync(file, JSON.stringify(recorded));
      const status = await run(['status', ...words]);
      expect(status.stdout).toMatch(/retiring: v1 \(takes no traffic/);
      const next = await run(['deploy', ...words, 'version=v2']);
      expect(next.code, next.stderr).toBe(0);
      expect(await served()).toBe('v2');
      const after = JSON.parse(readFileSync(file, 'utf8')) as { fleets: { role: string; version: string }[] };
      expect(after.fleets.map((f) => [f.version, f.role]).sort()).toEqual([
        ['v2', 'live'],
        ['v3', 'standby'],
      ]);
    });

    it('GIVEN haproxy.socket naming no socket WHEN status and rollback run THEN each fails saying HAProxy is not there, and where', async () => {
      const configFile = join(p.dir, 'cutover.config.yaml');
      const config = readFileSync(configFile, 'utf8');
      writeFileSync(
        configFile,
        config.replace(`socket: ${p.lb.root}/admin.sock`, `socket: ${p.lb.root}/nosuch.sock`),
      );
      try {
        for (const command of ['status', 'rollback']) {
          const result = await run([command, ...words]);
          expect(result.code).toBe(1);
          expect(result.stderr).toContain('HAPROXY_UNREACHABLE');
          expect(result.stderr).toContain(`${p.lb.root}/nosuch.sock does not exist on ${p.lb.address}`);
        }
      } finally {
        writeFileSync(configFile, config);
      }
    });

    it('GIVEN a hosts environment WHEN down runs THEN it is refused, saying how to stop the fleets on the hosts', async () => {
      const down = await run(['down', 'environment=lab']);
      expect(down.code).toBe(2);
      expect(down.stderr).toContain('DOWN_NOT_LOCAL');
      expect(down.stderr).toContain('kill -s TERM -- -PID');
    });

    it('GIVEN the environment THEN haproxy-config prints every host in both slots at weight 0', async () => {
      const printed = await run(['haproxy-config', 'environment=lab']);
      expect(printed.code, printed.stderr).toBe(0);
      for (const host of p.apps)
        for (const slot of [8001, 8002])
          expect(printed.stdout).toContain(`server ${host.address}-${slot} ${host.address}:${slot} weight 0`);
    });
  },
);
