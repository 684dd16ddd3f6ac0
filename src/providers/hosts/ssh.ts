/**
 * The SSH layer of the hosts target: one session a host, over which commands run and files upload.
 *
 *     const session = await connectHost({
 *       host: '10.0.0.5', username: 'deploy',
 *       auth: { privateKey: keyFromTheEnvironment },          // or { agent: process.env.SSH_AUTH_SOCK }
 *       knownHosts: '/etc/cutover/known_hosts',               // ~/.ssh/known_hosts unless given
 *     });
 *     try {
 *       await session.upload('dist/app.tar.gz', '/srv/app/v42/app.tar.gz');
 *       const { code, stderr } = await session.run(
 *         ['tar', '-xzf', '/srv/app/v42/app.tar.gz', '-C', '/srv/app/v42'],   // each argument as it is
 *         { timeoutMs: 60_000, signal },                                     // killed on the host past it
 *       );
 *     } finally {
 *       await session.close();
 *     }
 *
 * Files: errors.ts (HostError and its codes), known-hosts.ts (known_hosts parsing and checking),
 * quote.ts (argv to a command line), command.ts (how a running command is killed), session.ts (run,
 * upload, close). What the remote side needs: sshd, a POSIX login shell for the user, `kill`, `mkdir`,
 * `mv` and `rm` on its PATH, and SFTP for uploads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2, { type ConnectConfig, type ServerHostKeyAlgorithm } from 'ssh2';

// ssh2 is CommonJS: Node's ESM loader gives its exports only as the default (vitest's loader hid this).
const { Client, utils } = ssh2;
import { formatDurationSetting } from '../../duration.js';
import { UserInputError } from '../../errors.js';
import { HostError, hostLabel } from './errors.js';
import {
  blobType,
  checkHostKey,
  fingerprint,
  keysFor,
  knownHostsName,
  parseKnownHosts,
  type HostKeyVerdict,
  type KnownHostEntry,
} from './known-hosts.js';
import { SshSession, type HostSession } from './session.js';

export { HostError, type HostErrorCode } from './errors.js';
export type { HostSession, RunOptions, RunResult } from './session.js';

/**
 * How to log in: a private key (OpenSSH or PEM text, as a deploy's environment hands it over, never a
 * path on a shared disk), or an ssh-agent's socket (`process.env.SSH_AUTH_SOCK`).
 */
export type HostAuth = { privateKey: string | Buffer; passphrase?: string } | { agent: string };

export interface ConnectOptions {
  /** Address or name of the host. */
  host: string;
  /** 22 unless given. */
  port?: number;
  username: string;
  auth: HostAuth;
  /**
   * The OpenSSH known_hosts file the host's key is checked against before anything is sent to it:
   * `~/.ssh/known_hosts` unless given. `false` turns the check off, for throwaway test hosts only.
   */
  knownHosts?: string | false;
  /** How long reaching the host and logging in may take before HOST_UNREACHABLE: 10 s unless given. */
  connectTimeoutMs?: number;
  /** Gives up connecting; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * The keepalive that finds a host gone silent while a command runs (a dead link sends no reset): the
 * connection is declared lost after 3 unanswered probes. They go half a connect timeout apart (at most
 * 15 s), so a host is given about as long to answer a session as to accept one: with the default 10 s,
 * a silent load balancer host fails a deploy's watch in about 20 s rather than a minute.
 */
const keepaliveIntervalMs = (connectTimeoutMs: number) =>
  Math.min(15_000, Math.max(1000, Math.round(connectTimeoutMs / 2)));
const KEEPALIVE_COUNT_MAX = 3;

/** What ssh2 calls the host key algorithms that can present a key of each type. */
const ALGORITHMS_BY_KEY_TYPE: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-dss': ['ssh-dss'],
};

/**
 * Opens an SSH session to a host, after checking its key against known_hosts: an unknown host fails
 * with HOST_KEY_UNKNOWN and a changed key with HOST_KEY_MISMATCH, both before logging in, so no command
 * can run on a host that is not the one meant. Other failures: HOST_UNREACHABLE, HOST_AUTH_REFUSED,
 * HOST_SSH_FAILED (see errors.ts); a bad option, key or known_hosts file is a UserInputError.
 */
