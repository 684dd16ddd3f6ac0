import { execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { configSchema } from '../../src/config/schema.js';
import { cli } from '../helpers/cli.js';
import type { HostsEnvironmentConfig } from '../../src/providers/hosts/config.js';
import { haproxyConfig } from '../../src/providers/hosts/haproxy-servers.js';
import { startLab, type Lab, type LabHost } from '../helpers/netlab.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A hosts environment on the lab: two app hosts and a load balancer host running Debian's HAProxy with
 * the backend `cutover haproxy-config` prints, and a project folder with the config and a release
 * tarball of the demo artifact for each version the tests deploy.
 */
export interface HostsProject {
  lab: Lab;
  dir: string;
  apps: LabHost[];
  lb: LabHost;
  /** Where users reach the service: HAProxy's frontend on the load balancer host. */
  endpoint: string;
  /** The variables every CLI run needs (the key). */
  env: NodeJS.ProcessEnv;
  startHaproxy(): Promise<void>;
  /** Runs the CLI in the project with the key (and `env`). */
  cli(args: string[], env?: NodeJS.ProcessEnv): ReturnType<typeof cli>;
  /** The version HAProxy's frontend serves now. */
  served(): Promise<string>;
  stop(): Promise<void>;
}

const demo = resolve('examples/catalog/server.mjs');

export async function hostsProject(versions: string[] = ['v1', 'v2', 'v3', 'broken']): Promise<HostsProject> {
  const lab = await startLab({ hosts: 3 });
  const [a, b, lb] = lab.hosts as [LabHost, LabHost, LabHost];
  const project = tempDir('cutover-hosts-');
  const dir = project.path;
  // One tarball a version: the same server, as a build would package it.
  const src = join(dir, 'build');
  mkdirSync(src);
  copyFileSync(demo, join(src, 'server.mjs'));
  mkdirSync(join(dir, 'dist'));
  for (const v of versions)
    execFileSync('tar', ['-czf', join(dir, 'dist', `catalog-${v}.tgz`), '-C', src, 'server.mjs']);
  const config = `artifacts:
  catalog:
    package: dist/catalog-\${version}.tgz
    command: [${JSON.stringify(process.execPath)}, server.mjs]
environments:
  lab:
    target: hosts
    hosts:
      - { address: ${a.address}, root: ${a.root} }
      - { address: ${b.address}, root: ${b.root} }
    ssh:
      user: root
      key: \${SSH_KEY}
      knownHosts: ${lab.knownHostsFile}
      connectTimeout: \${CONNECT_TIMEOUT:-3s}
    slots: [8001, 8002]
    haproxy:
      host: { address: ${lb.address}, root: ${lb.root} }
      socket: ${lb.root}/admin.sock
      backend: catalog
      stateFile: ${lb.root}/server-state
      publicUrl: http://${lb.address}:8080/
    bake: \${BAKE:-300ms}
    rollbackWindow: 10m
    drainTimeout: 2s
    healthCheck:
      interval: 100ms
      timeout: 1s
      healthyThreshold: 2
      unhealthyThreshold: 2
      readyTimeout: 15s
`;
  writeFileSync(join(dir, 'cutover.config.yaml'), config);
  const env = configSchema.parse({
    artifacts: { catalog: { command: ['node'] } },
    environments: {
      lab: {
        target: 'hosts',
        hosts: [
          { address: a.address, root: a.root },
          { address: b.address, root: b.root },
        ],
        ssh: { user: 'root' },
        slots: [8001, 8002],
        haproxy: {
          host: { address: lb.address, root: lb.root },
          socket: `${lb.root}/admin.sock`,
          backend: 'catalog',
          stateFile: `${lb.root}/server-state`,
        },
        healthCheck: { interval: '100ms' },
      },
    },
  }).environments.lab as HostsEnvironmentConfig;
  // The user's haproxy.cfg: their frontend, and the lines cutover prints.
  const printed = haproxyConfig(env, 'catalog', 'lab');
  const haproxyCfg = `global
    stats socket ${lb.root}/admin.sock mode 600 level admin
    server-state-file ${lb.root}/server-state
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    load-server-state-from-file global
    option redispatch
    retries 2
frontend www
    bind ${lb.address}:8080
    default_backend catalog
${printed.slice(printed.indexOf('backend '))}`;
  writeFileSync(join(lb.root, 'haproxy.cfg'), haproxyCfg);
  let haproxy: ChildProcess | undefined;
  const startHaproxy = async () => {
    haproxy = lab.spawnIn(lb, ['/usr/sbin/haproxy', '-db', '-f', join(lb.root, 'haproxy.cfg')], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 50; i++) {
      try {
        execFileSync('test', ['-S', join(lb.root, 'admin.sock')]);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error('HAProxy did not open its socket');
  };
  await startHaproxy();
  return {
    lab,
    dir,
    apps: [a, b],
    lb,
    endpoint: `http://${lb.address}:8080/`,
    env: { SSH_KEY: lab.clientKey },
    startHaproxy,
    cli: (args, env = {}) => cli(dir, args, { SSH_KEY: lab.clientKey, ...env }),
    async served() {
      const response = await request(`http://${lb.address}:8080/`);
      return ((await response.body.json()) as { version: string }).version;
    },
    async stop() {
      haproxy?.kill('SIGKILL');
      await lab.stop();
      project.remove();
    },
  };
}
