import { execFile, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * A test network of real hosts on this machine: a Linux bridge, and for each host a network namespace
 * with a veth into the bridge, its own address and its own OpenSSH server (Debian's /usr/sbin/sshd, its
 * own config, host key and authorized_keys). The root namespace has an address on the bridge too, so a
 * test reaches every host at its address; the namespaces have no other link and no default route, so
 * nothing leaves the lab.
 *
 * Namespaces share the disk and the process table with the test: each host gets a folder of its own
 * (`root`) for what a target would keep on its disk. Logins are as root (the test's own user), by the
 * lab's client key only, with HOME set to an empty folder of the host's (sshd's SetEnv), so that no
 * login reads the real ~/.bashrc.
 *
 * Each lab claims a number (1 to 254) with an atomic mkdir under /run/cutover-netlab, so that vitest
 * workers and other worktrees running labs at the same time never collide; names and addresses follow
 * from it: bridge `ctbr<n>`, veths `ct<n>v<i>` (≤ 15 characters), namespaces `ctlab<n>-h<i>`, addresses
 * 10.231.<n>.1 (this machine) and 10.231.<n>.<10+i> (host i). A lab whose process died without
 * stopping it (SIGKILL) is torn down by the next lab that starts. Needs root, ip (iproute2), ssh-keygen
 * and sshd (.ci/run installs them).
 */

export interface LabHost {
  /** `h1`, `h2`, … */
  name: string;
  address: string;
  port: number;
  /** This host's own folder on the shared disk. */
  root: string;
  /** Its network namespace, for `ip netns exec`. */
  ns: string;
}

export interface Lab {
  hosts: LabHost[];
  /** The private key (OpenSSH format) every host's root login accepts. */
  clientKey: string;
  clientPublicKey: string;
  /** A known_hosts file with every host's key, plain (unhashed) names. */
  knownHostsFile: string;
  /** This machine's address on the lab network. */
  gateway: string;
  /** The lab's own folder, under which each host's folder lies; gone after `stop`. */
  dir: string;
  /** Stops the host's sshd: connections are then refused (sessions already open go on). */
  stopSsh(host: LabHost): Promise<void>;
  startSsh(host: LabHost): Promise<void>;
  /** Takes the host's link down: packets to it are dropped, connections time out. */
  linkDown(host: LabHost): Promise<void>;
  linkUp(host: LabHost): Promise<void>;
  /** Empties the host's authorized_keys: its sshd then refuses the client key. */
  refuseLogins(host: LabHost): void;
  allowLogins(host: LabHost): void;
  /** Gives the host a new host key and restarts its sshd; knownHostsFile keeps the old key. */
  changeHostKey(host: LabHost): Promise<void>;
  /** The host's current public host key line (`ssh-ed25519 AAAA…`). */
  hostKey(host: LabHost): string;
  /** Starts a process inside the host's namespace; `stop` kills it if it still runs. */
  spawnIn(host: LabHost, argv: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Kills every process in the lab's namespaces, deletes them, the veths and the bridge, and the folder. */
  stop(): Promise<void>;
}

const LOCKS = '/run/cutover-netlab';
const SSHD = '/usr/sbin/sshd';
const run = promisify(execFile);
let counter = 0;

async function ip(...args: string[]): Promise<void> {
  try {
    await run('ip', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`ip ${args.join(' ')} failed: ${stderr || (error as Error).message}`, { cause: error });
  }
}

async function keygen(path: string, comment: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
}

export async function startLab(options: { hosts: number }): Promise<Lab> {
  if (!(options.hosts >= 1 && options.hosts <= 200)) throw new Error('a lab has 1 to 200 hosts');
  if (process.getuid?.() !== 0) throw new Error('the network lab needs root (ip netns, bridges)');
  for (const tool of [SSHD, '/usr/bin/ssh-keygen']) {
    if (!existsSync(tool)) throw new Error(`the network lab needs ${tool}: apt-get install openssh-server`);
  }
  reapOrphanedLabs();
  const dir = mkdtempSync(join(tmpdir(), 'cutover-lab-'));
  const n = claimLabNumber(dir);
  const bridge = `ctbr${n}`;
  const hosts: LabHost[] = Array.from({ length: options.hosts }, (_, index) => ({
    name: `h${index + 1}`,
    address: `10.231.${n}.${11 + index}`,
    port: 22,
    root: join(dir, `h${index + 1}`, 'root'),
    ns: `ctlab${n}-h${index + 1}`,
  }));
  const sshds = new Map<string, ChildProcess>();
  const spawned = new Set<ChildProcess>();
  let stopped = false;
  const teardown = () => destroyLab(n, dir);
  process.on('exit', teardown);

  const folder = (host: LabHost) => join(dir, host.name);
  const authorizedKeys = (host: LabHost) => join(folder(host), 'authorized_keys');
  const hostKeyPath = (host: LabHost) => join(folder(host), 'ssh_host_ed25519_key');

  const startSsh = async (host: LabHost) => {
    if (sshds.has(host.name)) throw new Error(`${host.name}'s sshd runs already`);
    const child = spawn(
      'ip',
      ['netns', 'exec', host.ns, SSHD, '-D', '-e', '-f', join(folder(host), 'sshd_config')],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    sshds.set(host.name, child);
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${host.name}'s sshd did not listen within 5 s:\n${log}`)),
        5000,
      );
      child.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.length > 65_536) log = log.slice(-32_768);
        if (log.includes('Server listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        sshds.delete(host.name);
        reject(new Error(`${host.name}'s sshd exited (${code ?? signal}) while starting:\n${log}`));
      });
    });
    child.removeAllListeners('exit');
    child.once('exit', () => sshds.delete(host.name));
  };

  const stopSsh = async (host: LabHost) => {
    const child = sshds.get(host.name);
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };

  try {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation folder
    const clientKeyPath = join(dir, 'client_key');
    await keygen(clientKeyPath, 'cutover-lab-client');
    const clientPublicKey = readFileSync(`${clientKeyPath}.pub`, 'utf8').trim();
    await ip('link', 'add', bridge, 'type', 'bridge');
    await ip('addr', 'add', `10.231.${n}.1/24`, 'dev', bridge);
    await ip('link', 'set', bridge, 'up');
    await Promise.all(
      hosts.map(async (host, index) => {
        const veth = `ct${n}v${index + 1}`;
        const peer = `ct${n}p${index + 1}`;
        mkdirSync(host.root, { recursive: true, mode: 0o755 });
        await ip('netns', 'add', host.ns);
        await ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', peer);
        await ip('link', 'set', peer, 'netns', host.ns);
        await ip('link', 'set', veth, 'master', bridge, 'up');
        await ip('-n', host.ns, 'link', 'set', peer, 'name', 'eth0');
        await ip('-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0');
        await ip('-n', host.ns, 'link', 'set', 'eth0', 'up');
        await ip('-n', host.ns, 'link', 'set', 'lo', 'up');
        await keygen(hostKeyPath(host), `cutover-lab-${host.name}`);
        writeFileSync(authorizedKeys(host), `${clientPublicKey}\n`);
        mkdirSync(join(folder(host), 'home'), { mode: 0o700 });
        writeFileSync(join(folder(host), 'sshd_config'), sshdConfig(host, folder(host)));
        await startSsh(host);
      }),
    );
    const hostKey = (host: LabHost) =>
      readFileSync(`${hostKeyPath(host)}.pub`, 'utf8')
        .split(' ')
        .slice(0, 2)
        .join(' ');
    const knownHostsFile = join(dir, 'known_hosts');
    writeFileSync(knownHostsFile, hosts.map((host) => `${host.address} ${hostKey(host)}\n`).join(''));

    return {
      hosts,
      clientKey: readFileSync(clientKeyPath, 'utf8'),
      clientPublicKey,
      knownHostsFile,
      gateway: `10.231.${n}.1`,
      dir,
      stopSsh,
      startSsh,
      linkDown: (host) => ip('-n', host.ns, 'link', 'set', 'eth0', 'down'),
      linkUp: async (host) => {
        await ip('-n', host.ns, 'link', 'set', 'eth0', 'up');
        // Forget the failed lookups of while it was down, which would hold the next packet for a second.
        await ip('neigh', 'flush', 'to', host.address);
      },
      refuseLogins: (host) => writeFileSync(authorizedKeys(host), ''),
      allowLogins: (host) => writeFileSync(authorizedKeys(host), `${clientPublicKey}\n`),
      changeHostKey: async (host) => {
        await stopSsh(host);
        rmSync(hostKeyPath(host));
        rmSync(`${hostKeyPath(host)}.pub`);
        await keygen(hostKeyPath(host), `cutover-lab-${host.name}-new`);
        await startSsh(host);
      },
      hostKey,
      spawnIn: (host, argv, spawnOptions = {}) => {
        const child = spawn('ip', ['netns', 'exec', host.ns, ...argv], spawnOptions);
        spawned.add(child);
        child.once('exit', () => spawned.delete(child));
        return child;
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        const children = [...sshds.values(), ...spawned].filter(
          (c) => c.exitCode === null && c.signalCode === null,
        );
        const exits = children.map((c) => new Promise((resolve) => c.once('exit', resolve)));
        const survivors = teardown();
        process.removeListener('exit', teardown);
        if (survivors.length > 0)
          throw new Error(`lab ${n}: processes ${survivors.join(', ')} would not die`);
        // Every process in the namespaces is gone by now; wait for node to reap its own children.
        await Promise.all(exits);
      },
    };
  } catch (error) {
    stopped = true;
    teardown();
    process.removeListener('exit', teardown);
    throw error;
  }
}

function sshdConfig(host: LabHost, folder: string): string {
  return [
    `ListenAddress ${host.address}:${host.port}`,
    `HostKey ${join(folder, 'ssh_host_ed25519_key')}`,
    `PidFile ${join(folder, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(folder, 'authorized_keys')}`,
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    // The lab's folders are under /tmp, which every user can write: StrictModes would refuse them.
    'StrictModes no',
    'Subsystem sftp internal-sftp',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    // Root's real home runs a heavy ~/.bashrc (pyenv, cargo), which Debian's bash reads for every SSH
    // command (even non-interactive): ~200 ms a command on a busy machine, against ~40 ms without.
    // The lab's logins get a home of their own, empty, as a plain deploy user's would be.
    `SetEnv HOME=${join(folder, 'home')}`,
    '',
  ].join('\n');
}

/**
 * Claims the first free lab number from a start that differs between processes and between labs of one
 * process. A number is free when its lock folder can be made and no address on this machine is in its
 * subnet (someone else's network). The lock says who owns the lab and where its folder is.
 */
function claimLabNumber(dir: string): number {
  mkdirSync(LOCKS, { recursive: true });
  const inUse = spawnSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' }).stdout;
  const start = (process.pid * 7 + counter++ * 13) % 254;
  for (let step = 0; step < 254; step++) {
    const n = ((start + step) % 254) + 1;
    if (inUse.includes(` 10.231.${n}.`)) continue;
    try {
      mkdirSync(join(LOCKS, String(n)));
    } catch {
      continue;
    }
    writeFileSync(join(LOCKS, String(n), 'owner.json'), JSON.stringify({ pid: process.pid, dir }));
    return n;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`no free lab number: see ${LOCKS}`);
}

/**
 * Tears down the labs whose process died without stopping them (a worker killed on a timeout). The lock
 * stays in place while it does, so no new lab takes the number meanwhile; an exclusive `reaping` file
 * keeps two reapers apart.
 */
function reapOrphanedLabs(): void {
  if (!existsSync(LOCKS)) return;
  for (const entry of readdirSync(LOCKS)) {
    if (!/^\d+$/.test(entry)) continue;
    const lock = join(LOCKS, entry);
    let owner: { pid: number; dir?: string };
    try {
      owner = JSON.parse(readFileSync(join(lock, 'owner.json'), 'utf8')) as typeof owner;
    } catch {
      // Its owner is between mkdir and writing owner.json, or died there.
      try {
        if (Date.now() - statSync(lock).mtimeMs < 60_000) continue;
      } catch {
        continue;
      }
      owner = { pid: 0 };
    }
    if (owner.pid !== 0 && alive(owner.pid)) continue;
    const reaping = join(lock, 'reaping');
    try {
      writeFileSync(reaping, String(process.pid), { flag: 'wx' });
    } catch {
      // Another reaper is at it; if it died there, the next lab to start takes over.
      try {
        const reaper = Number(readFileSync(reaping, 'utf8'));
        if (reaper > 0 && !alive(reaper)) rmSync(reaping, { force: true });
      } catch {
        // gone meanwhile
      }
      continue;
    }
    if (destroyLab(Number(entry), owner.dir).length > 0) rmSync(reaping, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Synchronous, so that it also runs from an 'exit' handler. Kills the namespaces' processes leaves
 * first, so that each is reaped by its own parent (sshd reaps its sessions) rather than left a zombie
 * under PID 1, then deletes the namespaces (and with them the veths), the bridge, the folder, the lock.
 */
function destroyLab(n: number, dir: string | undefined): number[] {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  const namespaces = listed
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => new RegExp(`^ctlab${n}-h\\d+$`).test(name));
  const deadline = Date.now() + 5000;
  for (let round = 0; ; round++) {
    const pids = namespaces.flatMap(namespacePids);
    if (pids.length === 0 || Date.now() > deadline) break;
    const parents = new Set(pids.map(parentOf));
    const leaves = pids.filter((pid) => !parents.has(pid));
    // Leaves first, so parents reap them; but a supervisor restarts its child as fast as it is killed,
    // so after a few rounds everything left is killed at once.
    for (const pid of leaves.length > 0 && round < 3 ? leaves : pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  // A namespace deleted under a live process would hide that process from every later look: keep
  // such a lab, lock and all, for the next lab to reap once this process is gone.
  const survivors = namespaces.flatMap(namespacePids);
  if (survivors.length > 0) return survivors;
  for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  spawnSync('ip', ['link', 'del', `ctbr${n}`], { stdio: 'ignore' });
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  rmSync(join(LOCKS, String(n)), { recursive: true, force: true });
  return [];
}

function namespacePids(ns: string): number[] {
  const out = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
  return (
    out
      .split('\n')
      .filter((line) => /^\d+$/.test(line))
      .map(Number)
      // A zombie is dead already: it waits only for its parent (PID 1 here, for the detached
      // supervisors a target starts, and slow to reap) and holds nothing of the namespace.
      .filter((pid) => stateOf(pid) !== 'Z')
  );
}

function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

function parentOf(pid: number): number {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}
