import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import net from 'node:net';

/** Process and port helpers for the local target's supervisor. */

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie answers kill(0) but will never serve again; Linux shows it as state Z.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * This machine as far as pids go. A hostname alone is shared by containers on one host and by cloned VMs
 * (all `ubuntu`), whose pids mean nothing here; the kernel's boot id and this process's pid namespace tell
 * them apart. Where /proc lacks them, the hostname is all there is.
 */
export function thisMachine(): string {
  machine ??= readMachine();
  return machine;
}
// None of it changes while the process runs.
let machine: string | undefined;

function readMachine(): string {
  const read = (what: () => string) => {
    try {
      return what().trim();
    } catch {
      return '';
    }
  };
  const boot = read(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'));
  const pids = read(() => readlinkSync('/proc/self/ns/pid'));
  return [hostname(), boot, pids].join(' ');
}

/**
 * Whether a lock holder's pid can be judged here: it was recorded on this machine. A record that names
 * only its host (written before machines were recorded) is judged by the host, as it was then.
 */
export function recordedHere(holder: { host: string; machine?: string | undefined }): boolean {
  return holder.machine !== undefined ? holder.machine === thisMachine() : holder.host === hostname();
}

/**
 * When the process `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat): together with
 * the pid an exact identity: two processes would share both only if the whole pid space wrapped within one
 * tick (10 ms). Undefined where /proc is missing (then the pid alone is all we can go by) or the process is
 * gone.
 */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses, so fields are counted from its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[22 - 3]);
  return Number.isSafeInteger(ticks) ? ticks : undefined;
}

/**
 * Whether `pid` is still the process that was recorded with `startTime`. A pid alone is never proof: once
 * its process exits, an unrelated one may get it. A record without a start time (written before they were
 * kept) or a system without /proc falls back to the pid alone.
 */
export function isSameProcess(pid: number, startTime: number | undefined): boolean {
  if (!isAlive(pid)) return false;
  if (startTime === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === startTime;
}

/**
 * Whether a different process now has the pid recorded with `startTime`. Unlike `!isSameProcess`, a pid no
 * process has is not "reused": signalling its process group still reaches members left by a leader that
 * exited, and the kernel does not hand a group's id to another process while the group exists.
 */
export function isPidReused(pid: number, startTime: number | undefined): boolean {
  if (startTime === undefined) return false;
  const now = processStartTime(pid);
  return now !== undefined && now !== startTime;
}

/**
 * A free port for a router or an instance, which binds it a moment later. Taken below Linux's ephemeral
 * range (32768–60999): a port the kernel hands out for bind(0) and takes back is soon the local port of
 * some outgoing connection (health checks, proxied requests), and the later bind then fails.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await bindable(port, host)) return port;
  }
}

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export function acceptsConnections(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** SIGTERM to the instance's process group, SIGKILL when it has not exited after `graceMs`. */
/** How long an instance has to finish its requests after SIGTERM before it is sent SIGKILL. */
export const stopGraceMs = 5000;

export async function stopProcessGroup(pid: number, graceMs: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  signal('SIGKILL');
}