export async function connectHost(options: ConnectOptions): Promise<HostSession> {
  const port = options.port ?? 22;
  const label = hostLabel(options.host, port);
  checkOptions(options, port, label);
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const knownHostsFile =
    options.knownHosts === false ? undefined : (options.knownHosts ?? defaultKnownHosts());
  const entries = knownHostsFile === undefined ? undefined : readKnownHosts(knownHostsFile);
  const name = knownHostsName(options.host, port);
  const auth = authConfig(options.auth, label);
  options.signal?.throwIfAborted();

  // Ask only for the key types known_hosts holds for this host, as OpenSSH does: otherwise a host
  // with several keys could present one the file does not list, and look changed when it is not.
  const knownTypes = entries === undefined ? [] : [...new Set(keysFor(entries, name).map((e) => e.keyType))];
  const serverHostKey = knownTypes.flatMap((type) => ALGORITHMS_BY_KEY_TYPE[type] ?? []);

  let offered: Buffer | undefined;
  let verdict: HostKeyVerdict | undefined;
  let handshaken = false;
  const client = new Client();
  // Our own socket, so that a close can drop it: ssh2's destroy() skips a socket that no longer
  // writes, and an ended socket to a host that has gone holds the process for TCP's whole timeout.
  let socket: Socket | undefined;
  const config: ConnectConfig = {
    host: options.host,
    port,
    username: options.username,
    ...auth,
    readyTimeout: timeoutMs,
    keepaliveInterval: keepaliveIntervalMs(timeoutMs),
    keepaliveCountMax: KEEPALIVE_COUNT_MAX,
    tryKeyboard: false,
    hostVerifier: (key: Buffer): boolean => {
      offered = key;
      if (entries === undefined) return true;
      verdict = checkHostKey(entries, name, key);
      return verdict.verdict === 'known';
    },
    ...(serverHostKey.length > 0 ? { algorithms: { serverHostKey } } : {}),
  };

  return new Promise<HostSession>((resolve, reject) => {
    const done = () => {
      client.removeListener('ready', onReady);
      client.removeListener('error', onError);
      client.removeListener('close', onClose);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: unknown) => {
      done();
      // Keep a listener: a late socket error on a dropped client must not crash the process.
      client.on('error', () => undefined);
      client.destroy();
      socket?.destroy();
      reject(error);
    };
    const onReady = () => {
      done();
      resolve(new SshSession(client, socket, label, offered ? fingerprint(offered) : 'unchecked'));
    };
    const onError = (error: Error & { level?: string; code?: string }) => {
      const context = { label, host: options.host, port, timeoutMs, knownHostsFile, knownTypes, handshaken };
      fail(connectFailure(error, verdict, offered, context));
    };
    const onClose = () =>
      fail(
        new HostError(
          'HOST_SSH_FAILED',
          label,
          `\`${label}\` closed the connection before the login finished`,
          "look at the host's sshd log (journalctl -u ssh) for why it hung up",
        ),
      );
    const onAbort = () => fail(options.signal?.reason);
    client.on('ready', onReady);
    client.on('error', onError);
    client.on('close', onClose);
    client.on('handshake', () => {
      handshaken = true;
    });
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket = tcpConnect({ host: options.host, port });
    client.connect({ ...config, sock: socket });
  });
}

function checkOptions(options: ConnectOptions, port: number, label: string): void {
  if (typeof options.host !== 'string' || options.host === '' || /[\s/]/.test(options.host)) {
    throw new UserInputError('OPTION_INVALID', `\`${String(options.host)}\` is not a host address or name`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UserInputError(
      'OPTION_INVALID',
      `the SSH port of \`${options.host}\` must be 1 to 65535, not \`${port}\``,
    );
  }
  if (typeof options.username !== 'string' || options.username === '') {
    throw new UserInputError('OPTION_INVALID', `the SSH user for \`${label}\` is missing`);
  }
  const timeout = options.connectTimeoutMs;
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
    throw new UserInputError(
      'OPTION_INVALID',
      `\`connectTimeoutMs\` must be a number above 0, not \`${timeout}\``,
    );
  }
}

function defaultKnownHosts(): string {
  return join(homedir(), '.ssh', 'known_hosts');
}

/** A file that is not there holds no host: every host is then unknown, and the hint says how to add it. */
function readKnownHosts(file: string): KnownHostEntry[] {
  try {
    return parseKnownHosts(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UserInputError(
      'KNOWN_HOSTS_UNREADABLE',
      `the known_hosts file \`${file}\` cannot be read: ${(error as Error).message}`,
      'give a known_hosts file the deploy can read',
      { cause: error },
    );
  }
}

/** ssh2's auth settings, after checking the key here so that its errors never echo key material. */
function authConfig(
  auth: HostAuth,
  label: string,
): Pick<ConnectConfig, 'privateKey' | 'passphrase' | 'agent'> {
  if ('agent' in auth) {
    if (typeof auth.agent !== 'string' || auth.agent === '' || !existsSync(auth.agent)) {
      throw new UserInputError(
        'SSH_AGENT_MISSING',
        `no ssh-agent socket at \`${String(auth.agent)}\` to log in to \`${label}\` with`,
        'start ssh-agent and add the key (ssh-add), or give the private key instead',
      );
    }
    return { agent: auth.agent };
  }
  const parsed = utils.parseKey(auth.privateKey, auth.passphrase);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key instanceof Error || key === undefined || key.getPrivatePEM() === null) {
    const why =
      key instanceof Error && /passphrase|decrypt/i.test(key.message)
        ? 'it is encrypted, and its passphrase is missing or wrong'
        : 'it is not a private key in a format ssh2 reads (OpenSSH or PEM)';
    throw new UserInputError(
      'SSH_KEY_INVALID',
      `the private key given to log in to \`${label}\` cannot be used: ${why}`,
      'pass the whole private key file, as `ssh-keygen` wrote it, and its passphrase if it has one',
    );
  }
  return {
    privateKey: auth.privateKey,
    ...(auth.passphrase === undefined ? {} : { passphrase: auth.passphrase }),
  };
}

