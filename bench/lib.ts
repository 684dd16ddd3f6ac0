import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import { acceptsConnections } from '../src/providers/local/processes.js';

/** Shared pieces of the benchmark scripts. They print numbers; they assert nothing. */

export const cli = resolve('bin/cutover.js');

export function runCli(
  cwd: string,
  args: string[],
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, env: { ...process.env, CI: 'true' } });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('close', (code) => done({ code, stderr, stdout }));
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export async function throughput(
  url: string,
  seconds: number,
  connections: number,
): Promise<autocannon.Result> {
  return autocannon({ url, connections, duration: seconds });
}

/** Starts nginx as a reverse proxy to `upstreams` on `port`, installing it from Debian's packages if missing. */
export async function startNginx(dir: string, port: number, upstreams: string[]): Promise<ChildProcess> {
  let found = spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx'], {
    encoding: 'utf8',
  }).stdout.trim();
  if (!found) {
    console.error('nginx is missing: installing it with apt-get (Debian package nginx-light or nginx)');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    const install = spawnSync('apt-get', ['install', '-y', '-qq', 'nginx'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (install.status !== 0) throw new Error('could not install nginx with apt-get');
    found = '/usr/sbin/nginx';
  }
  const conf = `${dir}/nginx.conf`;
  const { writeFileSync } = await import('node:fs');
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
${upstreams.map((u) => `    server ${u.replace(/^http:\/\//, '')};`).join('\n')}
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
  const child = spawn(found.split('\n')[0] as string, ['-c', conf, '-p', dir], { stdio: 'inherit' });
  const deadline = Date.now() + 10_000;
  while (!(await acceptsConnections(port))) {
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port}; see ${dir}/nginx-error.log`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}
