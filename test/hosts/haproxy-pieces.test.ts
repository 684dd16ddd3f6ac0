import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { connections } from '../../src/providers/hosts/connections.js';
import { HaproxyApi } from '../../src/providers/hosts/haproxy-api.js';
import type { HostSession } from '../../src/providers/hosts/ssh.js';
import { configSchema } from '../../src/config/schema.js';
import type { HostsEnvironmentConfig } from '../../src/providers/hosts/config.js';
import { haproxyConfig } from '../../src/providers/hosts/haproxy-servers.js';
import { parseServersState, weightBatch } from '../../src/providers/hosts/haproxy-weights.js';

function hostsEnv(extra: Record<string, unknown> = {}): HostsEnvironmentConfig {
  const parsed = configSchema.parse({
    artifacts: { catalog: { command: ['node', 'server.js'] } },
    environments: {
      prod: {
        target: 'hosts',
        hosts: [{ address: '10.0.0.11' }, { address: '10.0.0.12', port: 2222, root: '/srv/cutover' }],
        ssh: { user: 'deploy' },
        slots: [8001, 8002],
        haproxy: { host: { address: '10.0.0.10' }, backend: 'catalog' },
        ...extra,
      },
    },
  });
  return parsed.environments.prod as HostsEnvironmentConfig;
}

describe('hosts: the HAProxy backend cutover drives', () => {
  it('GIVEN two hosts and two slots THEN haproxy-config declares all four servers at weight 0, and the lines that keep weights across a reload', () => {
    const text = haproxyConfig(hostsEnv(), 'catalog', 'prod');
    expect(text.match(/^ {4}server .*$/gm)).toEqual([
      '    server 10.0.0.11-8001 10.0.0.11:8001 weight 0 check inter 1000ms',
      '    server 10.0.0.12-8001 10.0.0.12:8001 weight 0 check inter 1000ms',
      '    server 10.0.0.11-8002 10.0.0.11:8002 weight 0 check inter 1000ms',
      '    server 10.0.0.12-8002 10.0.0.12:8002 weight 0 check inter 1000ms',
    ]);
    expect(text).toContain('server-state-file /var/lib/haproxy/server-state');
    expect(text).toContain('load-server-state-from-file global');
    expect(text).toContain('stats socket /run/haproxy/admin.sock mode 600 level admin');
    expect(text).toContain('backend catalog');
  });

  it('GIVEN a shift THEN the batch raises green before it lowers blue, so no moment has every server at 0', () => {
    const now = { 'a-8001': 100, 'b-8001': 100, 'a-8002': 0, 'b-8002': 0 };
    const next = { 'a-8001': 90, 'b-8001': 90, 'a-8002': 10, 'b-8002': 10 };
    const batch = weightBatch('catalog', now, next);
    expect(batch).toBe(
      'set weight catalog/a-8002 10; set weight catalog/b-8002 10; set weight catalog/a-8001 90; set weight catalog/b-8001 90',
    );
    // Applied in order, every prefix of the batch keeps some weight up.
    const state = { ...now };
    for (const command of batch.split('; ')) {
      const [, , target, weight] = command.split(' ');
      state[(target ?? '').split('/')[1] as keyof typeof state] = Number(weight);
      expect(Object.values(state).some((w) => w > 0)).toBe(true);
    }
    expect(weightBatch('catalog', next, next)).toBe('');
    // A server of the user's own in the same backend is never touched.
    expect(weightBatch('catalog', { ...next, mine: 5 }, next)).toBe('');
  });

  it('GIVEN HAProxy 2.6’s show servers state THEN the weights are read by column name', () => {
    const text = [
      '1',
      '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change',
      '3 catalog 1 10.0.0.1-8001 127.0.0.1 2 0 50 0 0',
      '3 catalog 2 10.0.0.1-8002 127.0.0.1 2 0 0 0 0',
      '4 other 1 x-1 127.0.0.1 2 0 7 0 0',
      '',
    ].join('\n');
    expect(parseServersState(text, 'catalog')).toEqual({ '10.0.0.1-8001': 50, '10.0.0.1-8002': 0 });
    expect(() => parseServersState('No such backend.\n', 'catalog')).toThrow(/gave no header/);
  });

  it('GIVEN bad hosts config THEN it is refused before anything changes, saying which key', () => {
    const bad = (extra: Record<string, unknown>) => () => hostsEnv(extra);
    expect(bad({ slots: [8001, 8001] })).toThrow(/the two slots must differ/);
    expect(bad({ hosts: [] })).toThrow(/at least one host/);
    expect(bad({ hosts: [{ address: '-oProxyCommand=x' }] })).toThrow(/host name or IP address/);
    expect(bad({ hosts: [{ address: 'a' }, { address: 'a' }] })).toThrow(/each host is listed once/);
    expect(bad({ ssh: { user: 'deploy; rm -rf /' } })).toThrow(/user name/);
    expect(bad({ haproxy: { host: { address: 'lb' }, backend: 'a b' } })).toThrow(/backend name/);
    expect(hostsEnv().ssh.checkHostKeys).toBe(true);
    expect(hostsEnv().hosts[0]?.root).toBe('/opt/cutover');
  });
});

describe('hosts: refusals before anything is tried', () => {
  it('GIVEN no key and no ssh-agent THEN connecting is bad input (SSH_KEY_MISSING, exit 2), tried on no host', async () => {
    await expect(connections(hostsEnv(), {}).all()).rejects.toMatchObject({ code: 'SSH_KEY_MISSING' });
  });

  it('GIVEN a backend HAProxy does not have THEN it is HAPROXY_BACKEND_UNKNOWN, naming it, not an internal error', async () => {
    // HAProxy's answer to `show servers state nope`, through a stand-in for the SSH stream.
    const session = {
      openSocket: async () =>
        new Duplex({
          read() {},
          write(_chunk, _encoding, done) {
            done();
          },
          final(done) {
            this.push("Can't find backend.\n");
            this.push(null);
            done();
          },
        }),
    } as unknown as HostSession;
    const api = new HaproxyApi(async () => session, '/run/haproxy/admin.sock', 'nope');
    await expect(api.weights()).rejects.toMatchObject({ code: 'HAPROXY_BACKEND_UNKNOWN' });
  });
});