interface FailureContext {
  label: string;
  host: string;
  port: number;
  timeoutMs: number;
  knownHostsFile: string | undefined;
  knownTypes: string[];
  handshaken: boolean;
}

function connectFailure(
  error: Error & { level?: string; code?: string },
  verdict: HostKeyVerdict | undefined,
  offered: Buffer | undefined,
  context: FailureContext,
): HostError {
  const { label, timeoutMs, knownHostsFile: file } = context;
  const unreachable = (why: string, hint: string) =>
    new HostError('HOST_UNREACHABLE', label, `\`${label}\` is unreachable: ${why}`, hint, { cause: error });

  if (verdict && verdict.verdict !== 'known' && offered && file !== undefined) {
    return keyRefused(verdict, offered, context, file, error);
  }
  if (
    error.level === 'handshake' &&
    context.knownTypes.length > 0 &&
    file !== undefined &&
    /host key/i.test(error.message)
  ) {
    return new HostError(
      'HOST_KEY_MISMATCH',
      label,
      `\`${label}\` offers no key of the types known_hosts (\`${file}\`) holds for it (${context.knownTypes.join(', ')}): cutover did not log in`,
      `if its keys were changed on purpose, check the new fingerprint with the host's owner, then replace the entry: ${replaceCommands(context, file)}`,
      { cause: error },
    );
  }
  if (error.level === 'client-authentication') {
    return new HostError(
      'HOST_AUTH_REFUSED',
      label,
      `\`${label}\` refused the login: it accepts none of the keys offered`,
      "add the deploy key's public half to the SSH user's ~/.ssh/authorized_keys on the host, and check that sshd lets that user log in by key",
      { cause: error },
    );
  }
  if (error.level === 'client-timeout') {
    return context.handshaken
      ? unreachable(
          `the SSH login did not finish within ${formatDurationSetting(timeoutMs)}`,
          'check that the host is not overloaded, or allow a longer connect timeout',
        )
      : unreachable(
          `no SSH server answered within ${formatDurationSetting(timeoutMs)}`,
          `check that the host is up, that the address is right, and that no firewall drops port ${context.port}`,
        );
  }
  if (error.level === 'client-socket') {
    switch (error.code) {
      case 'ECONNREFUSED':
        return unreachable(
          `nothing listens on port ${context.port} (connection refused)`,
          `check that sshd runs on the host and listens on port ${context.port}`,
        );
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return unreachable('no route to it', 'check that the host is up and that the address is right');
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return unreachable(
          `the name \`${context.host}\` does not resolve`,
          'check the host name, or give its address',
        );
      default:
        return unreachable(error.message, 'check that the host is up and that sshd runs on it');
    }
  }
  return new HostError(
    'HOST_SSH_FAILED',
    label,
    `SSH to \`${label}\` failed: ${error.message}`,
    "look at the host's sshd log (journalctl -u ssh) for why",
    { cause: error },
  );
}

function keyRefused(
  verdict: Exclude<HostKeyVerdict, { verdict: 'known' }>,
  offered: Buffer,
  context: FailureContext,
  file: string,
  cause: Error,
): HostError {
  const { label } = context;
  const key = `${blobType(offered) ?? 'unknown type'} key ${fingerprint(offered)}`;
  const check = `check ${fingerprint(offered)} with the host's owner (on the host: \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\`)`;
  switch (verdict.verdict) {
    case 'unknown':
      return new HostError(
        'HOST_KEY_UNKNOWN',
        label,
        `\`${label}\` is not in known_hosts (\`${file}\`), so its ${key} cannot be checked: cutover did not log in`,
        `${check}, then add it: \`ssh-keyscan -p ${context.port} ${context.host} >> ${file}\``,
        { cause },
      );
    case 'revoked':
      return new HostError(
        'HOST_KEY_MISMATCH',
        label,
        `\`${label}\` offered the ${key}, which known_hosts (\`${file}\` line ${verdict.entry.line}) marks @revoked: cutover did not log in`,
        'give the host a new key, then replace its known_hosts entry',
        { cause },
      );
    case 'mismatch':
      return new HostError(
        'HOST_KEY_MISMATCH',
        label,
        `\`${label}\` offered the ${key}, not the key known_hosts (\`${file}\` line ${verdict.expected.map((e) => e.line).join(', ')}) holds for it: cutover did not log in`,
        `if the host's key was changed on purpose (reinstalled, rotated), ${check}, then replace the entry: ${replaceCommands(context, file)}; if not, someone may be in the middle: do not go on`,
        { cause },
      );
  }
}

function replaceCommands(context: FailureContext, file: string): string {
  const name = knownHostsName(context.host, context.port);
  return `\`ssh-keygen -R '${name}' -f ${file}\` and \`ssh-keyscan -p ${context.port} ${context.host} >> ${file}\``;
}
