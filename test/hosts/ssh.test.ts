import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UserInputError } from '../../src/errors.js';
import {
  connectHost,
  HostError,
  type ConnectOptions,
  type HostSession,
} from '../../src/providers/hosts/ssh.js';
import { hostsEnvironment, type SshHostConfig } from '../../src/providers/hosts/config.js';
import { connections } from '../../src/providers/hosts/connections.js';
import { startLab, type Lab, type LabHost } from '../helpers/netlab.js';

/**
 * The SSH layer against real OpenSSH servers on the test network: h1 runs commands, h2 goes down, h3
 * refuses logins, h4 changes its host key. Each test puts its host back as it found it.
 */

let lab: Lab;
let h1: LabHost, h2: LabHost, h3: LabHost, h4: LabHost;
let session: HostSession;

beforeAll(async () => {
  lab = await startLab({ hosts: 4 });
  [h1, h2, h3, h4] = lab.hosts as [LabHost, LabHost, LabHost, LabHost];
  session = await connectHost(optionsFor(h1));
  // A lab starts in well under a second; on a loaded machine, with other labs being torn down, longer.
}, 60_000);

afterAll(async () => {
  await session?.close();
  await lab?.stop();
});

function optionsFor(host: LabHost, more: Partial<ConnectOptions> = {}): ConnectOptions {
  return {
    host: host.address,
    port: host.port,
    username: 'root',
    auth: { privateKey: lab.clientKey },
    knownHosts: lab.knownHostsFile,
    connectTimeoutMs: 3000,
    ...more,
  };
}

/** The HostError a promise rejects with, and how long it took. */
async function failure(promise: Promise<unknown>): Promise<{ error: HostError; ms: number }> {
  const started = Date.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof HostError)) throw new Error(`expected a HostError, got ${String(error)}`);
  return { error, ms: Date.now() - started };
}

function label(host: LabHost): string {
  return `${host.address}:${host.port}`;
}

function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

