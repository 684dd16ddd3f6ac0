import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, relative, resolve } from 'node:path';

/**
 * Shared pieces of the benchmark scripts. They print numbers; they assert nothing. They reach cutover only
 * through its CLI (and, to find an instance's pid, the agent's state file), never through src/.
 */

export const cli = resolve('bin/cutover.js');

export function runCli(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd,
      env: { ...process.env, ...env, CI: 'true' },
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('close', (code) => done({ code, stderr, stdout }));
  });
}

/** The demo artifact's `artifacts:` section, for a bench's config: this Node, the example server. */
export function demoArtifactYaml(): string {
  return `artifacts:
  catalog:
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(resolve('examples/catalog/server.mjs'))}]
`;
}

/** Where the benches write the report of each run they make: beside the repo, ignored by git. */
export const reportsDir = resolve('bench-reports');

/**
 * Writes the report of the environment's latest deployment as `bench-reports/<name>.html` and says
 * where; a report that cannot be written is said and the bench goes on (it measures, not reports).
 */
export async function saveReport(cwd: string, words: string[], name: string): Promise<string | undefined> {
  mkdirSync(reportsDir, { recursive: true });
  const out = join(reportsDir, `${name}.html`);
  const result = await runCli(cwd, ['report', ...words, '--out', out]);
  if (result.code === 0) return out;
  console.error(`no report of ${name}: ${result.stderr.trim().split('\n').at(-1) ?? ''}`);
  return undefined;
}

export function printReports(paths: (string | undefined)[]): void {
  const written = paths.filter((p): p is string => p !== undefined);
  if (written.length === 0) return;
  console.log(`\nreports of these runs (open in a browser):`);
  for (const path of written) console.log(`  ${relative(process.cwd(), path)}`);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = net.createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => done(port));
    });
  });
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = net.connect({ port, host: '127.0.0.1', timeout: 500 });
    const end = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.once('connect', () => end(true));
    socket.once('error', () => end(false));
    socket.once('timeout', () => end(false));
  });
}

async function waitListening(port: number, what: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await acceptsConnections(port))) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port}`);
    await sleep(50);
  }
}

let aptUpdated = false;

/** The path of `binary`, installing Debian package `pkg` with apt-get first if it is missing. */
export function ensureInstalled(binary: string, pkg: string): string {
  const find = () =>
    spawnSync('sh', ['-c', `command -v ${binary} || ls /usr/sbin/${binary} /usr/bin/${binary} 2>/dev/null`], {
      encoding: 'utf8',
    })
      .stdout.trim()
      .split('\n')[0] ?? '';
  const found = find();
  if (found) return found;
  console.error(`${binary} is missing: installing it with apt-get (Debian package ${pkg})`);
  if (!aptUpdated) spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  aptUpdated = true;
  const install = spawnSync('apt-get', ['install', '-y', '-qq', pkg], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const installed = find();
  if (install.status !== 0 || !installed) throw new Error(`could not install ${pkg} with apt-get`);
  return installed;
}

const hostPort = (url: string): string => new URL(url).host;

/** Starts nginx as a reverse proxy to `upstreams` on `port`, installing it from Debian's packages if missing. */
export async function startNginx(dir: string, port: number, upstreams: string[]): Promise<ChildProcess> {
  const nginx = ensureInstalled('nginx', 'nginx');
  const conf = `${dir}/nginx.conf`;
  writeFileSync(
    conf,
    `worker_processes auto;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  upstream fleet {
${upstreams.map((u) => `    server ${hostPort(u)};`).join('\n')}
    keepalive 128;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://fleet;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  );
  const child = spawn(nginx, ['-c', conf, '-p', dir], { stdio: 'inherit' });
  await waitListening(port, `nginx (see ${dir}/nginx-error.log)`, child);
  return child;
}

/**
 * Starts HAProxy as a reverse proxy to `upstreams` on `port` (round robin, keep-alive on both sides, which
 * is HAProxy's default HTTP mode), installing it from Debian's packages if missing. `nbthread` is left at
 * its default: one thread per CPU the process may run on (2 on a 2-core machine), like nginx's `auto`.
 */
export async function startHaproxy(dir: string, port: number, upstreams: string[]): Promise<ChildProcess> {
  const haproxy = ensureInstalled('haproxy', 'haproxy');
  const conf = `${dir}/haproxy.cfg`;
  writeFileSync(
    conf,
    `global
  maxconn 4096
  pidfile ${dir}/haproxy.pid
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend bench
  bind 127.0.0.1:${port}
  default_backend fleet
backend fleet
  balance roundrobin
  http-reuse safe
${upstreams.map((u, i) => `  server b${i} ${hostPort(u)}`).join('\n')}
`,
  );
  // -db: stay in the foreground, so the child is HAProxy itself and SIGTERM stops it.
  const child = spawn(haproxy, ['-db', '-f', conf], { stdio: 'inherit' });
  await waitListening(port, 'haproxy', child);
  return child;
}
