import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLab, type LabHost } from '../helpers/netlab.js';

/** The test network itself: real namespaces and sshd servers, and nothing left once it stops. */

function banner(host: LabHost, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: host.address, port: host.port, timeout: timeoutMs });
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error('timeout'));
    });
    socket.once('error', reject);
  });
}

function processesMentioning(text: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(text) && !/^\s*\d+\s+Z/.test(line));
}

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '');
}

function linkExists(name: string): boolean {
  return spawnSync('ip', ['link', 'show', name], { stdio: 'ignore' }).status === 0;
}

describe('network lab', () => {
  it('gives each host its own namespace, address and sshd, and removes everything on stop', async () => {
    const lab = await startLab({ hosts: 2 });
    const [h1, h2] = lab.hosts as [LabHost, LabHost];
    let stopped = false;
    try {
      expect(h1.address).not.toBe(h2.address);
      expect(await banner(h1)).toMatch(/^SSH-2\.0-OpenSSH/);
      expect(await banner(h2)).toMatch(/^SSH-2\.0-OpenSSH/);
      expect(namespaces()).toEqual(expect.arrayContaining([h1.ns, h2.ns]));
      expect(processesMentioning(lab.dir)).toHaveLength(2); // one sshd a host

      // A process started in a namespace sees that host's address and link, not this machine's.
      const child = lab.spawnIn(h1, ['ip', '-4', '-o', 'addr', 'show'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await new Promise((resolve) => child.once('close', resolve));
      expect(out).toContain(`inet ${h1.address}/24`);
      expect(out).not.toContain(`inet ${h2.address}/`);
      expect(out).not.toContain(`inet ${lab.gateway}/`);

      // Hosts reach each other over the bridge (HAProxy on one host, backends on the others).
      const probe = lab.spawnIn(h1, ['bash', '-c', `exec 3<>/dev/tcp/${h2.address}/22 && head -c 8 <&3`], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let greeting = '';
      probe.stdout?.on('data', (chunk: Buffer) => (greeting += chunk.toString()));
      await new Promise((resolve) => probe.once('close', resolve));
      expect(greeting).toBe('SSH-2.0-');

      const sleeper = lab.spawnIn(h2, ['sleep', '300'], { stdio: 'ignore' });
      await new Promise((resolve) => sleeper.once('spawn', resolve));
      expect(sleeper.pid).toBeGreaterThan(0);

      await lab.stop();
      stopped = true;
      expect(sleeper.exitCode !== null || sleeper.signalCode !== null).toBe(true);
      expect(existsSync(`/proc/${sleeper.pid}`) && !/\) Z /.test(procStat(sleeper.pid as number))).toBe(
        false,
      );
      expect(processesMentioning(lab.dir)).toEqual([]);
      expect(namespaces()).not.toContain(h1.ns);
      expect(namespaces()).not.toContain(h2.ns);
      expect(linkExists(`ctbr${h1.address.split('.')[2]}`)).toBe(false);
      expect(existsSync(lab.dir)).toBe(false);
      await expect(banner(h1, 500)).rejects.toThrow();
    } finally {
      if (!stopped) await lab.stop();
    }
  });
});

describe('a lab left behind', () => {
  it('is torn down by the next lab: its processes, namespace, bridge, folder and lock', async () => {
    // What a worker killed mid-test leaves: a lock naming a dead process, and its network still there.
    const dead = spawnSync('true').pid as number;
    let n = 254;
    while (spawnSync('mkdir', [`/run/cutover-netlab/${n}`], { stdio: 'ignore' }).status !== 0) n--;
    const dir = mkdtempSync(join(tmpdir(), 'cutover-orphan-'));
    writeFileSync(`/run/cutover-netlab/${n}/owner.json`, JSON.stringify({ pid: dead, dir }));
    execFileSync('ip', ['netns', 'add', `ctlab${n}-h1`]);
    execFileSync('ip', ['link', 'add', `ctbr${n}`, 'type', 'bridge']);
    mkdirSync(join(dir, 'h1'));
    const orphan = spawn('ip', ['netns', 'exec', `ctlab${n}-h1`, 'sleep', '300'], { stdio: 'ignore' });
    const orphanExit = new Promise((resolve) => orphan.once('exit', (_code, signal) => resolve(signal)));
    await new Promise((resolve) => setTimeout(resolve, 100)); // until ip netns exec has entered the namespace

    const lab = await startLab({ hosts: 1 });
    try {
      expect(await orphanExit).toBe('SIGKILL');
      expect(namespaces()).not.toContain(`ctlab${n}-h1`);
      expect(linkExists(`ctbr${n}`)).toBe(false);
      expect(existsSync(dir)).toBe(false);
      expect(existsSync(`/run/cutover-netlab/${n}`)).toBe(false);
    } finally {
      await lab.stop();
    }
  });
});

function procStat(pid: number): string {
  try {
    return execFileSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' });
  } catch {
    return '';
  }
}