async function until(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a session on a reachable host', () => {
  it('runs a command and returns its exit status and both outputs', async () => {
    const result = await session.run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(result).toEqual({ code: 3, signal: null, stdout: 'out\n', stderr: 'err\n' });
    expect(await session.run(['id', '-un'])).toMatchObject({ code: 0, stdout: 'root\n' });
  });

  it('reports the exit status of commands that end at once, however their channel messages arrive', async () => {
    // A quick command's exit status can come in the same read as the channel's confirmation: it must
    // not be lost (it was, as "ended without an exit status", once logins stopped reading a slow ~/.bashrc).
    for (let round = 0; round < 10; round++) {
      // A few at once, well under sshd's MaxSessions (10), which counts channels still closing too.
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, i) => session.run(['sh', '-c', `exit ${i}`])),
      );
      expect(results.map((r) => r.code)).toEqual([0, 1, 2, 3]);
    }
    for (let i = 0; i < 20; i++) expect(await session.run(['true'])).toMatchObject({ code: 0, signal: null });
  });

  it('names the host and the fingerprint of the key it checked', () => {
    expect(session.host).toBe(label(h1));
    const pub = join(lab.dir, 'h1.pub');
    writeFileSync(pub, `${lab.hostKey(h1)}\n`);
    const expected = execFileSync('ssh-keygen', ['-lf', pub], { encoding: 'utf8' }).split(' ')[1];
    expect(session.hostKeyFingerprint).toBe(expected);
  });

  it('passes every argument literally: no expansion, substitution, splitting or command separator', async () => {
    const marker = join(h1.root, 'injected');
    const args = [
      'two words',
      "it's",
      '"double"',
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `; touch ${marker}`,
      `&& touch ${marker} ||`,
      'line one\nline two',
      '$HOME ~ * ?',
      'back\\slash',
      "'; touch " + marker + "; '",
      '',
      '-n',
      `> ${join(h1.root, 'redirected')}`,
    ];
    const result = await session.run(['printf', '%s\\n', ...args]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(args.map((arg) => `${arg}\n`).join(''));
    expect(existsSync(marker)).toBe(false);
    expect(readdirSync(h1.root)).not.toContain('redirected');
  });

  it('writes stdin to the command and closes it; without stdin the command reads end of file', async () => {
    expect(await session.run(['cat'], { stdin: 'line 1\nline 2\n' })).toMatchObject({
      code: 0,
      stdout: 'line 1\nline 2\n',
    });
    expect(
      await session.run(['wc', '-c'], { stdin: Buffer.alloc(100_000, 1), timeoutMs: 5000 }),
    ).toMatchObject({
      stdout: '100000\n',
    });
    expect(await session.run(['cat'], { timeoutMs: 5000 })).toMatchObject({ code: 0, stdout: '' });
  });

  it('runs several commands at once on one connection', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => session.run(['sh', '-c', `sleep 0.2; echo ${n}`])),
    );
    expect(results.map((r) => r.stdout)).toEqual(['1\n', '2\n', '3\n', '4\n', '5\n']);
  });

  it('uploads a file over SFTP into folders it creates, and replaces a file whole', async () => {
    const local = join(lab.dir, 'artifact.bin');
    const content = randomBytes(300_000); // several SFTP chunks
    writeFileSync(local, content);
    const remote = join(h1.root, 'releases', 'v1', 'artifact.bin');
    await session.upload(local, remote, { mode: 0o640 });
    expect(readFileSync(remote).equals(content)).toBe(true);
    expect(statSync(remote).mode & 0o777).toBe(0o640);
    const digest = await session.run(['sha256sum', remote]);
    expect(digest.stdout.split(' ')[0]).toBe(
      execFileSync('sha256sum', [local], { encoding: 'utf8' }).split(' ')[0],
    );

    writeFileSync(local, 'second version\n');
    await session.upload(local, remote);
    expect(readFileSync(remote, 'utf8')).toBe('second version\n');
    expect(readdirSync(join(h1.root, 'releases', 'v1'))).toEqual(['artifact.bin']); // no partial file left
  });

  it('fails an upload with HOST_UPLOAD_FAILED naming both paths and the host', async () => {
    const missing = join(lab.dir, 'no-such-file');
    const remote = join(h1.root, 'x', 'target');
    const { error } = await failure(session.upload(missing, remote));
    expect(error.code).toBe('HOST_UPLOAD_FAILED');
    expect(error.message).toContain(missing);
    expect(error.message).toContain(remote);
    expect(error.message).toContain(label(h1));
    expect(readdirSync(join(h1.root, 'x'))).toEqual([]);
  });

  it('kills a command that runs past its timeout, children too, reports HOST_COMMAND_TIMEOUT, and stays usable', async () => {
    const pidFile = join(h1.root, 'sleeper.pid');
    const childFile = join(h1.root, 'child.pid');
    const { error, ms } = await failure(
      session.run(['sh', '-c', `echo $$ > ${pidFile}; sleep 30 & echo $! > ${childFile}; wait`], {
        timeoutMs: 400,
      }),
    );
    expect(error.code).toBe('HOST_COMMAND_TIMEOUT');
    expect(error.message).toContain(label(h1));
    expect(error.message).toContain('`sh`');
    expect(ms).toBeGreaterThanOrEqual(390);
    expect(ms).toBeLessThan(4000);
    // The process table is shared with the host: the command and its child were killed there, not only
    // our channel closed.
    const pids = [pidFile, childFile].map((file) => Number(readFileSync(file, 'utf8')));
    await until('the timed-out command and its child to die', () => pids.every(gone));
    expect(await session.run(['true'])).toMatchObject({ code: 0 });
  });

  it('kills a command when its signal aborts, rejecting with the reason', async () => {
    const pidFile = join(h1.root, 'aborted.pid');
    const controller = new AbortController();
    const running = session.run(['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], {
      signal: controller.signal,
    });
    await until(
      'the command to start',
      () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'),
    );
    const reason = new Error('deploy aborted');
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await until('the aborted command to die', () => gone(pid));
  });

  it('kills the commands still running when the session closes', async () => {
    const other = await connectHost(optionsFor(h1));
    const pidFile = join(h1.root, 'closed.pid');
    const running = other.run(['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`]);
    await until(
      'the command to start',
      () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'),
    );
    const outcome = failure(running);
    await other.close();
    const { error } = await outcome;
    expect(error.code).toBe('HOST_CONNECTION_LOST');
    expect(error.message).toContain('closed');
    await until('the command to die', () => gone(Number(readFileSync(pidFile, 'utf8'))));
    await expect(other.run(['true'])).rejects.toMatchObject({ code: 'HOST_CONNECTION_LOST' });
  });

  it('refuses an empty command before sending anything', async () => {
    await expect(session.run([])).rejects.toBeInstanceOf(UserInputError);
  });
});

