import { UserInputError } from '../../errors.js';
import { connectHost, type HostSession } from './ssh.js';
import { knownHostsPath } from './known-hosts.js';
import type { HostsEnvironmentConfig, SshHostConfig } from './config.js';

/**
 * The SSH sessions one command needs, opened on first use, all hosts at once. Sessions close once
 * nothing has used them for a moment, so a command's process can end, and reopen when needed again.
 */
export interface Connections {
  /** A session to one host. */
  to(host: SshHostConfig): Promise<HostSession>;
  /** Sessions to every app host, in config order; the first host that cannot be reached fails it, named. */
  all(): Promise<{ host: SshHostConfig; session: HostSession }[]>;
  /** Runs `work` holding the sessions open; they close after the last holder lets go. */
  using<T>(work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const idleCloseMs = 1500;

export function connections(env: HostsEnvironmentConfig, vars: NodeJS.ProcessEnv = process.env): Connections {
  const open = new Map<string, Promise<HostSession>>();
  let holders = 0;
  let idle: NodeJS.Timeout | undefined;
  const auth = () => {
    if (env.ssh.key) return { privateKey: env.ssh.key };
    const agent = vars.SSH_AUTH_SOCK;
    if (!agent) {
      // Nothing was tried: a missing key is the config's or the runner's, bad input (exit 2).
      throw new UserInputError(
        'SSH_KEY_MISSING',
        'no SSH key to log in with: `ssh.key` is empty and no ssh-agent runs (SSH_AUTH_SOCK is not set)',
        'set ssh.key to "${SSH_KEY:-}" with the private key in SSH_KEY, or start ssh-agent and add the key',
      );
    }
    return { agent };
  };
  const close = async () => {
    // A pending idle close would hold the process for its whole delay after the command ended.
    clearTimeout(idle);
    const sessions = [...open.values()];
    open.clear();
    await Promise.all(sessions.map((s) => s.then((x) => x.close()).catch(() => undefined)));
  };
  const to = (host: SshHostConfig): Promise<HostSession> => {
    const key = `${host.address}:${host.port}`;
    let session = open.get(key);
    if (!session) {
      session = connectHost({
        host: host.address,
        port: host.port,
        username: env.ssh.user,
        auth: auth(),
        knownHosts: env.ssh.checkHostKeys ? knownHostsPath(env.ssh.knownHosts) : false,
        connectTimeoutMs: env.ssh.connectTimeout,
      });
      open.set(key, session);
      // A failed connection is not kept: the next use tries again.
      session.catch(() => open.delete(key));
    }
    armIdle();
    return session;
  };
  const armIdle = () => {
    clearTimeout(idle);
    if (holders > 0) return;
    idle = setTimeout(() => void close(), idleCloseMs);
  };
  return {
    to,
    async all() {
      const sessions = await Promise.allSettled(env.hosts.map((host) => to(host)));
      const failed = sessions.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
      return env.hosts.map((host, i) => ({
        host,
        session: (sessions[i] as PromiseFulfilledResult<HostSession>).value,
      }));
    },
    async using(work) {
      holders += 1;
      clearTimeout(idle);
      try {
        return await work();
      } finally {
        holders -= 1;
        armIdle();
      }
    },
    close,
  };
}