describe('connecting', () => {
  it('accepts the hashed known_hosts entries that ssh-keygen -H writes', async () => {
    const hashed = join(lab.dir, 'known_hosts.hashed');
    copyFileSync(lab.knownHostsFile, hashed);
    execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
    expect(readFileSync(hashed, 'utf8')).not.toContain(h2.address);
    const other = await connectHost(optionsFor(h2, { knownHosts: hashed }));
    try {
      expect(await other.run(['echo', 'hashed'])).toMatchObject({ stdout: 'hashed\n' });
    } finally {
      await other.close();
    }
  });

  it('logs in with a key held by ssh-agent', async () => {
    const socket = join(lab.dir, 'agent.sock');
    const keyFile = join(lab.dir, 'agent_key');
    writeFileSync(keyFile, lab.clientKey, { mode: 0o600 });
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      await until('ssh-agent to listen', () => existsSync(socket));
      execFileSync('ssh-add', [keyFile], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
      const viaAgent = await connectHost(optionsFor(h2, { auth: { agent: socket } }));
      expect(await viaAgent.run(['echo', 'agent'])).toMatchObject({ stdout: 'agent\n' });
      await viaAgent.close();
    } finally {
      agent.kill();
    }
  });

  it('fails with HOST_UNREACHABLE within the connect timeout when the host is down', async () => {
    await lab.linkDown(h2);
    try {
      const { error, ms } = await failure(connectHost(optionsFor(h2, { connectTimeoutMs: 600 })));
      expect(error.code).toBe('HOST_UNREACHABLE');
      expect(error.host).toBe(label(h2));
      expect(error.message).toContain(`\`${label(h2)}\``);
      expect(error.message).toContain('within 600ms');
      expect(error.hint).toBeTruthy();
      expect(ms).toBeGreaterThanOrEqual(590);
      expect(ms).toBeLessThan(2500);

      // A caller that gives up meanwhile is not kept waiting for the connect timeout (3 s).
      const started = Date.now();
      await expect(connectHost(optionsFor(h2, { signal: AbortSignal.timeout(100) }))).rejects.toMatchObject({
        name: 'TimeoutError',
      });
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await lab.linkUp(h2);
    }
  });

  it('fails with HOST_UNREACHABLE at once when no sshd listens', async () => {
    await lab.stopSsh(h2);
    try {
      const { error, ms } = await failure(connectHost(optionsFor(h2, { connectTimeoutMs: 10_000 })));
      expect(error.code).toBe('HOST_UNREACHABLE');
      expect(error.message).toContain(`\`${label(h2)}\``);
      expect(error.message).toContain('connection refused');
      expect(ms).toBeLessThan(3000);
    } finally {
      await lab.startSsh(h2);
    }
  });

  it('fails with HOST_AUTH_REFUSED when the host does not take the key, and never shows the key', async () => {
    lab.refuseLogins(h3);
    try {
      const { error } = await failure(connectHost(optionsFor(h3)));
      expect(error.code).toBe('HOST_AUTH_REFUSED');
      expect(error.message).toContain(`\`${label(h3)}\``);
      expect(error.hint).toContain('authorized_keys');
      const keyBody = lab.clientKey.split('\n')[1] as string;
      expect(`${error.message} ${error.hint}`).not.toContain(keyBody.slice(0, 20));
    } finally {
      lab.allowLogins(h3);
    }
    // Back as it was: the same key logs in again.
    const again = await connectHost(optionsFor(h3));
    await again.close();
  });

  it('fails with HOST_KEY_MISMATCH before logging in when the host key changed', async () => {
    const before = await connectHost(optionsFor(h4));
    await before.close();
    await lab.changeHostKey(h4);
    const marker = join(h4.root, 'ran');
    const { error } = await failure(connectHost(optionsFor(h4)).then((s) => s.run(['touch', marker])));
    expect(error.code).toBe('HOST_KEY_MISMATCH');
    expect(error.message).toContain(`\`${label(h4)}\``);
    expect(error.message).toContain(lab.knownHostsFile);
    expect(error.hint).toContain(`ssh-keygen -R '${h4.address}' -f ${lab.knownHostsFile}`);
    const pub = join(lab.dir, 'h4.pub');
    writeFileSync(pub, `${lab.hostKey(h4)}\n`);
    const fingerprint = execFileSync('ssh-keygen', ['-lf', pub], { encoding: 'utf8' }).split(
      ' ',
    )[1] as string;
    expect(error.message).toContain(fingerprint);
    expect(existsSync(marker)).toBe(false);
  });

  it('fails with HOST_KEY_UNKNOWN when known_hosts does not list the host, saying how to add it', async () => {
    const partial = join(lab.dir, 'known_hosts.h1');
    writeFileSync(partial, readFileSync(lab.knownHostsFile, 'utf8').split('\n')[0] + '\n');
    const marker = join(h3.root, 'ran');
    const { error } = await failure(
      connectHost(optionsFor(h3, { knownHosts: partial })).then((s) => s.run(['touch', marker])),
    );
    expect(error.code).toBe('HOST_KEY_UNKNOWN');
    expect(error.message).toContain(`\`${label(h3)}\``);
    expect(error.hint).toContain(`ssh-keyscan -p 22 ${h3.address} >> ${partial}`);
    expect(existsSync(marker)).toBe(false);

    const missingFile = join(lab.dir, 'no_known_hosts');
    const { error: none } = await failure(connectHost(optionsFor(h3, { knownHosts: missingFile })));
    expect(none.code).toBe('HOST_KEY_UNKNOWN');
    expect(none.hint).toContain(missingFile);
  });

  it('reads a key encrypted with a passphrase, and says so without echoing either when it is missing', async () => {
    const keyFile = join(lab.dir, 'encrypted_key');
    const passphrase = 'pass-phrase-5813';
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-a', '2', '-N', passphrase, '-f', keyFile]);
    const privateKey = readFileSync(keyFile, 'utf8');
    // Read with its passphrase, the key is offered to the host, which does not list it.
    const { error: refused } = await failure(
      connectHost(optionsFor(h3, { auth: { privateKey, passphrase } })),
    );
    expect(refused.code).toBe('HOST_AUTH_REFUSED');
    for (const wrong of [undefined, 'wrong-phrase-2718']) {
      const error = await connectHost(
        optionsFor(h3, { auth: wrong === undefined ? { privateKey } : { privateKey, passphrase: wrong } }),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserInputError);
      expect((error as UserInputError).code).toBe('SSH_KEY_INVALID');
      expect((error as Error).message).toContain('passphrase is missing or wrong');
      const shown = JSON.stringify([(error as Error).message, (error as UserInputError).hint]);
      expect(shown).not.toContain('2718');
      expect(shown).not.toContain(privateKey.split('\n')[1]?.slice(0, 20));
    }
  });

  it('refuses a key it cannot read without echoing it', async () => {
    const secret = 'NOT-A-KEY-but-secret-material-4711';
    const error = await connectHost(optionsFor(h1, { auth: { privateKey: secret } })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).code).toBe('SSH_KEY_INVALID');
    expect(JSON.stringify([(error as Error).message, (error as UserInputError).hint])).not.toContain('4711');
  });

  it('closes a session whose host went silent within its grace period, leaving no socket that holds the process', async () => {
    // Node's own list of what keeps the process alive; the sockets to h2 are this test's.
    const toH2 = () =>
      (process as unknown as { _getActiveHandles(): unknown[] })
        ._getActiveHandles()
        .filter((h) => h instanceof Socket && h.remoteAddress === h2.address).length;
    const silent = await connectHost(optionsFor(h2));
    expect(toH2()).toBe(1);
    await lab.linkDown(h2);
    try {
      await silent.close();
      // The socket's handle goes a tick after it is destroyed; TCP itself would hold it for minutes.
      await until('the socket to h2 to be released', () => toH2() === 0, 1000);
    } finally {
      await lab.linkUp(h2);
    }
  });

  it('closes the sessions of a command at once on close, cancelling the idle close that would hold the process', async () => {
    const env = hostsEnvironment.parse({
      target: 'hosts',
      hosts: [{ address: h1.address, port: h1.port }],
      ssh: { user: 'root', key: lab.clientKey, knownHosts: lab.knownHostsFile },
      slots: [8001, 8002],
      haproxy: { host: { address: h1.address }, backend: 'b' },
    });
    const pool = connections(env);
    // The pool's idle close is its only timer of that delay; each one armed must be cancelled.
    const armed: unknown[] = [];
    const cancelled = new Set<unknown>();
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    const set = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const timer = realSet(fn, ms);
      if (ms === 1500) armed.push(timer);
      return timer;
    }) as typeof setTimeout);
    const clear = vi.spyOn(globalThis, 'clearTimeout').mockImplementation((timer) => {
      cancelled.add(timer);
      return realClear(timer);
    });
    try {
      await pool.using(async () => (await pool.to(env.hosts[0] as SshHostConfig)).run(['true']));
      expect(armed.length).toBeGreaterThan(0);
      await pool.close();
      expect(armed.filter((t) => !cancelled.has(t))).toEqual([]);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });

  it('fails a command on a host gone silent with HOST_CONNECTION_LOST within a few of its connect timeouts, not a minute', async () => {
    const silent = await connectHost(optionsFor(h2, { connectTimeoutMs: 1000 }));
    await lab.linkDown(h2);
    try {
      const { error } = await failure(silent.run(['sleep', '30']));
      expect(error.code).toBe('HOST_CONNECTION_LOST');
      expect(error.message).toContain(`\`${label(h2)}\``);
    } finally {
      await silent.close();
      await lab.linkUp(h2);
    }
  });

  it('fails the running command and the next ones with HOST_CONNECTION_LOST when the connection drops', async () => {
    const other = await connectHost(optionsFor(h1));
    const pidFile = join(h1.root, 'session.pid');
    // $PPID of the command is its session's sshd process; killing it cuts the connection.
    const running = other.run(['sh', '-c', `echo $PPID > ${pidFile}; exec sleep 30`]);
    await until(
      'the command to start',
      () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'),
    );
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    const { error } = await failure(running);
    expect(error.code).toBe('HOST_CONNECTION_LOST');
    expect(error.message).toContain(`\`${label(h1)}\``);
    const { error: next } = await failure(other.run(['true']));
    expect(next.code).toBe('HOST_CONNECTION_LOST');
    await other.close();
  });
});
